import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { hashBuffer } from "../../lib/store/sha256_many.ts";

const native = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const hex = (words: Int32Array) =>
  [...words].map((w) => (w >>> 0).toString(16).padStart(8, "0")).join("");

Deno.test("hashBuffer() digests agree with the native hash at every length around the block and padding edges", () => {
  const buf = hashBuffer(400)!;
  for (let i = 0; i < 400; i++) buf.bytes[i] = (i * 151 + 7) & 0xff;
  for (const from of [0, 1, 3, 64]) {
    for (let n = 0; n <= 300; n++) {
      const got = hex(buf.digest(from, from + n));
      assert.equal(got, native(buf.bytes.slice(from, from + n)), `${n} bytes from ${from}`);
    }
  }
});

Deno.test("hashBuffer() gives the FIPS 180-4 vector of a million a's", () => {
  const buf = hashBuffer(1_000_000)!;
  buf.bytes.fill(0x61);
  assert.equal(
    hex(buf.digest(0, 1_000_000)),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("hashBuffer() hashes many small objects of one buffer each where it lies", () => {
  const sizes = Array.from({ length: 500 }, (_, i) => (i * 37) % 200);
  const total = sizes.reduce((a, b) => a + b, 0);
  const buf = hashBuffer(total)!;
  for (let i = 0; i < total; i++) buf.bytes[i] = (i * 2654435761) >>> 24;
  let at = 0;
  for (const n of sizes) {
    assert.equal(hex(buf.digest(at, at + n)), native(buf.bytes.slice(at, at + n)));
    at += n;
  }
});

Deno.test("hashBuffer() grows its memory for a larger buffer and refuses one past 1 GiB", () => {
  const small = hashBuffer(10)!;
  small.bytes.set([1, 2, 3]);
  const large = hashBuffer(8 << 20)!;
  assert.equal(large.bytes.length, 8 << 20);
  large.bytes.fill(7);
  assert.equal(hex(large.digest(0, 8 << 20)), native(new Uint8Array(8 << 20).fill(7)));
  assert.equal(hashBuffer((1 << 30) + 1), null);
});

Deno.test("HashBuffer.digest() refuses a range outside its bytes", () => {
  const buf = hashBuffer(100)!;
  for (const [from, to] of [[-1, 10], [10, 101], [20, 10]] as const) {
    assert.throws(() => buf.digest(from, to), RangeError);
  }
});
