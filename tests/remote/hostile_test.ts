/**
 * A hostile remote: a pack index that is whole and named by its hash but lies about where its
 * objects are (a length of a terabyte, a negative offset, a fractional length). Clone and pull
 * refuse it as a damaged pack, exit 1, without running out of memory or hanging, and leave
 * nothing behind.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { snapshotStore, tempDir } from "../_helpers.ts";
import { NET_PERMS, rok, rtusk } from "./_remote.ts";
import { MAIN } from "../_helpers.ts";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

interface Entry {
  packs: { name: string; meta: boolean }[];
}

/** A remote of one push, then its data pack's one index line rewritten by `lie`. */
async function lyingRemote(dir: string, lie: (offset: string, length: string) => string) {
  const remote = `${dir}/remote`;
  const a = { store: `${dir}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  const logPath = `${remote}/log/000000000001`;
  const entry = JSON.parse(await Deno.readTextFile(logPath)) as Entry;
  const data = entry.packs.find((p) => !p.meta)!;
  const idx = (await Deno.readTextFile(`${remote}/packs/${data.name}.idx`)).split("\n");
  const [hash, offset, length] = idx[1]!.split(" ") as [string, string, string];
  let body = `tusk-idx 1\n${hash} ${lie(offset, length)}\n`;
  body += `end ${sha(body)}\n`;
  const name = sha(body);
  await Deno.remove(`${remote}/packs/${data.name}.idx`);
  await Deno.rename(`${remote}/packs/${data.name}.pack`, `${remote}/packs/${name}.pack`);
  await Deno.writeTextFile(`${remote}/packs/${name}.idx`, body);
  data.name = name;
  const log = canonical(entry);
  await Deno.writeTextFile(logPath, log);
  await Deno.writeTextFile(`${remote}/HEAD`, JSON.stringify({ seq: 1, hash: sha(log) }));
  return { remote, pack: name };
}

/** JSON with keys sorted at every level (as the remote writes its log). */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    return `{${
      Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`).join(",")
    }}`;
  }
  return JSON.stringify(v);
}

for (
  const [what, lie] of [
    ["a length of a terabyte", (o: string) => `${o} ${2 ** 40}`],
    ["a negative offset", (_o: string, l: string) => `-5 ${l}`],
    ["a fractional length", (o: string, l: string) => `${o} ${l}.5`],
  ] as const
) {
  Deno.test(`a remote pack index giving ${what} is refused by clone and pull as a damaged pack`, async () => {
    await using dir = await tempDir();
    const d = await lyingRemote(dir.path, lie);
    const clone = await rtusk(["clone", d.remote, `${dir.path}/c`]);
    assert.equal(clone.code, 1, clone.stderr);
    assert.match(clone.stderr, new RegExp(`pack ${d.pack}.*damaged`));
    await assert.rejects(Deno.stat(`${dir.path}/c`), Deno.errors.NotFound);
    const b = { store: `${dir.path}/b/.tusk` };
    await rok(["init"], b);
    await rok(["remote", "add", "origin", d.remote], b);
    const before = await snapshotStore(b.store);
    const pull = await rtusk(["pull", "origin"], b);
    assert.equal(pull.code, 1, pull.stderr);
    assert.match(pull.stderr, new RegExp(`pack ${d.pack}.*damaged`));
    await rok(["remote", "remove", "origin"], b);
    await rok(["remote", "add", "origin", d.remote], b);
    assert.equal(await snapshotStore(b.store), before, "the pull changed nothing");
  });
}

Deno.test("a clone stopped by Ctrl-C leaves no half store, and can be run again", async () => {
  await using dir = await tempDir();
  const remote = `${dir.path}/remote`;
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  const files = `${dir.path}/files`;
  await Deno.mkdir(files);
  for (let i = 0; i < 16; i++) {
    const bytes = new Uint8Array(2 << 20);
    for (let k = 0; k < bytes.length; k += 65536) {
      crypto.getRandomValues(bytes.subarray(k, k + 65536));
    }
    await Deno.writeFile(`${files}/f${i}`, bytes);
  }
  await rok(["put", "file", "data@master:/files", "-r", "-f", files], a);
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  const target = `${dir.path}/c`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...NET_PERMS, MAIN, "clone", remote, target],
    env: { NO_COLOR: "1", TUSK_STORE: "" },
    stdout: "null",
    stderr: "null",
  }).spawn();
  // Stop it as soon as it writes the new store (in a staging folder beside its place).
  const writing = async () => {
    try {
      return (await Array.fromAsync(Deno.readDir(target))).some((e) =>
        e.name.startsWith(".tusk.init-")
      );
    } catch {
      return false;
    }
  };
  while (!(await writing())) await new Promise((r) => setTimeout(r, 5));
  child.kill("SIGINT");
  const { code } = await child.status;
  if (code === 0) {
    // It finished first: then it must be whole.
    await rok(["verify"], { store: `${target}/.tusk` });
    return;
  }
  assert.equal(code, 130);
  await assert.rejects(Deno.stat(target), Deno.errors.NotFound, "the folder it made is gone");
  await rok(["clone", remote, target]);
  await rok(["verify"], { store: `${target}/.tusk` });
});

Deno.test("a folder remote whose HEAD is a link to a device or a FIFO is refused by name, without hanging", async () => {
  await using dir = await tempDir();
  const remote = `${dir.path}/remote`;
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  await Deno.remove(`${remote}/HEAD`);
  await Deno.symlink("/dev/zero", `${remote}/HEAD`);
  const clone = await rtusk(["clone", remote, `${dir.path}/c`]);
  assert.equal(clone.code, 1, clone.stderr);
  assert.match(clone.stderr, /"HEAD" is not a regular file/);
  await assert.rejects(Deno.stat(`${dir.path}/c`), Deno.errors.NotFound);
  await Deno.remove(`${remote}/HEAD`);
  await new Deno.Command("mkfifo", { args: [`${remote}/HEAD`] }).output();
  const pull = await rtusk(["pull", "origin"], a);
  assert.equal(pull.code, 1, pull.stderr);
  assert.match(pull.stderr, /"HEAD" is not a regular file/);
});

Deno.test("S3: a user and password in AWS_ENDPOINT_URL are not shown when the endpoint is unreachable", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["remote", "add", "origin", "s3://tusk-test/x"], a);
  const r = await rtusk(["pull", "origin"], {
    ...a,
    env: {
      AWS_ENDPOINT_URL: "http://someone:hunter2-secret@127.0.0.1:1",
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_REGION: "us-east-1",
      AWS_CONFIG_FILE: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /Cannot reach S3 remote "s3:\/\/tusk-test\/x" at http:\/\/127\.0\.0\.1:1/);
  assert.doesNotMatch(r.stderr + r.stdout, /hunter2/);
});

Deno.test("a folder remote that is the store itself or inside it is refused with exit 2", async () => {
  await using dir = await tempDir();
  const store = `${dir.path}/a/.tusk`;
  await rok(["init"], { store });
  await rok(["remote", "add", "elsewhere", `${dir.path}/ok`], { store });
  for (const url of [store, `${store}/tmp`, `${store}/remotes/elsewhere`, `file://${store}/x/y`]) {
    const r = await rtusk(["remote", "add", "in", url], { store });
    assert.equal(r.code, 2, `${url}: ${r.stderr}`);
    assert.match(r.stderr, /inside this store/);
  }
  const list = await rok(["remote", "list", "--json"], { store });
  assert.deepEqual(JSON.parse(list.stdout).map((r: { name: string }) => r.name), ["elsewhere"]);
});

Deno.test("clone into a folder named on the command line works with TUSK_STORE set, and leaves that store alone", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  const before = await snapshotStore(a.store);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`], { env: { TUSK_STORE: a.store } });
  await rok(["verify"], { store: `${dir.path}/b/.tusk` });
  assert.equal(await snapshotStore(a.store), before);
  const both = await rtusk([
    "--store",
    `${dir.path}/c`,
    "clone",
    `${dir.path}/remote`,
    `${dir.path}/d`,
  ]);
  assert.equal(both.code, 2, both.stderr);
});

Deno.test("clone --json counts the bytes of large objects it fetched", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  const big = new Uint8Array(3 << 20);
  for (let k = 0; k < big.length; k += 65536) crypto.getRandomValues(big.subarray(k, k + 65536));
  await Deno.writeFile(`${dir.path}/big`, big);
  await rok(["put", "file", "data@master:/big", "-f", `${dir.path}/big`], a);
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  const r = await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`, "--json"]);
  const summary = JSON.parse(r.stdout) as { bytes: number };
  assert.ok(summary.bytes >= big.length, `bytes ${summary.bytes} < ${big.length}`);
});

Deno.test("clone into a file, or into a folder whose .tusk is a link to a full folder, is refused by name and changes nothing", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  await Deno.writeTextFile(`${dir.path}/file`, "mine\n");
  const onFile = await rtusk(["clone", `${dir.path}/remote`, `${dir.path}/file`]);
  assert.equal(onFile.code, 2, onFile.stderr);
  assert.match(onFile.stderr, /is a file, not a folder/);
  assert.equal(await Deno.readTextFile(`${dir.path}/file`), "mine\n");
  await Deno.mkdir(`${dir.path}/full`);
  await Deno.writeTextFile(`${dir.path}/full/keep`, "keep\n");
  await Deno.mkdir(`${dir.path}/w`);
  await Deno.symlink(`${dir.path}/full`, `${dir.path}/w/.tusk`);
  const onLink = await rtusk(["clone", `${dir.path}/remote`, `${dir.path}/w`]);
  assert.equal(onLink.code, 1, onLink.stderr);
  assert.match(onLink.stderr, /Cannot create a store at/);
  assert.deepEqual((await Array.fromAsync(Deno.readDir(`${dir.path}/full`))).map((e) => e.name), [
    "keep",
  ]);
});
