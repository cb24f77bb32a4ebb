/** The dashboard's immutable job map: versions that share what they do not change. */
import assert from "node:assert/strict";
import { PersistentMap } from "../../tui/persistent_map.ts";
import { jobId } from "./_events.ts";

Deno.test("PersistentMap.empty() has no entries", () => {
  const m = PersistentMap.empty<number>();
  assert.equal(m.size, 0);
  assert.equal(m.get("a"), undefined);
  assert.equal(m.has("a"), false);
  assert.deepEqual([...m], []);
});

Deno.test("PersistentMap.with() sets and removes entries in a new version, leaving the old one", () => {
  const v1 = PersistentMap.from([["a", 1], ["b", 2]]);
  const v2 = v1.with([["b", 20], ["c", 3]], ["a"]);
  assert.deepEqual(new Map(v1), new Map([["a", 1], ["b", 2]]));
  assert.deepEqual(new Map(v2), new Map([["b", 20], ["c", 3]]));
  assert.equal(v1.size, 2);
  assert.equal(v2.size, 2);
  assert.equal(v2.has("a"), false);
  assert.equal(v2.get("b"), 20);
});

Deno.test("PersistentMap.with() returns the same map when nothing changes", () => {
  const m = PersistentMap.from([["a", 1]]);
  assert.equal(m.with([], ["missing"]), m);
});

Deno.test("PersistentMap holds 10,000 job ids, each found, and iterates each once", () => {
  const ids = Array.from({ length: 10_000 }, (_, i) => jobId(i + 1));
  const m = PersistentMap.from(ids.map((id, i) => [id, i] as const));
  assert.equal(m.size, 10_000);
  for (const [i, id] of ids.entries()) assert.equal(m.get(id), i);
  assert.deepEqual([...m.keys()].sort(), [...ids].sort());
  assert.equal([...m.values()].reduce((a, b) => a + b, 0), (9_999 * 10_000) / 2);
  const seen: string[] = [];
  m.forEach((_, k) => seen.push(k));
  assert.equal(new Set(seen).size, 10_000);
});

Deno.test("PersistentMap versions stay apart over many changes", () => {
  let m = PersistentMap.empty<number>();
  const reference = new Map<string, number>();
  const versions: [PersistentMap<number>, Map<string, number>][] = [];
  for (let round = 0; round < 50; round++) {
    const set: [string, number][] = [];
    for (let i = 0; i < 20; i++) set.push([jobId((round * 7 + i * 13) % 300), round]);
    const remove = [jobId((round * 11) % 300)];
    m = m.with(set, remove);
    for (const [k, v] of set) reference.set(k, v);
    for (const k of remove) reference.delete(k);
    versions.push([m, new Map(reference)]);
  }
  for (const [version, expected] of versions) {
    assert.equal(version.size, expected.size);
    assert.deepEqual(new Map(version), expected);
  }
});
