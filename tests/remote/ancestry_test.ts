/**
 * A history is walked once: `historyOf()` reads each commit once and stops at the commit asked
 * for, and `divergence()` finds where two walked histories meet (or that they share none)
 * without reading anything again.
 */
import assert from "node:assert/strict";
import { historyOf } from "../../lib/remote/ancestry.ts";
import { divergence } from "../../lib/remote/diverged.ts";
import { EMPTY_TREE, encodeCommit } from "../../lib/store/codec.ts";
import { sha256 } from "../../lib/store/hash.ts";

/** A source of commits that counts the reads of each id. */
function source() {
  const bytes = new Map<string, Uint8Array>();
  const reads = new Map<string, number>();
  /** Add a chain of `n` commits on `parent` (null: a new first commit); returns its ids, newest first. */
  const chain = (n: number, parent: string | null, tag: string): string[] => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const b = encodeCommit({
        repo: "data",
        parent,
        tree: EMPTY_TREE,
        size: 0,
        time: "2026-01-01T00:00:00.000Z",
        message: `${tag} ${i}`,
        branch: "master",
        origin: "user",
      });
      parent = sha256(b);
      bytes.set(parent, b);
      ids.unshift(parent);
    }
    return ids;
  };
  const read = (id: string) => {
    reads.set(id, (reads.get(id) ?? 0) + 1);
    return Promise.resolve(bytes.get(id) ?? null);
  };
  return { chain, read, reads };
}

Deno.test("historyOf() gives a head's history newest first, ending at the first commit", async () => {
  const s = source();
  const ids = s.chain(4, null, "c");
  assert.deepEqual(await historyOf(s.read, ids[0]!), ids);
});

Deno.test("historyOf() ends at the commit it is to stop at, reading none below it", async () => {
  const s = source();
  const ids = s.chain(5, null, "c");
  assert.deepEqual(await historyOf(s.read, ids[0]!, ids[2]), ids.slice(0, 3));
  assert.equal(s.reads.get(ids[2]!), undefined);
  assert.equal(s.reads.get(ids[3]!), undefined);
});

Deno.test("historyOf() ends at a commit the source lacks, naming it last", async () => {
  const s = source();
  const ids = s.chain(2, "f".repeat(64), "c");
  assert.deepEqual(await historyOf(s.read, ids[0]!), [...ids, "f".repeat(64)]);
});

Deno.test("divergence() of two walked histories names the newest shared commit and how far this side is above it", async () => {
  const s = source();
  const base = s.chain(2, null, "base");
  const mine = s.chain(3, base[0]!, "mine");
  const theirs = s.chain(1, base[0]!, "theirs");
  const own = await historyOf(s.read, mine[0]!, theirs[0]);
  assert.notEqual(own.at(-1), theirs[0], "not an ancestor: the walk went to the first commit");
  const other = await historyOf(s.read, theirs[0]!);
  assert.deepEqual(divergence(own, other), { base: base[0], ahead: 3 });
  // Each history walked once: this side's own commits read once, the shared ones once a side.
  for (const id of mine) assert.equal(s.reads.get(id), 1);
  const total = [...s.reads.values()].reduce((a, b) => a + b, 0);
  assert.equal(total, own.length + other.length);
});

Deno.test("divergence() of two histories that share no commit has no base and counts all of this side's", () => {
  const s = source();
  const mine = s.chain(3, null, "mine");
  const theirs = s.chain(2, null, "theirs");
  assert.deepEqual(divergence(mine, theirs), { base: null, ahead: 3 });
});
