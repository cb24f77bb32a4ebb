/**
 * Crash safety: `put file` of a 200 MiB file is killed with SIGKILL at random moments spread
 * over its whole run (start-up, copy, hash, fsync, rename, ledger append, state write). After
 * every kill the store must verify, list, and hold either the previous commit or a new one
 * with the complete file, and the next command must clear the dead process's temp files.
 *
 * Most kills come at a random delay after the process starts, up to a bit past the typical
 * run time measured first. The commit itself (blob rename, trees, commit, ledger append,
 * state write) takes a few milliseconds at the end of a run whose length varies by hundreds,
 * so the other kills come at a random delay after the new blob appears in the store, up to a
 * bit past the typical time from then to exit: those land in the commit. Once a few 200 MiB
 * blobs are stored, the repo is deleted, collected and started over with one commit, which
 * keeps `verify` (it re-hashes every stored blob) from growing with each round.
 */
import assert from "node:assert/strict";
import { tempStore, tusk, tuskOk } from "../_helpers.ts";
import {
  deadTempFiles,
  fileExists,
  loosePath,
  sha256File,
  sleep,
  tuskCommand,
  tuskStdoutSha256,
} from "./_util.ts";

const SIZE = 200 << 20;
/** Kills timed from process start, and kills timed from the new blob's appearance. */
const FROM_START = 12;
const FROM_BLOB = 8;
/** The repo starts over once the store holds this many 200 MiB blobs. */
const MAX_VERSIONS = 4;
/** Kills land up to this multiple of the typical time of the part they aim at. */
const WINDOW = 1.3;

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) {
    crypto.getRandomValues(out.subarray(off, Math.min(off + 65536, n)));
  }
  return out;
}

async function writeSource(path: string): Promise<void> {
  const chunk = randomBytes(4 << 20);
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    for (let i = 0; i < SIZE / chunk.length; i++) {
      new DataView(chunk.buffer).setUint32(0, i);
      let off = 0;
      while (off < chunk.length) off += await f.write(chunk.subarray(off));
    }
  } finally {
    f.close();
  }
}

/** Rewrite one random, aligned 4 KiB region of the file with random bytes. */
async function rewriteRegion(path: string): Promise<void> {
  const offset = Math.floor(Math.random() * (SIZE / 4096)) * 4096;
  const f = await Deno.open(path, { write: true });
  try {
    await f.seek(offset, Deno.SeekMode.Start);
    const bytes = randomBytes(4096);
    let off = 0;
    while (off < bytes.length) off += await f.write(bytes.subarray(off));
  } finally {
    f.close();
  }
}

interface CommitRow {
  readonly id: string;
  readonly parent: string | null;
}

async function history(store: string): Promise<CommitRow[]> {
  const r = await tuskOk(["list", "commit", "crash@master", "--json"], { store });
  return (JSON.parse(r.stdout) as CommitRow[]).map(({ id, parent }) => ({ id, parent }));
}

/** How many loose objects of the source file's size the store holds. */
async function storedVersions(store: string): Promise<number> {
  let n = 0;
  for await (const d of Deno.readDir(`${store}/objects`)) {
    for await (const e of Deno.readDir(`${store}/objects/${d.name}`)) {
      if ((await Deno.stat(`${store}/objects/${d.name}/${e.name}`)).size === SIZE) n++;
    }
  }
  return n;
}

/** The ledger position state.json records. */
async function stateLedger(store: string): Promise<{ seq: number; size: number }> {
  return (JSON.parse(await Deno.readTextFile(`${store}/state.json`)) as {
    ledger: { seq: number; size: number };
  }).ledger;
}

/**
 * Where a put was when it was killed, read from what it left on disk (before any command
 * recovers the store): for the log, so a run shows that kills covered every phase.
 */
async function phaseOfKill(
  store: string,
  put: { pid: number; blob: string; seqBefore: number; killed: boolean },
): Promise<string> {
  if (!put.killed) return "exited";
  const recorded = await stateLedger(store);
  if ((await Deno.stat(`${store}/ledger`)).size > recorded.size) return "ledger-appended";
  if (recorded.seq > put.seqBefore) return "state-written";
  for await (const e of Deno.readDir(`${store}/tmp`)) {
    if (e.name.startsWith(`${put.pid}.`)) return "writing";
  }
  if (await fileExists(loosePath(store, put.blob))) return "blob-stored";
  return "starting";
}

/** Stratified random delays: one uniform pick in each of `n` equal slices of [0, max). */
function spreadDelays(n: number, max: number): number[] {
  return Array.from({ length: n }, (_, i) => ((i + Math.random()) / n) * max);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/**
 * Start `put`, wait until `anchor` ("start": at once; "blob": once the loose object `blob`
 * exists) and then `delay` ms, and kill it with SIGKILL unless it has exited. Returns how it
 * ended and when (ms after start) the blob appeared, if it was watched for.
 */
async function putAndKill(
  args: readonly string[],
  store: string,
  kill: { anchor: "start" | "blob"; delay: number } | null,
  blob: string,
): Promise<{ pid: number; out: Deno.CommandOutput; blobAt: number | null; exitAt: number }> {
  const t0 = performance.now();
  const child = tuskCommand(args, store).spawn();
  let exited = false;
  const out = child.output().finally(() => exited = true);
  let blobAt: number | null = null;
  if (kill?.anchor !== "start") {
    const path = loosePath(store, blob);
    while (!exited && !(await fileExists(path))) await sleep(1);
    if (!exited) blobAt = performance.now() - t0;
  }
  if (kill) {
    await sleep(kill.delay);
    try {
      child.kill("SIGKILL");
    } catch {
      // The put finished before the kill.
    }
  }
  const done = await out;
  return { pid: child.pid, out: done, blobAt, exitAt: performance.now() - t0 };
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

Deno.test("put file of 200 MiB killed with SIGKILL at 20 random moments leaves the store before or after the commit", async () => {
  await using s = await tempStore();
  const store = s.store;
  const source = `${s.path}/big.bin`;
  await writeSource(source);
  await tuskOk(["create", "repo", "crash"], { store });
  const putArgs = ["put", "file", "crash@master:/big.bin", "-f", source];

  // Typical run: total time, and time from the new blob's appearance to exit. Each of these
  // runs is a real commit the kills then start from.
  const totals: number[] = [];
  const tails: number[] = [];
  let headSha = "";
  for (let i = 0; i < 3; i++) {
    await rewriteRegion(source);
    headSha = await sha256File(source);
    const run = await putAndKill(putArgs, store, null, headSha);
    assert.equal(run.out.code, 0, new TextDecoder().decode(run.out.stderr));
    assert.ok(run.blobAt !== null, "the new blob never appeared as a loose object");
    totals.push(run.exitAt);
    tails.push(run.exitAt - run.blobAt);
  }
  const typical = median(totals);
  const tail = median(tails);
  console.log(
    `put of 200 MiB: ${totals.map((t) => t.toFixed(0)).join(", ")} ms (typical ${
      typical.toFixed(0)
    } ms); blob to exit: ${tails.map((t) => t.toFixed(0)).join(", ")} ms`,
  );

  let commits = await history(store);
  assert.equal(commits.length, 3);
  const kills = shuffle([
    ...spreadDelays(FROM_START, typical * WINDOW).map((delay) => ({
      anchor: "start" as const,
      delay,
    })),
    ...spreadDelays(FROM_BLOB, tail * WINDOW).map((delay) => ({ anchor: "blob" as const, delay })),
  ]);
  const outcomes: string[] = [];
  let sourceSha = headSha;
  for (const kill of kills) {
    if (await storedVersions(store) >= MAX_VERSIONS) {
      // verify re-hashes every 200 MiB blob, kept or left over by a kill: start over.
      await tuskOk(["delete", "repo", "crash"], { store });
      await tuskOk(["gc"], { store });
      await tuskOk(["create", "repo", "crash"], { store });
      await tuskOk(putArgs, { store });
      headSha = sourceSha;
      commits = await history(store);
      assert.equal(commits.length, 1);
    }
    await rewriteRegion(source);
    const newSha = await sha256File(source);
    sourceSha = newSha;
    assert.notEqual(newSha, headSha);
    const seqBefore = (await stateLedger(store)).seq;
    const { pid, out } = await putAndKill(putArgs, store, kill, newSha);
    const when = `${kill.delay.toFixed(0)} ms after ${kill.anchor}`;
    if (out.signal === null) {
      assert.equal(out.code, 0, `put exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
    }
    const phase = await phaseOfKill(store, {
      pid,
      blob: newSha,
      seqBefore,
      killed: out.signal !== null,
    });

    const verify = await tusk(["verify"], { store });
    assert.equal(verify.code, 0, `verify after a kill ${when} (${phase}): ${verify.stderr}`);
    assert.deepEqual(await deadTempFiles(store), [], `temp files remain after a kill ${when}`);
    await tuskOk(["list", "file", "crash@master"], { store });
    const after = await history(store);
    const got = await tuskStdoutSha256(["get", "file", "crash@master:/big.bin"], store);
    assert.equal(got.code, 0, got.stderr);
    assert.equal(got.bytes, SIZE);
    if (got.sha256 === headSha) {
      assert.deepEqual(after, commits, `the history changed after a kill ${when} (${phase})`);
      outcomes.push(`${when}: ${phase}, before`);
    } else {
      assert.equal(got.sha256, newSha, `neither the old nor the new file after a kill ${when}`);
      assert.equal(after.length, commits.length + 1);
      assert.equal(after[0]!.parent, commits[0]!.id);
      assert.deepEqual(after.slice(1), commits);
      headSha = newSha;
      outcomes.push(`${when}: ${phase}, after`);
    }
    commits = after;
  }
  console.log(
    `kills (delay: phase, store before or after the commit):\n  ${outcomes.join("\n  ")}`,
  );
  assert.ok(outcomes.some((o) => o.endsWith("before")), "no kill landed before the commit");
  assert.ok(outcomes.some((o) => o.endsWith("after")), "no put completed despite late kills");
});
