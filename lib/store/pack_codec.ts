/**
 * The pack format, pure (no I/O). A pack holds many small objects in one file: the magic
 * line `tusk-pack 1`, then for each object a header line `<hash> <length>` and the
 * object's bytes. Its index (`pack_index.ts`) says where each object's bytes start.
 *
 * @example
 * ```ts
 * const { entries, pieces } = encodePack(new Map([[sha256(bytes), bytes]]));
 * for (const piece of pieces) await writeAll(file, piece);
 * ```
 */
import { IntegrityError } from "../errors.ts";
import { corrupt } from "./damage.ts";
import { concatBytes } from "./fs_util.ts";
import { type Hash, sha256, sha256Words } from "./hash.ts";
import type { IdTable } from "./id_table.ts";

/** The first line of every pack. */
export const PACK_MAGIC = "tusk-pack 1\n";

/** A pack's bytes are handed out in pieces of about this many bytes. */
const PIECE_BYTES = 8 << 20;

const encoder = new TextEncoder();
const SPACE = 32;
const NEWLINE = 10;
const decoder = new TextDecoder();

/** Where one object's bytes lie in a pack. */
export interface PackEntry {
  readonly hash: Hash;
  readonly offset: number;
  readonly length: number;
}

/**
 * A pack index read for a pass over its whole pack (verify): its entries as typed arrays, each
 * id held in an `IdTable` shared by every pack and named here by its ordinal there, so a
 * million entries make no million strings and objects.
 */
export interface IndexTable {
  readonly pack: string;
  readonly count: number;
  /** Per entry, in the index's order: its id's ordinal in the table, its offset and length. */
  readonly ordinals: Int32Array;
  readonly offsets: Float64Array;
  readonly lengths: Float64Array;
}

/**
 * True when the header line `<hash> <length>\n` ends at `offset` in `bytes`: compared byte by
 * byte against the hash's characters and the length's digits, so checking a million headers
 * decodes no bytes and builds no strings.
 */
function headerBefore(bytes: Uint8Array, offset: number, hash: Hash, length: number): boolean {
  let digits = 1;
  for (let n = length; n >= 10; n = Math.floor(n / 10)) digits++;
  const start = offset - hash.length - digits - 2;
  if (start < 0 || offset > bytes.length) return false;
  for (let i = 0; i < hash.length; i++) {
    if (bytes[start + i] !== hash.charCodeAt(i)) return false;
  }
  let at = start + hash.length;
  if (bytes[at++] !== SPACE) return false;
  let n = 0;
  for (let i = 0; i < digits; i++) {
    const c = bytes[at++]!;
    if (c < 48 || c > 57) return false;
    n = n * 10 + (c - 48);
  }
  return n === length && bytes[at] === NEWLINE;
}

/** The header line that precedes an object in a pack. */
function header(hash: Hash, length: number): string {
  return `${hash} ${length}\n`;
}

/**
 * Encode `objects` as one pack: where each object lies (`entries`, in the order given) and
 * the pack's bytes, as pieces of about 8 MiB made as they are asked for, so a pack costs
 * little more memory than its objects.
 */
export function encodePack(
  objects: ReadonlyMap<Hash, Uint8Array>,
): { entries: PackEntry[]; pieces: Iterable<Uint8Array> } {
  const entries: PackEntry[] = [];
  // A header is ASCII (a hex hash and a number): its length in bytes is its length.
  let offset = PACK_MAGIC.length;
  for (const [hash, bytes] of objects) {
    offset += header(hash, bytes.length).length;
    entries.push({ hash, offset, length: bytes.length });
    offset += bytes.length;
  }
  return { entries, pieces: pieces(objects) };
}

function* pieces(objects: ReadonlyMap<Hash, Uint8Array>): Generator<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let pending = 0;
  const push = (c: Uint8Array) => {
    chunks.push(c);
    pending += c.length;
  };
  push(encoder.encode(PACK_MAGIC));
  for (const [hash, bytes] of objects) {
    push(encoder.encode(header(hash, bytes.length)));
    push(bytes);
    if (pending >= PIECE_BYTES) {
      yield concatBytes(chunks);
      chunks.length = 0;
      pending = 0;
    }
  }
  if (pending) yield concatBytes(chunks);
}

/** True when `bytes` start with the first line of a pack. */
export function hasPackMagic(bytes: Uint8Array): boolean {
  return decoder.decode(bytes.subarray(0, PACK_MAGIC.length)) === PACK_MAGIC;
}

/**
 * The bytes of the object `entry` names in the pack `bytes`, or null when its header is not
 * right before them or they run past the pack's end. Its hash is not checked here.
 */
export function recordAt(bytes: Uint8Array, entry: PackEntry): Uint8Array | null {
  const { hash, offset, length } = entry;
  const head = header(hash, length);
  const hStart = offset - head.length;
  if (hStart < PACK_MAGIC.length || offset + length > bytes.length) return null;
  if (decoder.decode(bytes.subarray(hStart, offset)) !== head) return null;
  return bytes.subarray(offset, offset + length);
}

/**
 * Check a whole pack `name` against the entries of its index: its magic line, each
 * object's header, that each object lies within the pack, and each object's hash. Calls
 * `onObject` per object checked; throws IntegrityError naming the first fault.
 */
export function checkPack(
  name: string,
  bytes: Uint8Array,
  entries: Iterable<PackEntry>,
  onObject?: () => void,
): void {
  if (decoder.decode(bytes.subarray(0, PACK_MAGIC.length)) !== PACK_MAGIC) {
    throw new IntegrityError(`Pack ${name} has a bad header`, { pack: name });
  }
  for (const { hash, offset, length } of entries) {
    if (!headerBefore(bytes, offset, hash, length)) {
      throw new IntegrityError(`Pack ${name} is corrupt at object ${hash}`, {
        pack: name,
        object: hash,
      });
    }
    if (offset + length > bytes.length) {
      throw new IntegrityError(`Pack ${name} is truncated at object ${hash}`, {
        pack: name,
        object: hash,
      });
    }
    if (sha256(bytes.subarray(offset, offset + length)) !== hash) throw corrupt(name, hash);
    onObject?.();
  }
}

/**
 * `checkPack()` for a pass over every pack of a store: the entries come as an `IndexTable`,
 * their ids as ordinals in `ids`, so a million objects are checked without a string each
 * (but for the one an error names). `digest` hashes a range of `bytes` (by default one
 * native call each; `verify` hashes where the bytes lie, see `sha256_many.ts`).
 */
export function checkPackTable(
  bytes: Uint8Array,
  table: IndexTable,
  options: {
    ids: IdTable;
    digest?: (from: number, to: number) => Int32Array;
    onObject?: () => void;
  },
): void {
  const { ids, onObject } = options;
  const name = table.pack;
  const words = new Int32Array(8);
  const digest = options.digest ?? ((from: number, to: number) => {
    sha256Words(bytes.subarray(from, to), words);
    return words;
  });
  if (!hasPackMagic(bytes)) {
    throw new IntegrityError(`Pack ${name} has a bad header`, { pack: name });
  }
  const { ordinals, offsets, lengths } = table;
  // The records the index names must tile the pack: noted as they are checked.
  const tiling = new PackTiling(bytes.length);
  for (let i = 0; i < table.count; i++) {
    const ord = ordinals[i]!;
    const offset = offsets[i]!;
    const length = lengths[i]!;
    const start = offset - headerLength(length);
    if (
      start < 0 || offset > bytes.length || !ids.isHex(ord, bytes, start) ||
      bytes[start + 64] !== SPACE || bytes[offset - 1] !== NEWLINE ||
      !digitsAre(bytes, start + 65, offset - 1, length)
    ) {
      throw new IntegrityError(`Pack ${name} is corrupt at object ${ids.id(ord)}`, {
        pack: name,
        object: ids.id(ord),
      });
    }
    if (offset + length > bytes.length) {
      throw new IntegrityError(`Pack ${name} is truncated at object ${ids.id(ord)}`, {
        pack: name,
        object: ids.id(ord),
      });
    }
    if (!ids.matches(ord, digest(offset, offset + length))) throw corrupt(name, ids.id(ord));
    tiling.add(start, offset + length);
    onObject?.();
  }
  const unnamed = tiling.check();
  if (unnamed) throw unnamedBytes(name, unnamed);
}

/** The length of the header line `<hash> <length>\n` of an object of `length` bytes. */
function headerLength(length: number): number {
  let digits = 1;
  for (let n = length; n >= 10; n = Math.floor(n / 10)) digits++;
  return 64 + digits + 2;
}

/** Where records fail to tile a pack: a gap, an overlap, or bytes after the last one. */
type Untiled =
  | { readonly kind: "gap" | "overlap"; readonly offset: number }
  | { readonly kind: "trailing"; readonly offset: number; readonly bytes: number };

/**
 * A 64-byte block of a pack holds the start of at most one of its records when they do not
 * overlap: a record is at least 67 bytes (`<64 hex digits> <length>\n`, then its bytes).
 */
const BLOCK = 64;

/**
 * Whether the records of a pack of `size` bytes, each at least 67 bytes (`add()`ed in any
 * order), cover it after its magic line exactly once each (`check()`). Summing their lengths
 * is not enough: two entries naming the same record (or one inside another's bytes) count it
 * twice, and make up for as many bytes no entry names. Each record is noted at the 64-byte
 * block it starts in (two in one block overlap), and the chain of records is followed from
 * the magic line, each to the one starting where it ends, reading the blocks in order:
 * linear time, 9 bytes per block (14 % of the pack, which `verify` holds in memory anyway).
 */
export class PackTiling {
  readonly #size: number;
  /** Per block: 1 + where in it a record starts (0: none). */
  readonly #first: Uint8Array;
  /** Per block: the length of the record starting in it. */
  readonly #span: Float64Array;
  #count = 0;
  #last = PACK_MAGIC.length;
  #overlap = -1;

  constructor(size: number) {
    this.#size = size;
    const blocks = Math.ceil(size / BLOCK);
    this.#first = new Uint8Array(blocks);
    this.#span = new Float64Array(blocks);
  }

  /** Note the record `[start, end)`. */
  add(start: number, end: number): void {
    if (!(end - start > BLOCK) || start < 0 || end > this.#size) {
      throw new TypeError(`Record [${start}, ${end}) cannot be one of a pack of ${this.#size} B`);
    }
    const b = Math.floor(start / BLOCK);
    const first = this.#first[b]!;
    if (first !== 0) {
      const at = Math.max(start, b * BLOCK + first - 1);
      if (this.#overlap < 0 || at < this.#overlap) this.#overlap = at;
      return;
    }
    this.#first[b] = start - b * BLOCK + 1;
    this.#span[b] = end - start;
    this.#count++;
    if (end > this.#last) this.#last = end;
  }

  /** Null when the records noted tile the pack, else the first place they do not. */
  check(): Untiled | null {
    if (this.#overlap >= 0) return { kind: "overlap", offset: this.#overlap };
    const first = this.#first;
    const span = this.#span;
    const size = this.#size;
    let offset = PACK_MAGIC.length;
    let chained = 0;
    while (offset < size) {
      const b = Math.floor(offset / BLOCK);
      if (first[b] !== offset - b * BLOCK + 1) break;
      offset += span[b]!;
      chained++;
    }
    if (chained < this.#count) {
      // Records off the chain: the first that starts before where it stops lies inside one
      // on it.
      const onChain = new Set<number>();
      for (let o = PACK_MAGIC.length; o < offset; o += span[Math.floor(o / BLOCK)]!) {
        onChain.add(o);
      }
      for (let b = 0; b * BLOCK < offset; b++) {
        const start = b * BLOCK + first[b]! - 1;
        if (first[b] !== 0 && start < offset && !onChain.has(start)) {
          return { kind: "overlap", offset: start };
        }
      }
    }
    if (offset >= size) return null;
    return offset >= this.#last
      ? { kind: "trailing", offset, bytes: size - offset }
      : { kind: "gap", offset };
  }
}

/** `PackTiling` over the records `[starts[i], ends[i])` of a pack of `size` bytes. */
export function untiled(starts: Float64Array, ends: Float64Array, size: number): Untiled | null {
  const tiling = new PackTiling(size);
  for (let i = 0; i < starts.length; i++) tiling.add(starts[i]!, ends[i]!);
  return tiling.check();
}

/** The error for the pack `name` whose index's records do not tile it (`untiled()`). */
function unnamedBytes(name: string, u: Untiled): IntegrityError {
  switch (u.kind) {
    case "trailing":
      return new IntegrityError(
        `Pack ${name} has ${u.bytes} byte(s) after its last object, from offset ${u.offset}, ` +
          `that no entry of its index names (appended, or a copy padded): its objects are ` +
          `whole, and cutting the pack to ${u.offset} bytes drops them`,
        { pack: name, offset: u.offset, bytes: u.bytes, problem: "trailing-bytes" },
      );
    case "gap":
      return new IntegrityError(
        `Pack ${name} has bytes at offset ${u.offset} that no entry of its index names, ` +
          `between two of its objects (written there by something else): its objects are whole`,
        { pack: name, offset: u.offset, problem: "unnamed-bytes" },
      );
    case "overlap":
      return new IntegrityError(
        `Pack ${name} has bytes at offset ${u.offset} that two entries of its index name ` +
          `(the index was edited): its objects are whole, but other bytes of the pack may be ` +
          `named by no entry`,
        { pack: name, offset: u.offset, problem: "overlapping-entries" },
      );
  }
}

/** True when the bytes `[from, to)` are the decimal digits of `n`. */
function digitsAre(bytes: Uint8Array, from: number, to: number, n: number): boolean {
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = bytes[i]!;
    if (c < 48 || c > 57) return false;
    v = v * 10 + (c - 48);
  }
  return to > from && v === n;
}

// Lives with the other damage errors, which load without the pack code.
export { corrupt };
