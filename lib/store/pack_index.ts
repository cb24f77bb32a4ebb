/**
 * The pack index format and its lookup, pure (no I/O). A pack's index is text: the magic
 * line `tusk-idx 1`, one line `<hash> <offset> <length>` per object sorted by hash, and
 * `end <sha256 of everything before>`. `PackIndexes` finds objects across the indexes of
 * every pack by bisecting their bytes as read.
 *
 * @example
 * ```ts
 * const indexes = new PackIndexes();
 * indexes.add("pack-1", await encodeIndex(entries));
 * indexes.get(hash); // { pack: "pack-1", offset, length } or undefined
 * ```
 */
import { IntegrityError } from "../errors.ts";
import { type Hash, sha256Async, sha256Native } from "./hash.ts";
import { IdTable } from "./id_table.ts";
import { type IndexTable, PACK_MAGIC, type PackEntry } from "./pack_codec.ts";

/** The first line of every pack index. */
const IDX_MAGIC = "tusk-idx 1";
const NEWLINE = 10;
const SPACE = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where an object lies: its pack, and its bytes' offset and length in it. */
export interface PackLocation {
  readonly pack: string;
  readonly offset: number;
  readonly length: number;
}

/** Encode the index of a pack whose objects lie at `entries`. */
export async function encodeIndex(entries: readonly PackEntry[]): Promise<Uint8Array> {
  const lines = entries.map((e) => `${e.hash} ${e.offset} ${e.length}`).sort();
  let idx = `${IDX_MAGIC}\n${lines.join("\n")}\n`;
  idx += `end ${await sha256Async(idx)}\n`;
  return encoder.encode(idx);
}

/** Decode the index of the pack `pack`, checking its magic, its checksum and its order. */
export async function parseIndex(bytes: Uint8Array, pack: string): Promise<PackEntry[]> {
  return (await indexLines(bytes, pack)).map((line) => {
    const a = line.indexOf(" ");
    const b = line.indexOf(" ", a + 1);
    return {
      hash: line.slice(0, a),
      offset: Number(line.slice(a + 1, b)),
      length: Number(line.slice(b + 1)),
    };
  });
}

/** The entry lines of a pack index (`<hash> <offset> <length>`), checking magic and checksum. */
async function indexLines(bytes: Uint8Array, pack: string): Promise<string[]> {
  const text = decoder.decode(bytes);
  const end = text.lastIndexOf("end ");
  const body = end >= 0 ? text.slice(0, end) : "";
  if (
    !text.startsWith(`${IDX_MAGIC}\n`) || end < 0 ||
    text.slice(end) !== `end ${await sha256Native(encoder.encode(body))}\n`
  ) {
    throw new IntegrityError(`Pack index ${pack}.idx is corrupt: its checksum does not match`, {
      pack,
    });
  }
  const lines = body.split("\n").slice(1, -1);
  for (let i = 1; i < lines.length; i++) {
    // Lookups bisect the index, so an unsorted one would hide objects.
    if (!(lines[i - 1]! < lines[i]!)) {
      throw new IntegrityError(`Pack index ${pack}.idx is corrupt: its entries are out of order`, {
        pack,
      });
    }
  }
  return lines;
}

/**
 * Read the index of the pack `pack` into `ids` and an `IndexTable`, checking what
 * `parseIndex()` checks (magic, checksum, order) and each entry line's form: 64 hex digits,
 * an offset past the pack's first line and a length, in decimal digits.
 */
export async function readIndexTable(
  bytes: Uint8Array,
  pack: string,
  ids: IdTable,
): Promise<IndexTable> {
  const magic = IDX_MAGIC.length + 1;
  const end = lastEndLine(bytes);
  const body = bytes.subarray(0, Math.max(0, end));
  if (
    end < magic || !startsWithMagic(bytes) || bytes[end - 1] !== NEWLINE ||
    decoder.decode(bytes.subarray(end)) !== `end ${await sha256Native(body)}\n`
  ) {
    throw new IntegrityError(`Pack index ${pack}.idx is corrupt: its checksum does not match`, {
      pack,
    });
  }
  // At most one entry per shortest line, `<64 hex digits> 0 0\n`.
  const most = Math.ceil((end - magic) / 69);
  ids.reserve(most);
  const ordinals = new Int32Array(most);
  const offsets = new Float64Array(most);
  const lengths = new Float64Array(most);
  let count = 0;
  let prev = -1;
  for (let at = magic; at < end; count++) {
    const ord = bytes[at + 64] === SPACE && count < most ? ids.addHex(bytes, at) : -1;
    const space = digitsEnd(bytes, at + 65);
    const eol = bytes[space] === SPACE ? digitsEnd(bytes, space + 1) : -1;
    const offset = space > at + 65 ? decimal(bytes, at + 65, space) : -1;
    const length = bytes[eol] === NEWLINE && eol > space + 1 ? decimal(bytes, space + 1, eol) : -1;
    if (ord < 0 || offset < PACK_MAGIC.length || length < 0) {
      throw new IntegrityError(`Pack index ${pack}.idx is corrupt at byte ${at}`, { pack });
    }
    // Lookups bisect the index, so an unsorted one would hide objects.
    if (prev >= 0 && compareRanges(bytes, prev, at - 1, at, eol) >= 0) {
      throw new IntegrityError(`Pack index ${pack}.idx is corrupt: its entries are out of order`, {
        pack,
      });
    }
    ordinals[count] = ord;
    offsets[count] = offset;
    lengths[count] = length;
    prev = at;
    at = eol + 1;
  }
  return {
    pack,
    count,
    ordinals: ordinals.subarray(0, count),
    offsets: offsets.subarray(0, count),
    lengths: lengths.subarray(0, count),
  };
}

/** Where the last line of an index's bytes (its `end` line) starts, or -1. */
function lastEndLine(bytes: Uint8Array): number {
  if (bytes.length < 2 || bytes[bytes.length - 1] !== NEWLINE) return -1;
  const at = bytes.lastIndexOf(NEWLINE, bytes.length - 2) + 1;
  return at > 0 && decoder.decode(bytes.subarray(at, at + 4)) === "end " ? at : -1;
}

/** True when `bytes` start with the magic line of a pack index. */
function startsWithMagic(bytes: Uint8Array): boolean {
  const magic = `${IDX_MAGIC}\n`;
  for (let i = 0; i < magic.length; i++) if (bytes[i] !== magic.charCodeAt(i)) return false;
  return true;
}

/** Where the decimal digits starting at `from` end (at most 15 of them are read). */
function digitsEnd(bytes: Uint8Array, from: number): number {
  let p = from;
  while (p < from + 15 && bytes[p]! >= 48 && bytes[p]! <= 57) p++;
  return p;
}

/** The number the decimal digits `bytes[from, to)` write (they are digits, at most 15). */
function decimal(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (bytes[i]! - 48);
  return n;
}

/** How the bytes `[a, aEnd)` sort against `[b, bEnd)`, as strings of their characters do. */
function compareRanges(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number) {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) {
    const d = bytes[a + i]! - bytes[b + i]!;
    if (d !== 0) return d;
  }
  return (aEnd - a) - (bEnd - b);
}

/**
 * Where a pack index's bytes come from: a file read piece by piece (a large index: a
 * command that looks up a few objects reads a few hundred bytes of it, not all of it), or
 * bytes in memory (a small index read whole, or one just written). Both stand for bytes
 * that never change: packs and their indexes are immutable.
 */
export interface IndexSource {
  /** Its length in bytes. */
  readonly size: number;
  /** The bytes from `from` to `to` (within the size). */
  read(from: number, to: number): Uint8Array;
}

/** Bytes in memory as an index source. */
function bytesSource(bytes: Uint8Array): IndexSource {
  return { size: bytes.length, read: (from, to) => bytes.subarray(from, to) };
}

/** One pack's index: entry lines `<hash> <offset> <length>`, sorted by hash. */
interface LoadedIndex {
  readonly name: string;
  readonly source: IndexSource;
  /** Byte range of the entry lines, after the magic line and before the `end` line. */
  readonly start: number;
  readonly end: number;
  /** Windows read by bisection, by where they start: every lookup's first steps are alike. */
  readonly windows: Map<number, Uint8Array>;
}

/** Bisection reads this many bytes around its middle: more than the longest entry line. */
const WINDOW = 256;
/** At most this many windows of one index are kept. */
const MAX_WINDOWS = 4096;

/**
 * The pack indexes loaded so far. Each pack's index is searched by bisection over its bytes,
 * as they lie in the file: a command that looks up a few objects reads a few windows of
 * each index, not the whole of it, so its cost does not grow with the store (a million
 * packed objects have an index of ~80 MiB). (Its checksum is checked by `verify`; a read
 * from a pack checks the object's own hash instead, which also catches a corrupt index.) A
 * bulk reader (verify, gc, a large put, a job of many datums) switches to a map once its
 * lookups outnumber a quarter of the entries — sooner when there are many packs, each of
 * which a lookup bisects — where the map becomes the cheaper of the two.
 */
export class PackIndexes {
  readonly #packs: LoadedIndex[] = [];
  #entries = 0;
  #lookups = 0;
  #map: Map<Hash, PackLocation> | null = null;

  /** Names of the packs held. */
  get names(): string[] {
    return this.#packs.map((p) => p.name);
  }

  /**
   * Add a pack's index, as bytes or as a source read on demand; throws IntegrityError when
   * its first and last lines are not those of a pack index.
   */
  add(name: string, index: Uint8Array | IndexSource): void {
    const source = index instanceof Uint8Array ? bytesSource(index) : index;
    const magic = encoder.encode(`${IDX_MAGIC}\n`);
    const size = source.size;
    const head = source.read(0, Math.min(size, magic.length));
    // The `end` line is 69 bytes; a tail longer than that holds its start.
    const tailFrom = Math.max(0, size - 2 * WINDOW);
    const tail = source.read(tailFrom, size);
    const end = tailFrom + tail.lastIndexOf(NEWLINE, tail.length - 2) + 1;
    if (
      head.length < magic.length || magic.some((b, i) => head[i] !== b) ||
      tail[tail.length - 1] !== NEWLINE || end < magic.length || end <= tailFrom ||
      decoder.decode(tail.subarray(end - tailFrom, end - tailFrom + 4)) !== "end "
    ) {
      throw new IntegrityError(`Pack index ${name}.idx is corrupt: it is not a pack index`, {
        pack: name,
      });
    }
    const pack = { name, source, start: magic.length, end, windows: new Map() };
    this.#packs.push(pack);
    // Entry lines average ~80 bytes; the count only decides when to switch to a map.
    this.#entries += Math.round((end - magic.length) / 80);
    if (this.#map) fillMap(this.#map, pack);
  }

  /**
   * Those of `hashes` no pack holds, in their order: for a bulk check of many at once (a job
   * reusing 100,000 outputs), each pack's index is read once, in order, beside the hashes —
   * no bisection per hash, no map of every entry, and no string made of what is found.
   */
  lacking(hashes: readonly Hash[]): Hash[] {
    const map = this.#map;
    if (map) return hashes.filter((h) => !map.has(h));
    // The hashes in a table of ids: each entry line of each index is then one probe of its
    // hex digits as they lie in the bytes, and what it finds is marked by its ordinal.
    const wanted = new IdTable(hashes.length);
    const ordinals = new Int32Array(hashes.length);
    for (let i = 0; i < hashes.length; i++) ordinals[i] = wanted.add(hashes[i]!);
    const found = new Uint8Array(wanted.size);
    let left = wanted.size;
    for (const pack of this.#packs) {
      if (left === 0) break;
      const bytes = pack.source.read(pack.start, pack.end);
      for (let at = 0; at < bytes.length;) {
        const ord = bytes[at + 64] === SPACE ? wanted.findHex(bytes, at) : -1;
        if (ord >= 0 && found[ord] === 0) {
          found[ord] = 1;
          left--;
        }
        at = bytes.indexOf(NEWLINE, at) + 1 || bytes.length;
      }
    }
    // An ordinal of -1: not 64 lower-case hex digits, which no pack holds.
    return hashes.filter((_, i) => ordinals[i]! < 0 || found[ordinals[i]!] === 0);
  }

  /** Where the object `hash` is packed, if it is. */
  get(hash: Hash): PackLocation | undefined {
    // A lookup bisects every pack: with many packs (a job writes one per batch) the map
    // pays for itself that many times sooner.
    const packs = Math.max(1, this.#packs.length / 4);
    if (!this.#map && ++this.#lookups > 256 && this.#lookups * 4 * packs > this.#entries) {
      this.#map = new Map();
      for (const p of this.#packs) fillMap(this.#map, p);
    }
    if (this.#map) return this.#map.get(hash);
    const key = encoder.encode(hash);
    for (const pack of this.#packs) {
      const found = search(pack, key);
      if (found) return found;
    }
    return undefined;
  }

  /** True when some pack holds `hash`. */
  has(hash: Hash): boolean {
    return this.get(hash) !== undefined;
  }
}

/**
 * The entry line of `pack` holding the byte `mid` (within `lo`..`hi`, both line starts):
 * its start and its bytes up to its newline, read in one window (doubled for a line longer
 * than a window, which only a corrupt index has).
 */
function lineAt(
  pack: LoadedIndex,
  mid: number,
  lo: number,
  hi: number,
): { start: number; line: Uint8Array } {
  for (let half = WINDOW / 2;; half *= 2) {
    const from = Math.max(lo, mid - half);
    const to = Math.min(hi, mid + half);
    let buf = pack.windows.get(from);
    if (!buf || buf.length < to - from) {
      buf = pack.source.read(from, to);
      if (pack.windows.size < MAX_WINDOWS) pack.windows.set(from, buf);
    }
    let start = mid - from;
    while (start > 0 && buf[start - 1] !== NEWLINE) start--;
    const eol = buf.indexOf(NEWLINE, mid - from);
    if ((start > 0 || from === lo) && eol >= 0) {
      return { start: from + start, line: buf.subarray(start, eol) };
    }
    if (from === lo && to === hi) {
      throw new IntegrityError(`Pack index ${pack.name}.idx is corrupt at byte ${mid}`, {
        pack: pack.name,
      });
    }
  }
}

/** Bisect a pack's sorted entry lines for the line starting with `key` (a hash's bytes). */
function search(pack: LoadedIndex, key: Uint8Array): PackLocation | undefined {
  let lo = pack.start;
  let hi = pack.end;
  while (lo < hi) {
    const { start, line } = lineAt(pack, (lo + hi) >>> 1, lo, hi);
    let cmp = 0;
    for (let i = 0; i < key.length && cmp === 0; i++) cmp = (line[i] ?? -1) - key[i]!;
    if (cmp === 0 && line[key.length] === SPACE) {
      return entryAt(pack.name, line.subarray(key.length + 1), `byte ${start}`);
    }
    if (cmp < 0) lo = start + line.length + 1;
    else hi = start;
  }
  return undefined;
}

/** Parse `<offset> <length>`, the rest of an entry line of `pack` (at `where`). */
function entryAt(pack: string, rest: Uint8Array, where: string): PackLocation {
  const [offset, length] = decoder.decode(rest).split(" ").map(Number);
  return location(pack, offset, length, where);
}

/** A pack location from an index entry's numbers, or IntegrityError naming `where`. */
function location(
  pack: string,
  offset: number | undefined,
  length: number | undefined,
  where: string,
): PackLocation {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) ||
    offset! < PACK_MAGIC.length || length! < 0
  ) {
    throw new IntegrityError(`Pack index ${pack}.idx is corrupt at ${where}`, { pack });
  }
  return { pack, offset: offset!, length: length! };
}

function fillMap(map: Map<Hash, PackLocation>, pack: LoadedIndex): void {
  const text = decoder.decode(pack.source.read(pack.start, pack.end));
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const a = line.indexOf(" ");
    const hash = line.slice(0, a);
    if (map.has(hash)) continue;
    const b = line.indexOf(" ", a + 1);
    const offset = Number(line.slice(a + 1, b));
    map.set(hash, location(pack.name, offset, Number(line.slice(b + 1)), `object ${hash}`));
  }
}
