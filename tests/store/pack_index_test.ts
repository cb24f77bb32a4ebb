import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { sha256 } from "../../lib/store/hash.ts";
import type { PackEntry } from "../../lib/store/pack_codec.ts";
import {
  encodeIndex,
  type IndexSource,
  PackIndexes,
  parseIndex,
  readIndexTable,
} from "../../lib/store/pack_index.ts";
import { IdTable } from "../../lib/store/id_table.ts";

const enc = new TextEncoder();

/** `n` entries for objects named by the hashes of `${seed}-${i}`, 20 bytes apart. */
function entries(n: number, seed = "x"): PackEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    hash: sha256(`${seed}-${i}`),
    offset: 100 + 20 * i,
    length: 10,
  }));
}

async function assertIntegrity(fn: () => unknown, pack: string): Promise<void> {
  await assert.rejects(async () => await fn(), (err: unknown) => {
    assert.ok(err instanceof IntegrityError);
    assert.equal(err.code, "INTEGRITY");
    assert.equal(err.data.pack, pack);
    return true;
  });
}

/** An index with the given entry lines and a correct checksum. */
function rawIndex(lines: readonly string[]): Uint8Array {
  const body = `tusk-idx 1\n${lines.join("\n")}\n`;
  return enc.encode(`${body}end ${sha256(body)}\n`);
}

Deno.test("encodeIndex() and parseIndex() round-trip entries, sorted by hash", async () => {
  const list = entries(20);
  const parsed = await parseIndex(await encodeIndex(list), "p");
  assert.deepEqual(parsed, [...list].sort((a, b) => a.hash < b.hash ? -1 : 1));
});

Deno.test("encodeIndex() writes the magic line, one line per object and the checksum", async () => {
  const text = new TextDecoder().decode(await encodeIndex(entries(2)));
  const lines = text.split("\n");
  assert.equal(lines[0], "tusk-idx 1");
  assert.match(lines[1]!, /^[0-9a-f]{64} \d+ 10$/);
  assert.equal(lines[3], `end ${sha256(`${lines.slice(0, 3).join("\n")}\n`)}`);
});

Deno.test("parseIndex() refuses an index whose checksum does not match", async () => {
  const bytes = await encodeIndex(entries(3));
  bytes[20] = bytes[20]! ^ 1;
  await assertIntegrity(() => parseIndex(bytes, "p"), "p");
});

Deno.test("parseIndex() refuses an index without its magic line", async () => {
  const body = "not-an-index\n";
  await assertIntegrity(() => parseIndex(enc.encode(`${body}end ${sha256(body)}\n`), "q"), "q");
});

Deno.test("parseIndex() refuses an index whose entries are out of order", async () => {
  const [a, b] = [...entries(2)].sort((x, y) => x.hash < y.hash ? -1 : 1);
  const lines = [b!, a!].map((e) => `${e.hash} ${e.offset} ${e.length}`);
  await assertIntegrity(() => parseIndex(rawIndex(lines), "p"), "p");
});

Deno.test("PackIndexes.get() finds every object of every pack, and nothing else", async () => {
  const one = entries(30, "one");
  const two = entries(30, "two");
  const indexes = new PackIndexes();
  indexes.add("pack-1", await encodeIndex(one));
  indexes.add("pack-2", await encodeIndex(two));
  assert.deepEqual(indexes.names, ["pack-1", "pack-2"]);
  for (const [pack, list] of [["pack-1", one], ["pack-2", two]] as const) {
    for (const e of list) {
      assert.deepEqual(indexes.get(e.hash), { pack, offset: e.offset, length: e.length });
    }
  }
  assert.equal(indexes.get(sha256("absent")), undefined);
  assert.equal(indexes.has(sha256("absent")), false);
});

Deno.test("PackIndexes.get() answers the same once many lookups switch it to a map", async () => {
  const list = entries(50);
  const indexes = new PackIndexes();
  indexes.add("p", await encodeIndex(list));
  for (let round = 0; round < 8; round++) {
    for (const e of list) {
      assert.deepEqual(indexes.get(e.hash), { pack: "p", offset: e.offset, length: e.length });
    }
    assert.equal(indexes.get(sha256(`absent-${round}`)), undefined);
  }
});

Deno.test("PackIndexes.add() refuses bytes that are not a pack index", async () => {
  await assertIntegrity(() => new PackIndexes().add("p", enc.encode("tusk-pack 1\n")), "p");
});

Deno.test("PackIndexes.get() refuses an entry that points into the pack's magic line", async () => {
  const hash = sha256("a");
  const indexes = new PackIndexes();
  indexes.add("p", rawIndex([`${hash} 3 10`]));
  await assertIntegrity(() => indexes.get(hash), "p");
});

/** `bytes` as an index source read range by range, counting the bytes read. */
function countingSource(bytes: Uint8Array): IndexSource & { readBytes: number } {
  const source = {
    size: bytes.length,
    readBytes: 0,
    read(from: number, to: number): Uint8Array {
      source.readBytes += to - from;
      return bytes.slice(from, to);
    },
  };
  return source;
}

Deno.test("PackIndexes.get() finds objects in an index read by windows, reading a small part of it", async () => {
  const list = entries(20_000);
  const bytes = await encodeIndex(list);
  const source = countingSource(bytes);
  const indexes = new PackIndexes();
  indexes.add("big", source);
  for (const e of list.slice(0, 100)) {
    assert.deepEqual(indexes.get(e.hash), { pack: "big", offset: e.offset, length: e.length });
  }
  assert.equal(indexes.get(sha256("absent")), undefined);
  // 101 bisections of ~15 windows each, many shared: a small part of the 1.6 MB index.
  assert.ok(source.readBytes < bytes.length / 4, `read ${source.readBytes} of ${bytes.length}`);
});

Deno.test("PackIndexes.get() finds the first and last entries of an index read by windows", async () => {
  const sorted = [...entries(5_000)].sort((a, b) => a.hash < b.hash ? -1 : 1);
  const indexes = new PackIndexes();
  indexes.add("big", countingSource(await encodeIndex(sorted)));
  for (const e of [sorted[0]!, sorted[1]!, sorted.at(-2)!, sorted.at(-1)!]) {
    assert.deepEqual(indexes.get(e.hash), { pack: "big", offset: e.offset, length: e.length });
  }
});

Deno.test("PackIndexes.get() reads past a window for a line longer than one, and refuses its length", async () => {
  const hash = sha256("a");
  const indexes = new PackIndexes();
  indexes.add("p", countingSource(rawIndex([`${hash} 100 ${"9".repeat(4000)}`])));
  await assertIntegrity(() => indexes.get(hash), "p");
});

Deno.test("readIndexTable() reads every entry into the id table, in the index's order", async () => {
  const list = entries(50);
  const ids = new IdTable();
  const table = await readIndexTable(await encodeIndex(list), "p", ids);
  const sorted = [...list].sort((a, b) => a.hash < b.hash ? -1 : 1);
  assert.equal(table.pack, "p");
  assert.equal(table.count, 50);
  sorted.forEach((e, i) => {
    assert.equal(ids.id(table.ordinals[i]!), e.hash);
    assert.equal(table.offsets[i], e.offset);
    assert.equal(table.lengths[i], e.length);
  });
});

Deno.test("readIndexTable() refuses what parseIndex() refuses: checksum, magic line, order", async () => {
  const bytes = await encodeIndex(entries(3));
  bytes[20] = bytes[20]! ^ 1;
  await assertIntegrity(() => readIndexTable(bytes, "p", new IdTable()), "p");
  const body = "not-an-index\n";
  const magic = enc.encode(`${body}end ${sha256(body)}\n`);
  await assertIntegrity(() => readIndexTable(magic, "q", new IdTable()), "q");
  const [a, b] = [...entries(2)].sort((x, y) => x.hash < y.hash ? -1 : 1);
  const swapped = rawIndex([b!, a!].map((e) => `${e.hash} ${e.offset} ${e.length}`));
  await assertIntegrity(() => readIndexTable(swapped, "r", new IdTable()), "r");
});

for (
  const [what, line] of [
    ["a hash that is not hex", (h: string) => `${h.slice(0, 63)}z 100 10`],
    ["a short hash", (h: string) => `${h.slice(1)} 100 10`],
    ["a length that is not a number", (h: string) => `${h} 100 ten`],
    ["a negative offset", (h: string) => `${h} -5 10`],
    ["an offset inside the pack's first line", (h: string) => `${h} 3 10`],
    ["no length", (h: string) => `${h} 100`],
  ] as const
) {
  Deno.test(`readIndexTable() refuses an entry with ${what}, checksum notwithstanding`, async () => {
    const bytes = rawIndex([line(sha256("only"))]);
    await assertIntegrity(() => readIndexTable(bytes, "p", new IdTable()), "p");
  });
}
