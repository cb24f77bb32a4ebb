/**
 * A push or pull killed (SIGKILL) at a random moment leaves both sides valid, and the next
 * run finishes the job sending only what is missing: what the killed run already delivered
 * (packs and large objects on the remote, objects in the store) is not moved again.
 */
import assert from "node:assert/strict";
import { MAIN, tempDir } from "../_helpers.ts";
import { verify } from "../../lib/commands/integrity.ts";
import { pullFrom, pushTo, remoteAdd, remoteVerify } from "../../lib/remote.ts";
import { Store } from "../../lib/store/store.ts";
import { NET_PERMS, rjson, rok } from "./_remote.ts";

/** Files under `dir`, counted (0 when it is not there). */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  try {
    for await (const e of Deno.readDir(dir)) {
      n += e.isDirectory ? await countFiles(`${dir}/${e.name}`) : 1;
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}

/**
 * Start `tusk <args>` and SIGKILL it once `dirs` hold `files` more files than when it
 * started (0: at a random moment of its first 150 ms), so that the kill lands while objects
 * are arriving. It may finish first.
 */
async function killedAt(args: string[], store: string, dirs: string[], files: number) {
  const count = async () => (await Promise.all(dirs.map(countFiles))).reduce((a, b) => a + b, 0);
  const start = await count();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...NET_PERMS, MAIN, ...args],
    env: { NO_COLOR: "1", INIT_CWD: "", TUSK_STORE: store },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  let done = false;
  child.status.then(() => (done = true));
  if (files === 0) await new Promise((r) => setTimeout(r, rand(150)));
  else while (!done && (await count()) - start < files) await new Promise((r) => setTimeout(r, 2));
  try {
    child.kill("SIGKILL");
  } catch {
    // It had finished.
  }
  await child.status;
}

/** Objects in the packs and large objects of `remote` that its log does not name yet. */
async function leftovers(remote: string): Promise<number> {
  const named = new Set<string>();
  try {
    for await (const e of Deno.readDir(`${remote}/log`)) {
      const entry = JSON.parse(await Deno.readTextFile(`${remote}/log/${e.name}`));
      for (const p of entry.packs) named.add(p.name);
      for (const o of entry.objects) named.add(o);
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  let n = 0;
  const packs = await Array.fromAsync(Deno.readDir(`${remote}/packs`)).catch(() => []);
  for (const e of packs) {
    const m = /^([0-9a-f]{64})\.idx$/.exec(e.name);
    if (!m || named.has(m[1]!)) continue;
    const idx = await Deno.readTextFile(`${remote}/packs/${e.name}`);
    n += idx.split("\n").filter((l) => /^[0-9a-f]{64} /.test(l)).length;
  }
  try {
    for await (const e of Deno.readDir(`${remote}/objects`)) if (!named.has(e.name)) n++;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return n;
}

/** Files for one round: a few large ones (sent whole) and many small ones (packed). */
async function addFiles(store: string, dir: string, round: number): Promise<void> {
  const src = `${dir}/src${round}`;
  await Deno.mkdir(src, { recursive: true });
  for (let i = 0; i < BIG_FILES; i++) {
    const big = new Uint8Array(1_100_000 + i).fill(round * 7 + i);
    big[0] = round;
    await Deno.writeFile(`${src}/big${i}.bin`, big);
  }
  for (let i = 0; i < 40; i++) {
    await Deno.writeTextFile(`${src}/s${i}.txt`, `round ${round} file ${i}\n`.repeat(40));
  }
  await rok(["put", "file", "-r", `data@master:/r${round}`, "-f", src], { store });
}

const rand = (max: number) => Math.floor(Math.random() * max);

/** Large files a round adds: each is one file on the remote, and one here after a pull. */
const BIG_FILES = 5;

Deno.test("a push killed at 10 random moments leaves both sides valid; the next push sends only what is missing", async () => {
  await using dir = await tempDir();
  const a = `${dir.path}/a/.tusk`;
  const remote = `${dir.path}/remote`;
  const twin = `${dir.path}/twin`;
  await rok(["init"], { store: a });
  await rok(["create", "repo", "data"], { store: a });
  const store = await Store.open(a);
  await remoteAdd(store, { name: "origin", url: remote, cwd: dir.path });
  await remoteAdd(store, { name: "twin", url: twin, cwd: dir.path });
  for (let round = 0; round < 10; round++) {
    await addFiles(a, dir.path, round);
    // Uploads land in the remote's tmp/ first, then in objects/ and packs/.
    await killedAt(
      ["push", "origin"],
      a,
      [`${remote}/objects`, `${remote}/packs`],
      rand(BIG_FILES + 3),
    );
    await verify(store);
    if (round > 0) await remoteVerify(store, { remote: "origin" });
    // What a push that is not stopped sends, measured on a twin remote in the same state.
    const full = await pushTo(store, { remote: "twin" });
    const left = await leftovers(remote);
    const r = await rjson<{ objects: number; upToDate: boolean }>(["push", "origin"], { store: a });
    if (r.upToDate) continue; // The killed push had finished.
    assert.equal(
      r.objects,
      full.objects - left,
      `round ${round}: ${left} objects were there already`,
    );
    await remoteVerify(store, { remote: "origin" });
  }
  store.objects.close();
});

Deno.test("a pull killed at 10 random moments leaves the store valid; the next pull fetches only what is missing", async () => {
  await using dir = await tempDir();
  const a = `${dir.path}/a/.tusk`;
  const remote = `${dir.path}/remote`;
  await rok(["init"], { store: a });
  await rok(["create", "repo", "data"], { store: a });
  for (let round = 0; round < 2; round++) await addFiles(a, dir.path, round);
  await rok(["remote", "add", "origin", remote], { store: a });
  await rok(["push", "origin"], { store: a });
  for (let round = 0; round < 10; round++) {
    const c = `${dir.path}/c${round}/.tusk`;
    const twin = await Store.init(`${dir.path}/t${round}/.tusk`);
    await remoteAdd(twin, { name: "origin", url: remote, cwd: dir.path });
    const full = await pullFrom(twin, { remote: "origin" });
    twin.objects.close();
    const store = await Store.init(c);
    await remoteAdd(store, { name: "origin", url: remote, cwd: dir.path });
    await killedAt(["pull", "origin"], c, [`${c}/objects`, `${c}/packs`], rand(2 * BIG_FILES + 3));
    const reopened = await Store.open(c);
    await verify(reopened);
    const held = await reopened.objects.listAll();
    const present = held.loose.length + [...held.packs.values()].reduce((n, p) => n + p.length, 0);
    reopened.objects.close();
    const r = await rjson<{ objects: number; upToDate: boolean }>(["pull", "origin"], { store: c });
    if (r.upToDate) continue; // The killed pull had finished.
    assert.equal(
      r.objects,
      full.objects - present,
      `round ${round}: ${present} objects were here already`,
    );
    const done = await Store.open(c);
    await verify(done);
    done.objects.close();
    store.objects.close();
  }
});
