import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Sha256 } from "../../lib/store/sha256.ts";
import { createHasher, sha256 } from "../../lib/store/hash.ts";

const native = (data: Uint8Array | string) => createHash("sha256").update(data).digest("hex");

Deno.test("Sha256 gives the FIPS 180-4 test vectors", () => {
  assert.equal(
    new Sha256().update("").digestHex(),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    new Sha256().update("abc").digestHex(),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    new Sha256().update("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq").digestHex(),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
  assert.equal(
    new Sha256().update("a".repeat(1_000_000)).digestHex(),
    "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
  );
});

Deno.test("Sha256 agrees with the native hash at every length around the block and padding edges", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 151 + 7) & 0xff);
  for (let n = 0; n <= bytes.length; n++) {
    const part = bytes.subarray(0, n);
    assert.equal(new Sha256().update(part).digestHex(), native(part), `length ${n}`);
  }
  // Multi-byte UTF-8 strings are hashed as their UTF-8 bytes.
  assert.equal(new Sha256().update("héllo ✓ 🐘").digestHex(), native("héllo ✓ 🐘"));
});

Deno.test("Sha256 gives the same hash however the input is split into updates", () => {
  const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
  const whole = native(bytes);
  for (const step of [1, 3, 63, 64, 65, 127, 1000]) {
    const h = new Sha256();
    for (let i = 0; i < bytes.length; i += step) h.update(bytes.subarray(i, i + step));
    assert.equal(h.digestHex(), whole, `updates of ${step} bytes`);
  }
});

Deno.test("Sha256 refuses use after its digest", () => {
  const h = new Sha256().update("x");
  h.digestHex();
  assert.throws(() => h.update("y"), {
    name: "TypeError",
    message: "Cannot update a Sha256 after its digest was taken",
  });
  assert.throws(() => h.digestHex(), {
    name: "TypeError",
    message: "Cannot take the digest of a Sha256 twice",
  });
});

Deno.test("sha256 and createHasher agree with the native hash before and after it loads", async () => {
  const small = "a tree's bytes";
  assert.equal(sha256(small), native(small));
  // Past 1 MiB hashed, sha256 loads the native hash in the background and switches to it.
  const big = new Uint8Array(3 << 20).fill(7);
  assert.equal(sha256(big), native(big));
  const hasher = await createHasher();
  hasher.update(big.subarray(0, 1000));
  hasher.update(big.subarray(1000));
  assert.equal(hasher.hex(), native(big));
  assert.equal(sha256(small), native(small));
});
