/**
 * `Ledger.since()` reads the ledger backwards from its end and stops at the first entry
 * before the seq asked for; `Ledger.holding()` decodes only the lines holding a text. Both
 * must give what reading every line forwards gives, whatever the lines' lengths against the
 * block size, with a torn last line (a crash mid-append) left out.
 */
import assert from "node:assert/strict";
import { Layout } from "../../lib/store/layout.ts";
import { Ledger } from "../../lib/store/ledger.ts";
import type { LedgerEntry } from "../../lib/store/state.ts";
import { NotFoundError } from "../../lib/errors.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { tempDir } from "../_helpers.ts";
import { putText, testStore } from "./_fixtures.ts";

/** A ledger file of `n` entries in `dir`, some far longer than a 64 KiB block. */
async function writeLedger(dir: string, n: number, torn = ""): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  for (let seq = 1; seq <= n; seq++) {
    // Mostly short lines, some of 100 KiB (a line spanning blocks), one right at a block's end.
    const long = seq % 97 === 0 ? 100_000 : seq % 13 === 0 ? 5_000 : seq % 3;
    entries.push({
      seq,
      prev: String(seq - 1).padStart(64, "0"),
      time: new Date(Date.UTC(2024, 0, 1) + seq * 1000).toISOString(),
      changes: [{ type: "repo:update", repo: "r", description: "x".repeat(long) }],
    });
  }
  const text = entries.map((e) => JSON.stringify(e) + "\n").join("") + torn;
  await Deno.writeTextFile(`${dir}/ledger`, text);
  return entries;
}

async function collect(it: AsyncIterable<{ entry: LedgerEntry }>): Promise<number[]> {
  const seqs: number[] = [];
  for await (const { entry } of it) seqs.push(entry.seq);
  return seqs;
}

Deno.test("Ledger.since() gives every entry from seq on, in order, reading backwards", async () => {
  await using dir = await tempDir();
  const entries = await writeLedger(dir.path, 400);
  const ledger = new Ledger(new Layout(dir.path));
  for (const seq of [0, 1, 2, 96, 97, 98, 150, 194, 300, 399, 400]) {
    const want = entries.filter((e) => e.seq >= seq).map((e) => e.seq);
    assert.deepEqual(await collect(ledger.since(seq)), want, `since(${seq})`);
  }
  assert.deepEqual(await collect(ledger.since(401)), []);
  assert.deepEqual(await collect(ledger.since(10_000)), []);
  // The entries come whole, not just their seq.
  const [last] = await Array.fromAsync(ledger.since(400));
  assert.deepEqual(last!.entry, entries[399]);
});

Deno.test("Ledger.since() reads no entry before the seq asked for", async () => {
  await using dir = await tempDir();
  await writeLedger(dir.path, 300);
  // Entry 2's line made unreadable: a read from the start would stop there.
  const text = await Deno.readTextFile(`${dir.path}/ledger`);
  const lines = text.split("\n");
  lines[1] = "not json";
  await Deno.writeTextFile(`${dir.path}/ledger`, lines.join("\n"));
  const ledger = new Ledger(new Layout(dir.path));
  assert.deepEqual(await collect(ledger.since(298)), [298, 299, 300]);
  // It stops at the entry before the one asked for, which it reads to know where to stop.
  assert.equal((await collect(ledger.since(4))).length, 297);
  await assert.rejects(collect(ledger.since(3)), SyntaxError);
});

Deno.test("Ledger.since() leaves out a torn last line, as a forward read does", async () => {
  await using dir = await tempDir();
  await writeLedger(dir.path, 120, '{"seq":121,"prev":"00');
  const ledger = new Ledger(new Layout(dir.path));
  assert.deepEqual(await collect(ledger.since(118)), [118, 119, 120]);
  assert.deepEqual((await collect(ledger.since(0))).length, 120);
  assert.deepEqual(await collect(ledger.since(121)), []);
});

Deno.test("Ledger.since() of an empty ledger gives nothing", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/ledger`, "");
  const ledger = new Ledger(new Layout(dir.path));
  assert.deepEqual(await collect(ledger.since(5)), []);
  assert.deepEqual(await collect(ledger.since(0)), []);
});

Deno.test("Ledger.holding() decodes only lines holding the text, from seq on", async () => {
  await using dir = await tempDir();
  await writeLedger(dir.path, 200);
  const ledger = new Ledger(new Layout(dir.path));
  // Entry 194's description is 100,000 x's: among the 5,000-x ones, only 97 and 194 hold more.
  const long = '"description":"' + "x".repeat(50_000);
  assert.deepEqual(await collect(ledger.holding(long, 0)), [97, 194]);
  assert.deepEqual(await collect(ledger.holding(long, 98)), [194]);
  assert.deepEqual(await collect(ledger.holding("no such text", 0)), []);
});

Deno.test("resolve() by prefix ignores the id in a record that is not a commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const { commit } = await putText(t, "r@master:/a.txt", "a\n");
  await createRepo(t.store, "other");
  // A record of a higher layer naming the commit: its line holds `"commit":"<id>"` too.
  await t.store.transact((tx) => {
    tx.change({
      type: "meta:put",
      kind: "note",
      name: "n",
      objects: [],
      value: { commit: commit.id, repo: "other", type: "commit" },
    });
    return Promise.resolve();
  });
  const prefix = commit.id.slice(0, 10);
  assert.equal((await t.store.resolve(await t.store.state(), `r@${prefix}`)).id, commit.id);
  await assert.rejects(
    t.store.resolve(await t.store.state(), `other@${prefix}`),
    NotFoundError,
  );
});
