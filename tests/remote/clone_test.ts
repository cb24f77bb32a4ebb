/**
 * Clone as a store written in one go from a remote: its packs are the remote's, checked to
 * their last header; a failed or killed clone leaves no store and none of the folders it made
 * (and never removes one that was there); and a pipeline whose optional input repo exists
 * nowhere travels. Also `remote verify` counting the bytes of large objects.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempDir } from "../_helpers.ts";
import { NET_PERMS, rjson, rok, rtusk, startS3 } from "./_remote.ts";

interface Entry {
  packs: { name: string; meta: boolean }[];
}

/** Store A with two files (and one of 3 MiB when `big`, or of `big` MiB), pushed to `dir/remote`. */
async function pushed(dir: string, big: boolean | number = false) {
  const a = { store: `${dir}/a/.tusk` };
  const remote = `${dir}/remote`;
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["put", "file", "data@master:/two", "-f", "-"], { ...a, stdin: "second file\n" });
  if (big) {
    const bytes = new Uint8Array((big === true ? 3 : big) << 20);
    for (let k = 0; k < bytes.length; k += 65536) {
      crypto.getRandomValues(bytes.subarray(k, k + 65536));
    }
    await Deno.writeFile(`${dir}/big`, bytes);
    await rok(["put", "file", "data@master:/big", "-f", `${dir}/big`], a);
  }
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  const entry = JSON.parse(await Deno.readTextFile(`${remote}/log/000000000001`)) as Entry;
  const data = entry.packs.find((p) => !p.meta)!.name;
  return { a, remote, dataPack: `${remote}/packs/${data}.pack`, data };
}

/** The names of the entries of `dir`, sorted. */
async function names(dir: string): Promise<string[]> {
  return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
}

Deno.test("a clone holds the remote's packs as they are, and answers as the origin", async () => {
  await using dir = await tempDir();
  const d = await pushed(dir.path);
  await rok(["clone", d.remote, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  await rok(["verify"], b);
  assert.deepEqual(await names(`${b.store}/packs`), await names(`${d.remote}/packs`));
  for (const name of await names(`${d.remote}/packs`)) {
    assert.deepEqual(
      await Deno.readFile(`${b.store}/packs/${name}`),
      await Deno.readFile(`${d.remote}/packs/${name}`),
      name,
    );
  }
  assert.equal((await rok(["get", "file", "data@master:/two"], b)).stdout, "second file\n");
  assert.deepEqual(
    await rjson(["list", "commit", "data@master"], b),
    await rjson(["list", "commit", "data@master"], d.a),
  );
});

Deno.test("a clone's cache of its remote, cut short as a crash can leave it (it is not synced), costs a re-read and nothing else", async () => {
  await using dir = await tempDir();
  const d = await pushed(dir.path);
  await rok(["clone", d.remote, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  const cache = `${b.store}/remotes/origin`;
  const cut = async (path: string) => {
    const bytes = await Deno.readFile(path);
    await Deno.writeFile(path, bytes.subarray(0, bytes.length >> 1));
  };
  await cut(`${cache}/seen.json`);
  const idx = await names(`${cache}/idx`);
  assert.ok(idx.length > 0, "the clone kept the remote's indexes");
  for (const name of idx) await cut(`${cache}/idx/${name}`);
  await rok(["put", "file", "data@master:/three", "-f", "-"], { ...d.a, stdin: "third\n" });
  await rok(["push", "origin"], d.a);
  await rok(["pull", "origin"], b);
  assert.equal((await rok(["get", "file", "data@master:/three"], b)).stdout, "third\n");
  assert.deepEqual(
    await rjson(["list", "commit", "data@master"], b),
    await rjson(["list", "commit", "data@master"], d.a),
  );
  await rok(["verify"], b);
  const again = await rjson<{ upToDate: boolean }>(["pull", "origin"], b);
  assert.equal(again.upToDate, true);
  JSON.parse(await Deno.readTextFile(`${cache}/seen.json`));
});

Deno.test("a remote pack whose record header is damaged is refused by clone, naming the object", async () => {
  await using dir = await tempDir();
  const d = await pushed(dir.path);
  // The header line before the last object ("<hash> <length>\n"): its length's first digit.
  const idx = (await Deno.readTextFile(`${d.remote}/packs/${d.data}.idx`)).split("\n");
  const entries = idx.slice(1).filter((l) => /^[0-9a-f]{64} /.test(l)).map((l) => {
    const [hash, offset, length] = l.split(" ") as [string, string, string];
    return { hash, offset: Number(offset), length };
  }).sort((x, y) => x.offset - y.offset);
  const last = entries.at(-1)!;
  const pack = await Deno.readFile(d.dataPack);
  const at = last.offset - 1 - last.length.length;
  pack[at] = pack[at] === 0x39 ? 0x38 : pack[at]! + 1;
  await Deno.writeFile(d.dataPack, pack);
  const r = await rtusk(["clone", d.remote, `${dir.path}/c`]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`object ${last.hash} in pack ${d.data}.*damaged`));
  await assert.rejects(Deno.stat(`${dir.path}/c`), Deno.errors.NotFound);
});

Deno.test("a failed clone removes the folders it made for the store, and no folder that was there", async () => {
  await using dir = await tempDir();
  const d = await pushed(dir.path);
  await Deno.writeFile(d.dataPack, new Uint8Array());
  const keep = `${dir.path}/keep`;
  await Deno.mkdir(`${keep}/empty`, { recursive: true });
  await Deno.writeTextFile(`${keep}/mine`, "mine\n");
  const deep = await rtusk(["clone", d.remote, `${keep}/new/deeper`]);
  assert.equal(deep.code, 1, deep.stderr);
  const into = await rtusk(["clone", d.remote, `${keep}/empty`]);
  assert.equal(into.code, 1, into.stderr);
  assert.deepEqual(await names(keep), ["empty", "mine"]);
  assert.deepEqual(await names(`${keep}/empty`), []);
  assert.equal(await Deno.readTextFile(`${keep}/mine`), "mine\n");
});

Deno.test("a clone killed while it writes leaves no store, and the next clone there clears what it left", async () => {
  await using dir = await tempDir();
  const d = await pushed(dir.path, true);
  const target = `${dir.path}/c`;
  const staging = async () => {
    try {
      return (await names(target)).filter((n) => n.startsWith(".tusk.init-"));
    } catch {
      return [];
    }
  };
  let left: string[] = [];
  for (let attempt = 0; attempt < 5 && left.length === 0; attempt++) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...NET_PERMS, MAIN, "clone", d.remote, target],
      cwd: ROOT,
      env: { NO_COLOR: "1", TUSK_STORE: "" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    while ((await staging()).length === 0) {
      const done = await Promise.race([
        child.status.then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 2)),
      ]);
      if (done) break;
    }
    child.kill("SIGKILL");
    const { code } = await child.status.catch(() => ({ code: -1 }));
    if (code === 0) {
      // It finished first: then it is whole; try again into a fresh folder.
      await rok(["verify"], { store: `${target}/.tusk` });
      await Deno.remove(target, { recursive: true });
      continue;
    }
    left = await staging();
  }
  assert.ok(left.length > 0, "a clone was killed while it wrote");
  await assert.rejects(Deno.stat(`${target}/.tusk`), Deno.errors.NotFound, "no store");
  const r = await rtusk(["verify"], { store: `${target}/.tusk` });
  assert.notEqual(r.code, 0, "no store is found there");
  await rok(["clone", d.remote, target]);
  await rok(["verify"], { store: `${target}/.tusk` });
  assert.deepEqual(await names(target), [".tusk"], "the dead clone's staging folder is gone");
});

Deno.test("a pipeline whose optional input repo exists nowhere is pushed and cloned", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.ts`, `${dir.path}/upper.ts`);
  const spec = {
    pipeline: { name: "upper" },
    transform: { cmd: ["deno", "run", "upper.ts", "/pfs/data/", "/pfs/out/"] },
    input: {
      cross: [
        { pfs: { repo: "data", glob: "/*" } },
        { pfs: { repo: "params", glob: "/", optional: true } },
      ],
    },
  };
  await Deno.writeTextFile(`${dir.path}/upper.json`, JSON.stringify(spec));
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["create", "pipeline", "-f", `${dir.path}/upper.json`], a);
  await rok(["put", "file", "data@master:/one", "-f", "-"], { ...a, stdin: "one\n" });
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  await rok(["verify"], b);
  assert.equal((await rok(["get", "file", "upper@master:/one"], b)).stdout, "ONE\n");
  // Once the store has the repo, a push of the pipeline alone names it.
  await rok(["create", "repo", "params"], a);
  await rok(["update", "pipeline", "-f", `${dir.path}/upper.json`, "--reprocess"], a);
  const r = await rtusk(["push", "origin", "upper"], a);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /it reads repo "params", which the remote does not have/);
});

Deno.test("remote verify counts the bytes of large objects", async () => {
  await using dir = await tempDir();
  const d = await pushed(dir.path, true);
  const v = await rjson<{ objects: number; bytes: number }>(["remote", "verify", "origin"], d.a);
  assert.ok(v.bytes >= 3 << 20, `bytes ${v.bytes} < ${3 << 20}`);
});

/** The clone's message on Ctrl-C: it names the signal and says nothing was left. */
const INTERRUPTED = /^tusk: Clone interrupted \(SIGINT\): nothing was left behind/m;

for (const into of ["a new folder", "a folder that was there"]) {
  Deno.test(`Ctrl-C while a clone writes into ${into} says so, exits 130 and leaves no store nor staging folder`, async () => {
    await using dir = await tempDir();
    const d = await pushed(dir.path, 48);
    const target = `${dir.path}/c`;
    const existed = into === "a folder that was there";
    let stopped: { code: number; stderr: string } | null = null;
    for (let attempt = 0; attempt < 5 && stopped === null; attempt++) {
      if (existed) await Deno.mkdir(target, { recursive: true });
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "--quiet", ...NET_PERMS, MAIN, "clone", d.remote, target],
        cwd: ROOT,
        env: { NO_COLOR: "1", TUSK_STORE: "" },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const out = child.output();
      let staged = false;
      while (!staged) {
        staged = (await names(target).catch(() => [])).some((n) => n.startsWith(".tusk.init-"));
        const done = await Promise.race([
          child.status.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 2)),
        ]);
        if (done) break;
      }
      if (staged) child.kill("SIGINT");
      const r = await out;
      if (r.code === 0) {
        // It finished first: then it is whole; try again into a fresh folder.
        await rok(["verify"], { store: `${target}/.tusk` });
        await Deno.remove(target, { recursive: true });
        continue;
      }
      stopped = { code: r.code, stderr: new TextDecoder().decode(r.stderr) };
    }
    assert.ok(stopped, "a clone was interrupted while it wrote");
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, INTERRUPTED);
    assert.ok(stopped.stderr.includes(`(no store at "${target}/.tusk")`), stopped.stderr);
    if (existed) {
      assert.deepEqual(await names(target), [], "the folder that was there stays, empty");
    } else await assert.rejects(Deno.stat(target), Deno.errors.NotFound, "the folder made is gone");
  });
}

Deno.test("Ctrl-C while a clone waits on its remote says so, exits 130 and creates nothing", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`, { hang: true });
  const work = `${dir.path}/work`;
  await Deno.mkdir(work);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...NET_PERMS, MAIN, "clone", `s3://${s3.bucket}/x`, "c"],
    cwd: work,
    env: { NO_COLOR: "1", TUSK_STORE: "", ...s3.env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const out = child.output();
  // Well after it started and sent its first request, which is never answered.
  await new Promise((r) => setTimeout(r, 1500));
  child.kill("SIGINT");
  const r = await out;
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(r.code, 130, stderr);
  assert.match(stderr, INTERRUPTED);
  assert.deepEqual(await names(work), []);
});
