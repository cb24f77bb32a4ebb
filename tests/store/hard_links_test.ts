/**
 * A store copied with hard links (`cp -al`, `rsync --link-dest`) shares its files with the
 * copy: the ledger, a job's datum log and noted attempts, a pipeline's datum index and job
 * index, which tusk writes in place, are replaced by a fresh copy of themselves before the
 * write, so the other copy never changes.
 */
import assert from "node:assert/strict";
import { createRepo } from "../../lib/commands/repo.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { openOwn } from "../../lib/store/own_file.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";
import { datumsJob, record } from "../pipeline/_records.ts";

const ID = "01b0".padEnd(32, "0");
const NEXT = "01b2".padEnd(32, "0");

/** Every regular file under `dir`, by path relative to it, with its bytes. */
async function files(dir: string, under = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(`${dir}${under}`)) {
    const rel = `${under}/${e.name}`;
    if (e.isDirectory) { for (const [k, v] of await files(dir, rel)) out.set(k, v); }
    else if (e.isFile) out.set(rel, await Deno.readFile(`${dir}${rel}`));
  }
  return out;
}

/** Copy `from` to `to` with hard links, as `cp -al` does. */
async function linkCopy(from: string, to: string): Promise<void> {
  const cp = await new Deno.Command("cp", { args: ["-al", from, to] }).output();
  assert.equal(cp.code, 0, new TextDecoder().decode(cp.stderr));
}

Deno.test("a store copied with hard links: saves, datum index appends, attempts and new jobs leave the copy as it was", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const job = datumsJob(ID, 20);
  await jobs.save(job);
  await jobs.noteAttempts("p", ID, [job.datums[0]!.id]);
  const entry = { hash: "a".repeat(64), tree: "b".repeat(64), size: 1, job: ID, version: 1 };
  await jobs.appendDatums("p", [entry]);
  const backup = `${dir.path}/backup`;
  await linkCopy(store.root, backup);
  const before = await files(backup);
  const { layout } = store;
  for (const path of [layout.datumLog("p", ID), layout.attempts("p", ID), layout.datumIndex("p")]) {
    assert.equal((await Deno.stat(path)).nlink, 2, `${path} is shared before`);
  }

  // This process saved the job before: an incremental append, then one by a fresh process.
  job.datums[3]!.state = "SUCCESS";
  await jobs.save(job, { durable: true });
  const fresh = new JobStore(await Store.open(store.root));
  const again = await fresh.load(ID);
  again.datums[4]!.state = "FAILED";
  await fresh.save(again);
  await jobs.noteAttempts("p", ID, [job.datums[1]!.id]);
  await jobs.appendDatums("p", [{ ...entry, hash: "c".repeat(64) }]);
  await jobs.save(record("p", NEXT));

  assert.deepEqual(await files(backup), before, "the copy is as it was");
  for (const path of [layout.datumLog("p", ID), layout.attempts("p", ID), layout.datumIndex("p")]) {
    assert.equal((await Deno.stat(path)).nlink, 1, `${path} is the store's own after`);
  }
  const read = await new JobStore(await Store.open(store.root)).load(ID);
  assert.equal(read.datums[3]!.state, "SUCCESS");
  assert.equal(read.datums[4]!.state, "FAILED");
  assert.equal((await jobs.attempts("p", ID)).size, 2);
  assert.equal((await jobs.datumIndex("p")).size, 2);
  assert.deepEqual((await jobs.list({ pipeline: "p" })).map((j) => j.id), [NEXT, ID]);
  // The copy reads as the store did when it was made.
  const copy = new JobStore(await Store.open(backup));
  assert.equal((await copy.load(ID)).datums[3]!.state, "STARTING");
  assert.equal((await copy.attempts("p", ID)).size, 1);
  assert.equal((await copy.datumIndex("p")).size, 1);
  assert.deepEqual((await copy.list({ pipeline: "p" })).map((j) => j.id), [ID]);
});

Deno.test("openOwn() writes to a copy of a linked file, keeping its mode, and opens an unlinked one as it is", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/tmp`);
  const path = `${dir.path}/log`;
  const other = `${dir.path}/other`;
  await Deno.writeTextFile(path, "one\n");
  await Deno.chmod(path, 0o640);
  await Deno.link(path, other);
  const f = await openOwn(path, { append: true }, `${dir.path}/tmp`);
  try {
    await f.write(new TextEncoder().encode("two\n"));
  } finally {
    f.close();
  }
  assert.equal(await Deno.readTextFile(other), "one\n");
  assert.equal(await Deno.readTextFile(path), "one\ntwo\n");
  const info = await Deno.stat(path);
  assert.equal(info.nlink, 1);
  assert.equal(info.mode! & 0o777, 0o640);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/tmp`)], [], "no temp file left");
  const ino = info.ino;
  const g = await openOwn(path, { append: true }, `${dir.path}/tmp`);
  g.close();
  assert.equal((await Deno.stat(path)).ino, ino, "a file of one name is written in place");
});

Deno.test("a store copied with hard links: a new repo appends to the store's ledger alone", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "a");
  const backup = `${dir.path}/backup`;
  await linkCopy(store.root, backup);
  const before = await files(backup);
  assert.equal((await Deno.stat(store.layout.ledger)).nlink, 2);
  await createRepo(store, "b");
  assert.deepEqual(await files(backup), before, "the copy is as it was");
  assert.equal((await Deno.stat(store.layout.ledger)).nlink, 1);
  const repos = (s: Store) => s.state().then((st) => Object.keys(st.repos).sort());
  assert.deepEqual(await repos(await Store.open(store.root)), ["a", "b"]);
  assert.deepEqual(await repos(await Store.open(backup)), ["a"]);
});
