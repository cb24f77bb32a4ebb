/**
 * SHA-256 of many small objects lying in one buffer (a pack), for `verify`: `node:crypto`
 * costs about 1.7 µs a call whatever the size, against 0.06 µs to hash a 100-byte object's
 * bytes, so a million small objects cost more in calls than in hashing. Here the bytes are
 * read into the memory of a small WebAssembly module, which hashes each object where it
 * lies for a few tenths of a µs. The module's bytes are written below, instruction by
 * instruction (FIPS 180-4's compression function, its 64 rounds unrolled), so the source
 * is the code: no binary blob, nothing downloaded. No I/O.
 */
import { H0, K } from "./sha256.ts";

/** Where the module keeps the hash state (8 words) and the last blocks' padding. */
const STATE = 0;
const PAD = 64;
/** Where the bytes to hash start in the module's memory. */
const DATA = 256;
const PAGE = 64 << 10;

// ---- the few WebAssembly instructions the module needs ----

const op = {
  block: 0x02,
  loop: 0x03,
  if: 0x04,
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  call: 0x10,
  select: 0x1b,
  get: 0x20,
  set: 0x21,
  tee: 0x22,
  load: 0x28,
  store: 0x36,
  store8: 0x3a,
  const: 0x41,
  eq: 0x46,
  ltU: 0x49,
  geU: 0x4f,
  add: 0x6a,
  sub: 0x6b,
  and: 0x71,
  or: 0x72,
  xor: 0x73,
  shl: 0x74,
  shrU: 0x76,
  rotl: 0x77,
  rotr: 0x78,
} as const;
const VOID = 0x40;
const I32 = 0x7f;

/** Unsigned LEB128. */
function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a 32-bit integer. */
function sleb(n: number): number[] {
  n |= 0;
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const get = (l: number) => [op.get, ...uleb(l)];
const set = (l: number) => [op.set, ...uleb(l)];
const i32 = (n: number) => [op.const, ...sleb(n)];
/** An aligned 32-bit load or store at the address on the stack plus `offset`. */
const load = (offset = 0) => [op.load, 2, ...uleb(offset)];
const store = (offset = 0) => [op.store, 2, ...uleb(offset)];
const rotr = (n: number) => [...i32(n), op.rotr];

/** Swap the bytes of the word on the stack, held in local `tmp` (a big-endian load). */
function byteSwap(tmp: number): number[] {
  return [
    op.tee,
    ...uleb(tmp),
    ...i32(8),
    op.rotl,
    ...i32(0x00ff00ff),
    op.and,
    ...get(tmp),
    ...rotr(8),
    ...i32(0xff00ff00),
    op.and,
    op.or,
  ];
}

/**
 * compress(p): one block of 64 bytes at `p` into the state at `STATE`. Locals: 0 p, 1–8 the
 * working variables, 9–24 the message schedule's last 16 words, 25 t1, 26 a scratch word.
 */
function compressBody(): number[] {
  const W = 9;
  const T1 = 25;
  const TMP = 26;
  const code: number[] = [];
  for (let i = 0; i < 8; i++) code.push(...i32(STATE), ...load(4 * i), ...set(1 + i));
  // The working variables a…h by the local holding each: renamed each round, not moved.
  let v = [1, 2, 3, 4, 5, 6, 7, 8];
  for (let t = 0; t < 64; t++) {
    const w = W + (t & 15);
    if (t < 16) {
      code.push(...get(0), ...load(4 * t), ...byteSwap(TMP), ...set(w));
    } else {
      const w15 = W + ((t - 15) & 15);
      const w2 = W + ((t - 2) & 15);
      const w7 = W + ((t - 7) & 15);
      code.push(
        ...get(w),
        ...get(w15),
        ...rotr(7),
        ...get(w15),
        ...rotr(18),
        op.xor,
        ...get(w15),
        ...i32(3),
        op.shrU,
        op.xor,
        op.add,
        ...get(w7),
        op.add,
        ...get(w2),
        ...rotr(17),
        ...get(w2),
        ...rotr(19),
        op.xor,
        ...get(w2),
        ...i32(10),
        op.shrU,
        op.xor,
        op.add,
        ...set(w),
      );
    }
    const [a, b, c, d, e, f, g, h] = v as [
      number,
      number,
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    // t1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t]; Ch = g ^ (e & (f ^ g))
    code.push(
      ...get(h),
      ...get(e),
      ...rotr(6),
      ...get(e),
      ...rotr(11),
      op.xor,
      ...get(e),
      ...rotr(25),
      op.xor,
      op.add,
      ...get(g),
      ...get(e),
      ...get(f),
      ...get(g),
      op.xor,
      op.and,
      op.xor,
      op.add,
      ...i32(K[t]!),
      op.add,
      ...get(w),
      op.add,
      ...set(T1),
    );
    // d += t1 (the next e); h = t1 + Σ0(a) + Maj(a, b, c) (the next a); Maj = (a & b) | (c & (a | b))
    code.push(...get(d), ...get(T1), op.add, ...set(d));
    code.push(
      ...get(T1),
      ...get(a),
      ...rotr(2),
      ...get(a),
      ...rotr(13),
      op.xor,
      ...get(a),
      ...rotr(22),
      op.xor,
      op.add,
      ...get(a),
      ...get(b),
      op.and,
      ...get(c),
      ...get(a),
      ...get(b),
      op.or,
      op.and,
      op.or,
      op.add,
      ...set(h),
    );
    v = [h, a, b, c, d, e, f, g];
  }
  for (let i = 0; i < 8; i++) {
    code.push(...i32(STATE), ...i32(STATE), ...load(4 * i), ...get(v[i]!), op.add, ...store(4 * i));
  }
  return code;
}

/**
 * digest(p, len, out): SHA-256 of `len` bytes at `p` into 8 words at `out` (each word's
 * value as the digest reads it big-endian). Locals: 0 p, 1 len, 2 out, 3 the bytes left, 4
 * the padded tail's length.
 */
function digestBody(): number[] {
  const P = 0, LEN = 1, OUT = 2, LEFT = 3, TAIL = 4, TMP = 5;
  const code: number[] = [];
  for (let i = 0; i < 8; i++) code.push(...i32(STATE), ...i32(H0[i]!), ...store(4 * i));
  code.push(...get(LEN), ...set(LEFT));
  // Whole blocks in place.
  code.push(op.block, VOID, op.loop, VOID);
  code.push(...get(LEFT), ...i32(64), op.ltU, op.brIf, 1);
  code.push(...get(P), op.call, 0);
  code.push(...get(P), ...i32(64), op.add, ...set(P));
  code.push(...get(LEFT), ...i32(64), op.sub, ...set(LEFT));
  code.push(op.br, 0, op.end, op.end);
  // The rest, 0x80, zeros and the length in bits, in one or two blocks at PAD.
  code.push(...i32(PAD), ...i32(0), ...i32(128), 0xfc, ...uleb(11), 0);
  code.push(...i32(PAD), ...get(P), ...get(LEFT), 0xfc, ...uleb(10), 0, 0);
  code.push(...i32(PAD), ...get(LEFT), op.add, ...i32(0x80), op.store8, 0, 0);
  code.push(...i32(128), ...i32(64), ...get(LEFT), ...i32(56), op.geU, op.select, ...set(TAIL));
  code.push(...i32(PAD - 8), ...get(TAIL), op.add, ...get(LEN), ...i32(29), op.shrU);
  code.push(...byteSwap(TMP), ...store());
  code.push(...i32(PAD - 4), ...get(TAIL), op.add, ...get(LEN), ...i32(3), op.shl);
  code.push(...byteSwap(TMP), ...store());
  code.push(...i32(PAD), op.call, 0);
  code.push(...get(TAIL), ...i32(128), op.eq, op.if, VOID, ...i32(PAD + 64), op.call, 0, op.end);
  for (let i = 0; i < 8; i++) {
    code.push(...get(OUT), ...i32(STATE), ...load(4 * i), ...store(4 * i));
  }
  return code;
}

/** A section of the module: its id, then its bytes with their length. */
function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/** A vector: its length, then its items. */
function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A function body: its locals (all i32) and its code. */
function body(locals: number, code: number[]): number[] {
  const inner = [...vec(locals ? [[...uleb(locals), I32]] : []), ...code, op.end];
  return [...uleb(inner.length), ...inner];
}

/** The module's bytes. */
function moduleBytes(): Uint8Array<ArrayBuffer> {
  const name = (s: string) => [...uleb(s.length), ...new TextEncoder().encode(s)];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    // types: 0 (i32) → (), 1 (i32, i32, i32) → ()
    ...section(1, vec([[0x60, 1, I32, 0], [0x60, 3, I32, I32, I32, 0]])),
    // functions: 0 compress (type 0), 1 digest (type 1)
    ...section(3, vec([[0], [1]])),
    // one memory of at least a page
    ...section(5, vec([[0x00, 1]])),
    ...section(7, vec([[...name("memory"), 2, 0], [...name("digest"), 0, 1]])),
    ...section(10, vec([body(26, compressBody()), body(3, digestBody())])),
  ]);
}

interface Exports {
  readonly memory: WebAssembly.Memory;
  digest(p: number, len: number, out: number): void;
}

let instance: Exports | undefined;

/** The module, compiled on first use. */
function wasm(): Exports {
  return instance ??= new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()))
    .exports as unknown as Exports;
}

/**
 * A buffer of `size` bytes in the module's memory, to read a pack into and hash its objects
 * where they lie; valid until the next `hashBuffer()` call. Sizes past 1 GiB, or memory the
 * host will not give, are refused (null): the caller hashes such a pack's objects one call
 * each.
 */
export function hashBuffer(size: number): HashBuffer | null {
  if (size > MAX_BUFFER) return null;
  const w = wasm();
  const need = DATA + size + 36;
  const have = w.memory.buffer.byteLength;
  try {
    if (need > have) w.memory.grow(Math.ceil((need - have) / PAGE));
  } catch (err) {
    if (err instanceof RangeError) return null;
    throw err;
  }
  return new HashBuffer(w, size);
}

/** The largest buffer `hashBuffer()` gives. */
const MAX_BUFFER = 1 << 30;

/** Bytes in the module's memory, and the SHA-256 of any range of them. */
export class HashBuffer {
  readonly #w: Exports;
  /** The bytes (a view of the module's memory). */
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly #out: Int32Array;
  readonly #outAt: number;

  constructor(w: Exports, size: number) {
    this.#w = w;
    // Not shared: the module declares its memory unshared.
    this.bytes = new Uint8Array(w.memory.buffer as ArrayBuffer, DATA, size);
    this.#outAt = DATA + size;
    // 4-byte aligned after the bytes.
    this.#outAt += (4 - (this.#outAt & 3)) & 3;
    this.#out = new Int32Array(w.memory.buffer, this.#outAt, 8);
  }

  /**
   * SHA-256 of `bytes[from, to)`, as 8 big-endian words (a view reused by the next call).
   */
  digest(from: number, to: number): Int32Array {
    if (!(from >= 0 && from <= to && to <= this.bytes.length)) {
      throw new RangeError(
        `Cannot hash bytes ${from} to ${to} of a buffer of ${this.bytes.length}`,
      );
    }
    this.#w.digest(DATA + from, to - from, this.#outAt);
    return this.#out;
  }
}
