/**
 * SHA-256 (FIPS 180-4) in plain TypeScript, for the small objects every command hashes:
 * it needs no `node:crypto`, whose Node-compat set-up would cost a short command more
 * than all its hashing. Large files go through `node:crypto` instead (see `codec.ts`).
 */

/** FIPS 180-4's 64 round constants. */
export const K: readonly number[] = [
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
];
/** FIPS 180-4's initial hash value. */
export const H0: readonly number[] = [
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
];
const K32 = new Int32Array(K);

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const encoder = new TextEncoder();

/** An incremental SHA-256: `update` any number of times, then `digestHex` once. */
export class Sha256 {
  readonly #h = new Int32Array(H0);
  readonly #w = new Int32Array(64);
  readonly #block = new Uint8Array(64);
  #buffered = 0;
  #length = 0;
  #done = false;

  /** Add bytes (or a string, as UTF-8). */
  update(data: Uint8Array | string): this {
    if (this.#done) throw new TypeError("Cannot update a Sha256 after its digest was taken");
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    this.#length += bytes.length;
    let pos = 0;
    if (this.#buffered > 0) {
      const take = Math.min(64 - this.#buffered, bytes.length);
      this.#block.set(bytes.subarray(0, take), this.#buffered);
      this.#buffered += take;
      pos = take;
      if (this.#buffered < 64) return this;
      this.#compress(this.#block, 0);
      this.#buffered = 0;
    }
    for (; pos + 64 <= bytes.length; pos += 64) this.#compress(bytes, pos);
    if (pos < bytes.length) {
      this.#block.set(bytes.subarray(pos), 0);
      this.#buffered = bytes.length - pos;
    }
    return this;
  }

  /** The hash as 64 lower-case hex digits. */
  digestHex(): string {
    if (this.#done) throw new TypeError("Cannot take the digest of a Sha256 twice");
    this.#done = true;
    const bits = this.#length * 8;
    const block = this.#block;
    block[this.#buffered] = 0x80;
    block.fill(0, this.#buffered + 1);
    if (this.#buffered >= 56) {
      this.#compress(block, 0);
      block.fill(0);
    }
    // The message length in bits, big-endian, in the last 8 bytes (lengths stay below 2^53).
    const high = Math.floor(bits / 0x100000000);
    const low = bits >>> 0;
    block[56] = high >>> 24;
    block[57] = high >>> 16;
    block[58] = high >>> 8;
    block[59] = high;
    block[60] = low >>> 24;
    block[61] = low >>> 16;
    block[62] = low >>> 8;
    block[63] = low;
    this.#compress(block, 0);
    let hex = "";
    for (const word of this.#h) {
      hex += HEX[(word >>> 24) & 0xff]! + HEX[(word >>> 16) & 0xff]! + HEX[(word >>> 8) & 0xff]! +
        HEX[word & 0xff]!;
    }
    return hex;
  }

  #compress(bytes: Uint8Array, at: number): void {
    const w = this.#w;
    for (let i = 0; i < 16; i++) {
      const j = at + i * 4;
      w[i] = (bytes[j]! << 24) | (bytes[j + 1]! << 16) | (bytes[j + 2]! << 8) | bytes[j + 3]!;
    }
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = ((a >>> 7) | (a << 25)) ^ ((a >>> 18) | (a << 14)) ^ (a >>> 3);
      const s1 = ((b >>> 17) | (b << 15)) ^ ((b >>> 19) | (b << 13)) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    const h = this.#h;
    let a = h[0]!, b = h[1]!, c = h[2]!, d = h[3]!, e = h[4]!, f = h[5]!, g = h[6]!, k = h[7]!;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (k + s1 + ((e & f) ^ (~e & g)) + K32[i]! + w[i]!) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      k = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0]! + a) | 0;
    h[1] = (h[1]! + b) | 0;
    h[2] = (h[2]! + c) | 0;
    h[3] = (h[3]! + d) | 0;
    h[4] = (h[4]! + e) | 0;
    h[5] = (h[5]! + f) | 0;
    h[6] = (h[6]! + g) | 0;
    h[7] = (h[7]! + k) | 0;
  }
}
