/**
 * `ObjectStore.missing()` of many ids at once (more than `BULK_LOOKUPS`) checks them against
 * each pack's whole index rather than one lookup each; its answer is the same: exactly the
 * ids held neither in a pack nor as a loose object.
 */
import assert from "node:assert/strict";
import { type Hash, sha256 } from "../../lib/store/hash.ts";
import { BULK_LOOKUPS } from "../../lib/store/objects.ts";
import { testStore } from "./_fixtures.ts";

const utf8 = new TextEncoder();

/** `n` distinct small objects tagged `tag`, by hash. */
function objects(n: number, tag: string): Map<Hash, Uint8Array> {
  const out = new Map<Hash, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const bytes = utf8.encode(`${tag} ${i}\n`);
    out.set(sha256(bytes), bytes);
  }
  return out;
}

Deno.test("ObjectStore.missing() of more than BULK_LOOKUPS ids names exactly those in no pack and not loose", async () => {
  await using t = await testStore();
  const packs = [
    objects(BULK_LOOKUPS / 2 + 100, "first pack"),
    objects(BULK_LOOKUPS / 2, "second"),
  ];
  for (const pack of packs) await t.store.objects.writePack(pack);
  const loose = objects(3, "loose");
  const batch = t.store.objects.batch();
  for (const bytes of loose.values()) await batch.add(bytes);
  await batch.flush();
  const absent = [...objects(10, "never stored").keys()];
  const asked = [...packs.flatMap((p) => [...p.keys()]), ...loose.keys()];
  // The absent ids among the held ones, not only at the end.
  absent.forEach((id, i) => asked.splice(i * 400, 0, id));
  assert.ok(asked.length > BULK_LOOKUPS, `${asked.length} ids take the bulk path`);
  const found = await t.store.objects.missing(asked);
  assert.deepEqual([...found].sort(), [...absent].sort());
});

Deno.test("ObjectStore.missing() of more than BULK_LOOKUPS ids, all held, is empty; one absent id is named", async () => {
  await using t = await testStore();
  const pack = objects(BULK_LOOKUPS + 1, "pack");
  await t.store.objects.writePack(pack);
  assert.equal((await t.store.objects.missing(pack.keys())).size, 0);
  const gone = sha256("not stored\n");
  const found = await t.store.objects.missing([...pack.keys(), gone]);
  assert.deepEqual([...found], [gone]);
});

Deno.test("ObjectStore.missing() of many ids names each absent or malformed id once, however often asked", async () => {
  await using t = await testStore();
  const pack = objects(BULK_LOOKUPS + 10, "pack");
  await t.store.objects.writePack(pack);
  const held = [...pack.keys()];
  const gone = sha256("not stored either\n");
  const upper = held[5]!.toUpperCase();
  const asked = [...held, ...held.slice(0, 50), gone, gone, upper];
  const found = await t.store.objects.missing(asked);
  assert.deepEqual([...found].sort(), [gone, upper].sort());
});

Deno.test("ObjectStore.missing() of many ids names those sharing a held id's first 8 hex digits", async () => {
  await using t = await testStore();
  const pack = objects(BULK_LOOKUPS + 10, "pack");
  await t.store.objects.writePack(pack);
  const held = [...pack.keys()];
  // Not stored: the first 8 digits of a held id, then other digits (once only the last).
  const twins = held.slice(0, 300).map((h, i) =>
    i % 2 === 0
      ? `${h.slice(0, 8)}${sha256(`twin ${i}`).slice(8)}`
      : `${h.slice(0, 63)}${h[63] === "0" ? "1" : "0"}`
  );
  // Asked with and without the held ids they resemble.
  assert.deepEqual(
    [...await t.store.objects.missing([...twins, ...held])].sort(),
    [...twins].sort(),
  );
  const alone = [...twins, ...held.slice(300)];
  assert.deepEqual([...await t.store.objects.missing(alone)].sort(), [...twins].sort());
});
