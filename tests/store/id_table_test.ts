import assert from "node:assert/strict";
import { sha256 } from "../../lib/store/hash.ts";
import { IdTable } from "../../lib/store/id_table.ts";

const ids = (n: number, seed = "x") => Array.from({ length: n }, (_, i) => sha256(`${seed}-${i}`));
const enc = new TextEncoder();

Deno.test("IdTable numbers ids in order of first insertion and finds each, growing as it fills", () => {
  const list = ids(5000);
  const table = new IdTable();
  list.forEach((h, i) => assert.equal(table.add(h), i));
  assert.equal(table.add(list[17]!), 17);
  assert.equal(table.size, 5000);
  list.forEach((h, i) => assert.equal(table.find(h), i));
  for (const h of ids(200, "other")) assert.equal(table.find(h), -1);
  assert.equal(table.id(4321), list[4321]);
});

Deno.test("IdTable takes ids added in sorted order, as a pack index lists them", () => {
  const sorted = ids(20_000).sort();
  const table = new IdTable();
  for (const h of sorted) table.add(h);
  for (const h of sorted) assert.ok(table.find(h) >= 0);
});

Deno.test("IdTable finds ids from their hex digits in bytes, and adds them so", () => {
  const list = ids(100);
  const bytes = enc.encode(list.map((h) => `${h} 1 2\n`).join(""));
  const table = new IdTable(10);
  for (let i = 0; i < list.length; i++) assert.equal(table.addHex(bytes, i * 69), i);
  for (let i = 0; i < list.length; i++) {
    assert.equal(table.findHex(bytes, i * 69), i);
    assert.equal(table.find(list[i]!), i);
    assert.ok(table.isHex(i, bytes, i * 69));
    assert.ok(table.is(i, list[i]!));
  }
  assert.ok(!table.isHex(0, bytes, 69));
  assert.equal(table.findHex(bytes, bytes.length - 10), -1);
});

Deno.test("IdTable holds and finds nothing that is not 64 lower-case hex digits", () => {
  const table = new IdTable();
  const h = sha256("a");
  table.add(h);
  for (
    const bad of [
      h.toUpperCase(),
      h.slice(1),
      `${h}0`,
      `${h.slice(0, 63)}g`,
      `${h.slice(0, 63)}\u0130`,
      "",
    ]
  ) {
    assert.equal(table.find(bad), -1, bad);
    assert.equal(table.add(bad), -1, bad);
  }
  assert.equal(table.findHex(enc.encode(`${h.slice(0, 63)}G`), 0), -1);
  assert.equal(table.size, 1);
});

Deno.test("IdTable.matches() compares an id with a digest's words", () => {
  const table = new IdTable();
  const h = sha256("b");
  const ord = table.add(h);
  const words = new Int32Array(8);
  for (let i = 0; i < 8; i++) words[i] = parseInt(h.slice(i * 8, i * 8 + 8), 16) | 0;
  assert.ok(table.matches(ord, words));
  words[7] = words[7]! ^ 1;
  assert.ok(!table.matches(ord, words));
});

Deno.test("IdTable.findHex() tells apart ids that share their first 8 hex digits", () => {
  const table = new IdTable();
  const h = sha256("c");
  const twin = `${h.slice(0, 8)}${sha256("d").slice(8)}`;
  const other = `${h.slice(0, 63)}${h[63] === "0" ? "1" : "0"}`;
  const ord = table.add(h);
  assert.equal(table.findHex(enc.encode(h), 0), ord);
  assert.equal(table.findHex(enc.encode(twin), 0), -1);
  assert.equal(table.findHex(enc.encode(other), 0), -1);
  // Its first 8 digits alone bad: refused before any slot is probed.
  assert.equal(table.findHex(enc.encode(`${h.slice(0, 7)}G${h.slice(8)}`), 0), -1);
  assert.equal(table.findHex(enc.encode(h), -1), -1);
  const twinOrd = table.add(twin);
  assert.equal(table.findHex(enc.encode(twin), 0), twinOrd);
  assert.equal(table.findHex(enc.encode(h), 0), ord);
});
