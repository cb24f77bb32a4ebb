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
      yield concat(chunks, pending);
      chunks.length = 0;
      pending = 0;
    }
  }
  if (pending) yield concat(chunks, pending);
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
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
  // Where each record the index names starts and ends: they must tile the pack, see below.
  const starts = new Float64Array(table.count);
  const ends = new Float64Array(table.count);
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
    starts[i] = start;
    ends[i] = offset + length;
    onObject?.();
  }
  const unnamed = untiled(starts, ends, bytes.length);
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
 * Whether the records `[starts[i], ends[i])` cover a pack of `size` bytes after its magic
 * line exactly once each: null when they do, else the first place they do not. Summing their
 * lengths is not enough: two entries naming the same record (or one inside another's bytes)
 * count it twice, and make up for as many bytes no entry names. With both sorted, they tile
 * the pack exactly when each end is the next start (every record has start < end, so the
 * records then chain from the magic line to the pack's end). Sorts the arrays in place.
 */
export function untiled(starts: Float64Array, ends: Float64Array, size: number): Untiled | null {
  starts.sort();
  ends.sort();
  let at = PACK_MAGIC.length;
  for (let i = 0; i < starts.length; i++) {
    if (starts[i]! !== at) {
      return starts[i]! > at
        ? { kind: "gap", offset: at }
        : { kind: "overlap", offset: starts[i]! };
    }
    at = ends[i]!;
  }
  return at < size ? { kind: "trailing", offset: at, bytes: size - at } : null;
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
