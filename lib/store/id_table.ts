/**
 * A set of object ids held in typed arrays, for passes over every object of a store (verify,
 * gc, a bulk "which of these does a pack hold"): a million ids cost two typed arrays rather
 * than a million strings in a `Map`, and an id is found from its hex text, as a string or as
 * bytes in a pack index, without making a string of it. Pure, no I/O.
 *
 * @example
 * ```ts
 * const ids = new IdTable(hashes.length);
 * for (const h of hashes) ids.add(h); // ordinals 0, 1, 2… in order of first insertion
 * ids.find(hash); // its ordinal, or -1
 * ids.findHex(indexBytes, lineStart); // the same, from 64 hex digits in a byte array
 * ```
 */
import type { Hash } from "./hash.ts";

/** 32-bit words in an id (SHA-256: 256 bits). */
const WORDS = 8;

/**
 * An open-addressing table of SHA-256 ids, each numbered by its ordinal (the order in which
 * it was first added), so callers keep what they know of an id in a typed array beside it.
 * An id's slot comes from the low bits of its first 32 bits (which SHA-256 spreads evenly,
 * and which ids added in sorted order, as a pack index lists them, leave in no order). Each
 * slot holds those first 32 bits beside the ordinal: a probe that misses reads no id.
 */
export class IdTable {
  /** The ids as 32-bit words, 8 per ordinal. */
  #words: Int32Array;
  /** Per slot: the id's first word, and 1 + its ordinal (0: an empty slot). */
  #slots: Int32Array;
  #mask: number;
  #size = 0;
  /** Scratch words of the id being looked up. */
  readonly #probe = new Int32Array(WORDS);

  /** A table sized for about `capacity` ids (it grows past that). */
  constructor(capacity = 16) {
    let bits = 4;
    while ((1 << bits) < capacity * 2) bits++;
    this.#words = new Int32Array(Math.max(16, capacity) * WORDS);
    this.#slots = new Int32Array(2 << bits);
    this.#mask = (1 << bits) - 1;
  }

  /** How many ids it holds. */
  get size(): number {
    return this.#size;
  }

  /** Make room for `more` ids beyond those held, at once rather than by doubling. */
  reserve(more: number): void {
    const need = this.#size + more;
    if (need * WORDS > this.#words.length) {
      // By half again at least: a store of many packs reserves once per pack.
      const grown = new Int32Array(Math.max(need * WORDS, Math.ceil(this.#words.length * 1.5)));
      grown.set(this.#words.subarray(0, this.#size * WORDS));
      this.#words = grown;
    }
    let slots = this.#mask + 1;
    while (slots < need * 2) slots *= 2;
    if (slots > this.#mask + 1) this.#grow(slots);
  }

  /** The ordinal of `hash`, or -1 when absent (or not 64 lower-case hex digits). */
  find(hash: Hash): number {
    return parseString(hash, this.#probe) ? this.#lookup(false) : -1;
  }

  /**
   * Add `hash`; its ordinal, new or not, or -1 when it is not 64 lower-case hex digits (no
   * object has such a name, so it is never found either).
   */
  add(hash: Hash): number {
    return parseString(hash, this.#probe) ? this.#lookup(true) : -1;
  }

  /**
   * The ordinal of the id whose 64 hex digits start at `at` in `bytes`, or -1. Its first 8
   * digits are read first: an id the table does not hold is most often told apart by them
   * alone (an empty slot, or other first words in the slots probed), without reading the rest.
   */
  findHex(bytes: Uint8Array, at: number): number {
    if (at < 0 || at + 64 > bytes.length) return -1;
    let first = 0;
    let bad = 0;
    for (let j = at; j < at + 8; j++) {
      const d = HEX[bytes[j]!]!;
      bad |= d;
      first = (first << 4) | (d & 15);
    }
    if (bad < 0) return -1;
    const slots = this.#slots;
    const p = this.#probe;
    let parsed = false;
    for (let s = first & this.#mask;; s = (s + 1) & this.#mask) {
      const ord = slots[2 * s + 1]! - 1;
      if (ord < 0) return -1;
      if (slots[2 * s] !== first) continue;
      // The rest read once, at the first slot whose first word matches.
      if (!parsed && !(parsed = parseBytes(bytes, at, p))) return -1;
      if (this.#restIs(ord)) return ord;
    }
  }

  /**
   * Add the id whose 64 hex digits start at `at` in `bytes`; its ordinal, or -1 when they
   * are not 64 lower-case hex digits.
   */
  addHex(bytes: Uint8Array, at: number): number {
    return parseBytes(bytes, at, this.#probe) ? this.#lookup(true) : -1;
  }

  /** True when the id of `ordinal` is the SHA-256 digest `digest` (8 big-endian words). */
  matches(ordinal: number, digest: Int32Array): boolean {
    const w = this.#words;
    const at = ordinal * WORDS;
    for (let i = 0; i < WORDS; i++) if (w[at + i] !== digest[i]) return false;
    return true;
  }

  /** True when the id of `ordinal` is `hash`. */
  is(ordinal: number, hash: Hash): boolean {
    return parseString(hash, this.#probe) && this.matches(ordinal, this.#probe);
  }

  /** True when the 64 hex digits at `at` in `bytes` are the id of `ordinal`. */
  isHex(ordinal: number, bytes: Uint8Array, at: number): boolean {
    return parseBytes(bytes, at, this.#probe) && this.matches(ordinal, this.#probe);
  }

  /** The id of `ordinal` as hex. */
  id(ordinal: number): Hash {
    let hex = "";
    for (let i = 0; i < WORDS; i++) {
      hex += (this.#words[ordinal * WORDS + i]! >>> 0).toString(16).padStart(8, "0");
    }
    return hex;
  }

  /** True when words 1–7 of the id of `ordinal` are those of `#probe` (word 0 matched). */
  #restIs(ordinal: number): boolean {
    const w = this.#words;
    const p = this.#probe;
    const at = ordinal * WORDS;
    return w[at + 1] === p[1] && w[at + 2] === p[2] && w[at + 3] === p[3] &&
      w[at + 4] === p[4] && w[at + 5] === p[5] && w[at + 6] === p[6] && w[at + 7] === p[7];
  }

  /** Find (or, with `add`, add) the id in `#probe`. */
  #lookup(add: boolean): number {
    const p = this.#probe;
    const first = p[0]!;
    const slots = this.#slots;
    for (let at = first & this.#mask;; at = (at + 1) & this.#mask) {
      const ord = slots[2 * at + 1]! - 1;
      if (ord < 0) return add ? this.#insert(at) : -1;
      if (slots[2 * at] !== first) continue;
      if (this.#restIs(ord)) return ord;
    }
  }

  /** Put the id in `#probe` at the empty slot `at`; its new ordinal. */
  #insert(at: number): number {
    const ord = this.#size++;
    if ((ord + 1) * WORDS > this.#words.length) {
      const grown = new Int32Array(this.#words.length * 2);
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#words.set(this.#probe, ord * WORDS);
    if (this.#size * 2 > this.#mask + 1) {
      this.#grow(2 * (this.#mask + 1));
      return ord;
    }
    this.#slots[2 * at] = this.#probe[0]!;
    this.#slots[2 * at + 1] = ord + 1;
    return ord;
  }

  /** Make `slots` slots (a power of 2) and place every id again. */
  #grow(slots: number): void {
    this.#mask = slots - 1;
    this.#slots = new Int32Array(2 * (this.#mask + 1));
    for (let ord = 0; ord < this.#size; ord++) {
      const first = this.#words[ord * WORDS]!;
      let at = first & this.#mask;
      while (this.#slots[2 * at + 1] !== 0) at = (at + 1) & this.#mask;
      this.#slots[2 * at] = first;
      this.#slots[2 * at + 1] = ord + 1;
    }
  }
}

/** The value of each lower-case hex digit by its character code; -1 for other codes. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 16; c++) HEX["0123456789abcdef".charCodeAt(c)] = c;

/** `hash` as 8 words into `out`; false when it is not 64 lower-case hex digits. */
function parseString(hash: string, out: Int32Array): boolean {
  if (hash.length !== 64) return false;
  let bad = 0;
  for (let i = 0; i < WORDS; i++) {
    let v = 0;
    for (let j = i * 8; j < i * 8 + 8; j++) {
      const c = hash.charCodeAt(j);
      const d = c < 256 ? HEX[c]! : -1;
      bad |= d;
      v = (v << 4) | (d & 15);
    }
    out[i] = v;
  }
  return bad >= 0;
}

/** The 64 hex digits at `at` in `bytes` as 8 words into `out`; false when they are not. */
function parseBytes(bytes: Uint8Array, at: number, out: Int32Array): boolean {
  if (at < 0 || at + 64 > bytes.length) return false;
  let bad = 0;
  for (let i = 0; i < WORDS; i++) {
    let v = 0;
    for (let j = at + i * 8; j < at + i * 8 + 8; j++) {
      const d = HEX[bytes[j]!]!;
      bad |= d;
      v = (v << 4) | (d & 15);
    }
    out[i] = v;
  }
  return bad >= 0;
}
