/** storedBytes() and cutStored(): log text measured as the store keeps it, in JSON strings. */
import assert from "node:assert/strict";
import { cutStored, storedBytes } from "../../lib/runner/log_size.ts";

/** What `text` takes inside a JSON string, by JSON.stringify itself. */
function json(text: string): number {
  return new TextEncoder().encode(JSON.stringify(text)).length - 2;
}

const SAMPLES = [
  "",
  "plain ascii",
  "\x00\x01\x1f\x7f",
  '\b\f\n\r\t"\\',
  "é€😀",
  "\ud800 lone high, lone low \udc00",
  "\ud83d",
  "\u2028\u2029\ufeff",
];

Deno.test("storedBytes() agrees with JSON.stringify on every kind of character", () => {
  for (const s of SAMPLES) assert.equal(storedBytes(s), json(s), JSON.stringify(s));
  const chars = SAMPLES.join("");
  for (let round = 0; round < 200; round++) {
    let s = "";
    for (let i = 0; i < 40; i++) s += chars[Math.floor(Math.random() * chars.length)];
    assert.equal(storedBytes(s), json(s), JSON.stringify(s));
  }
});

Deno.test("cutStored() keeps the longest start within the bytes, whole characters only", () => {
  assert.deepEqual(cutStored("\x01\x01\x01", 13), { text: "\x01\x01", bytes: 12 });
  assert.deepEqual(cutStored("a😀b", 4), { text: "a", bytes: 1 });
  assert.deepEqual(cutStored("a😀b", 5), { text: "a😀", bytes: 5 });
  assert.deepEqual(cutStored("abc", 0), { text: "", bytes: 0 });
  assert.deepEqual(cutStored("abc", 10), { text: "abc", bytes: 3 });
});
