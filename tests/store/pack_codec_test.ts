import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { concatBytes } from "../../lib/store/fs_util.ts";
import { sha256 } from "../../lib/store/hash.ts";
import {
  checkPack,
  checkPackTable,
  encodePack,
  PACK_MAGIC,
  type PackEntry,
  untiled,
} from "../../lib/store/pack_codec.ts";
import { encodeIndex, readIndexTable } from "../../lib/store/pack_index.ts";
import { IdTable } from "../../lib/store/id_table.ts";
import { hashBuffer } from "../../lib/store/sha256_many.ts";

const enc = new TextEncoder();

/** Objects keyed by their hash. */
function objects(...contents: (string | Uint8Array)[]): Map<string, Uint8Array> {
  return new Map(contents.map((c) => {
    const bytes = typeof c === "string" ? enc.encode(c) : c;
    return [sha256(bytes), bytes];
  }));
}

function packBytes(pieces: Iterable<Uint8Array>): Uint8Array {
  return concatBytes([...pieces]);
}

function assertIntegrity(fn: () => unknown, data: Record<string, unknown>): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.code, "INTEGRITY");
    for (const [k, v] of Object.entries(data)) assert.equal(err.data[k], v);
    return true;
  });
}

Deno.test("encodePack() starts with the magic line and puts each object after its header", () => {
  const objs = objects("alpha", "", "gamma\n");
  const { entries, pieces } = encodePack(objs);
  const bytes = packBytes(pieces);
  assert.equal(new TextDecoder().decode(bytes.subarray(0, PACK_MAGIC.length)), "tusk-pack 1\n");
  assert.deepEqual(entries.map((e) => e.hash), [...objs.keys()]);
  for (const e of entries) {
    assert.deepEqual(bytes.subarray(e.offset, e.offset + e.length), objs.get(e.hash));
    const head = `${e.hash} ${e.length}\n`;
    assert.equal(new TextDecoder().decode(bytes.subarray(e.offset - head.length, e.offset)), head);
  }
  const last = entries.at(-1)!;
  assert.equal(bytes.length, last.offset + last.length);
});

Deno.test("encodePack() hands a large pack out in pieces of about 8 MiB", () => {
  const big = (seed: number) => new Uint8Array(5 << 20).fill(seed);
  const objs = objects(big(1), big(2), big(3));
  const { entries, pieces } = encodePack(objs);
  const list = [...pieces];
  assert.equal(list.length, 2);
  const bytes = packBytes(list);
  for (const e of entries) {
    assert.deepEqual(bytes.subarray(e.offset, e.offset + e.length), objs.get(e.hash));
  }
});

Deno.test("checkPack() passes an encoded pack and counts its objects", () => {
  const { entries, pieces } = encodePack(objects("a", "b", "c"));
  let n = 0;
  checkPack("p", packBytes(pieces), entries, () => n++);
  assert.equal(n, 3);
});

Deno.test("checkPack() refuses a pack without its magic line", () => {
  const { entries, pieces } = encodePack(objects("a"));
  const bytes = packBytes(pieces);
  bytes[0] = 0x58;
  assertIntegrity(() => checkPack("p", bytes, entries), { pack: "p" });
});

Deno.test("checkPack() refuses an object whose header does not match the index", () => {
  const { entries, pieces } = encodePack(objects("abc"));
  const shifted: PackEntry[] = entries.map((e) => ({ ...e, offset: e.offset + 1, length: 2 }));
  const hash = entries[0]!.hash;
  assertIntegrity(() => checkPack("p", packBytes(pieces), shifted), { pack: "p", object: hash });
});

Deno.test("checkPack() refuses a pack that ends before an object does", () => {
  const { entries, pieces } = encodePack(objects("abcdef"));
  const bytes = packBytes(pieces);
  const hash = entries[0]!.hash;
  assertIntegrity(() => checkPack("p", bytes.subarray(0, bytes.length - 2), entries), {
    pack: "p",
    object: hash,
  });
});

Deno.test("checkPack() refuses an object whose bytes no longer match its hash", () => {
  const { entries, pieces } = encodePack(objects("abcdef"));
  const bytes = packBytes(pieces);
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
  assertIntegrity(() => checkPack("p", bytes, entries), { pack: "p", object: entries[0]!.hash });
});

/** A pack of `objs` with its index read into a table, as verify reads them. */
async function tableOf(objs: Map<string, Uint8Array>) {
  const { entries, pieces } = encodePack(objs);
  const ids = new IdTable();
  const table = await readIndexTable(await encodeIndex(entries), "p", ids);
  return { bytes: packBytes(pieces), table, ids, entries };
}

Deno.test("checkPackTable() passes an encoded pack and counts its objects", async () => {
  const { bytes, table, ids } = await tableOf(objects("a", "b", "", "c".repeat(1000)));
  let n = 0;
  checkPackTable(bytes, table, { ids, onObject: () => n++ });
  assert.equal(n, 4);
});

Deno.test("checkPackTable() hashes with the digest it is given", async () => {
  const { bytes, table, ids } = await tableOf(objects("a", "b"));
  const buffer = hashBuffer(bytes.length)!;
  buffer.bytes.set(bytes);
  let calls = 0;
  const digest = (from: number, to: number) => (calls++, buffer.digest(from, to));
  checkPackTable(buffer.bytes, table, { ids, digest });
  assert.equal(calls, 2);
  buffer.bytes[buffer.bytes.length - 1] = buffer.bytes[buffer.bytes.length - 1]! ^ 1;
  assertIntegrity(() => checkPackTable(buffer.bytes, table, { ids, digest }), { pack: "p" });
});

Deno.test("checkPackTable() refuses a pack without its magic line", async () => {
  const { bytes, table, ids } = await tableOf(objects("a"));
  bytes[0] = 0x58;
  assertIntegrity(() => checkPackTable(bytes, table, { ids }), { pack: "p" });
});

Deno.test("checkPackTable() refuses an object whose header does not match the index", async () => {
  const { bytes, table, ids, entries } = await tableOf(objects("abc", "defg"));
  const e = entries[1]!;
  bytes[e.offset - 3] = 0x2a;
  assertIntegrity(() => checkPackTable(bytes, table, { ids }), { pack: "p", object: e.hash });
  const shifted = { ...table, offsets: table.offsets.map((o) => o + 1) };
  const { bytes: clean } = await tableOf(objects("abc", "defg"));
  assertIntegrity(() => checkPackTable(clean, shifted, { ids }), { pack: "p" });
});

Deno.test("checkPackTable() refuses a pack that ends before an object does", async () => {
  const { bytes, table, ids, entries } = await tableOf(objects("abcdef"));
  assertIntegrity(() => checkPackTable(bytes.subarray(0, bytes.length - 2), table, { ids }), {
    pack: "p",
    object: entries[0]!.hash,
  });
});

Deno.test("checkPackTable() refuses an object whose bytes no longer match its hash", async () => {
  const { bytes, table, ids, entries } = await tableOf(objects("abcdef"));
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
  assertIntegrity(() => checkPackTable(bytes, table, { ids }), {
    pack: "p",
    object: entries[0]!.hash,
  });
});

Deno.test("checkPackTable() names bytes after a pack's last object, with their offset", async () => {
  const { bytes, table, ids } = await tableOf(objects("abc", "defg"));
  for (const tail of ["\n", "x".repeat(100)]) {
    const padded = packBytes([bytes, enc.encode(tail)]);
    assert.throws(() => checkPackTable(padded, table, { ids }), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.deepEqual(
        [err.data.pack, err.data.offset, err.data.bytes, err.data.problem],
        ["p", bytes.length, tail.length, "trailing-bytes"],
      );
      assert.match(err.message, new RegExp(`Pack p has ${tail.length} byte\\(s\\) after its last`));
      assert.match(err.message, new RegExp(`from offset ${bytes.length}\\b`));
      return true;
    });
  }
});

Deno.test("checkPackTable() names bytes between two objects that no index entry names", async () => {
  const { bytes, entries } = await tableOf(objects("abc", "defg"));
  const later = entries.reduce((a, b) => (a.offset > b.offset ? a : b));
  const earlier = entries.find((e) => e !== later)!;
  const gapAt = earlier.offset + earlier.length;
  const junk = enc.encode("JUNK");
  const gapped = packBytes([bytes.subarray(0, gapAt), junk, bytes.subarray(gapAt)]);
  const moved = entries.map((e) => e === later ? { ...e, offset: e.offset + junk.length } : e);
  const ids = new IdTable();
  const table = await readIndexTable(await encodeIndex(moved), "p", ids);
  assertIntegrity(() => checkPackTable(gapped, table, { ids }), {
    pack: "p",
    offset: gapAt,
    problem: "unnamed-bytes",
  });
});

Deno.test("checkPackTable() names an index whose entries name one record twice, hiding as many unnamed bytes", async () => {
  const { bytes, entries } = await tableOf(objects("abc", "defg"));
  const first = entries[0]!;
  const span = first.offset + first.length - (first.offset - `${first.hash} 3\n`.length);
  // The same record again, its offset written with a leading zero (the index is text), and
  // as many bytes as it spans appended: the records' lengths add up to the pack's size.
  const twice = { ...first, offset: `0${first.offset}` as unknown as number };
  const ids = new IdTable();
  const table = await readIndexTable(await encodeIndex([...entries, twice]), "p", ids);
  const padded = packBytes([bytes, enc.encode("J".repeat(span))]);
  assertIntegrity(() => checkPackTable(padded, table, { ids }), {
    pack: "p",
    offset: first.offset - `${first.hash} 3\n`.length,
    problem: "overlapping-entries",
  });
});

Deno.test("checkPackTable() names an entry inside another object's bytes, whose own record no entry names", async () => {
  const inner = enc.encode("defg");
  const innerHash = sha256(inner);
  const record = enc.encode(`${innerHash} 4\ndefg`);
  // An object whose bytes are another's record (a pack stored as a file holds such bytes).
  const outer = objects(record, inner);
  const { bytes, entries } = await tableOf(outer);
  const outerEntry = entries.find((e) => e.hash !== innerHash)!;
  const inside = { hash: innerHash, offset: outerEntry.offset + record.length - 4, length: 4 };
  const ids = new IdTable();
  const table = await readIndexTable(await encodeIndex([outerEntry, inside]), "p", ids);
  assertIntegrity(() => checkPackTable(bytes, table, { ids }), { problem: "overlapping-entries" });
});

Deno.test("untiled() passes records that cover a pack once each, and names the first gap, overlap or tail", () => {
  const m = PACK_MAGIC.length;
  // Spans of records as a pack holds them: at least 67 bytes each (a header, then the bytes).
  const run = (spans: [number, number][], size: number) =>
    untiled(
      Float64Array.from(spans, ([s]) => m + s),
      Float64Array.from(spans, ([s, n]) => m + s + n),
      m + size,
    );
  assert.equal(run([], 0), null);
  assert.equal(run([[70, 100], [0, 70]], 170), null, "in any order");
  assert.equal(run([[0, 67], [67, 67], [134, 67]], 201), null, "the shortest records");
  assert.deepEqual(run([[0, 70]], 72), { kind: "trailing", offset: m + 70, bytes: 2 });
  assert.deepEqual(run([], 1), { kind: "trailing", offset: m, bytes: 1 });
  assert.deepEqual(run([[0, 70], [71, 70]], 141), { kind: "gap", offset: m + 70 });
  assert.deepEqual(run([[1, 70]], 71), { kind: "gap", offset: m });
  assert.deepEqual(run([[0, 70], [200, 70]], 270), { kind: "gap", offset: m + 70 });
  assert.deepEqual(run([[0, 70], [0, 70]], 140), { kind: "overlap", offset: m });
  // One record inside another, in another block: found once the chain is followed.
  assert.deepEqual(run([[0, 300], [150, 70], [300, 70]], 440), {
    kind: "overlap",
    offset: m + 150,
  });
  assert.throws(() => run([[0, 10]], 10), TypeError, "no record of a pack is that short");
  // A record starting inside the one before it, in the block that one ends in.
  assert.deepEqual(run([[0, 100], [90, 80]], 170), { kind: "overlap", offset: m + 90 });
});
