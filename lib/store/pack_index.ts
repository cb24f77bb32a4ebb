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
import { PACK_MAGIC, type PackEntry } from "./pack_codec.ts";

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

/** One pack's index file, as read: entry lines `<hash> <offset> <length>`, sorted by hash. */
interface LoadedIndex {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Byte range of the entry lines, after the magic line and before the `end` line. */
  readonly start: number;
  readonly end: number;
}

/**
 * The pack indexes loaded so far. Each pack's index file is kept as read and searched by
 * bisection over its bytes: a command that looks up a few objects pays for reading the
 * files, not for decoding, splitting or hashing them. (Its checksum is checked by
 * `verify`; a read from a pack checks the object's own hash instead, which also catches a
 * corrupt index.) A bulk reader (verify, gc, a large put) switches to a map once its
 * lookups outnumber a quarter of the entries, where the map becomes the cheaper of the two.
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

  /** Add a pack's index file; throws IntegrityError when it is not one. */
  add(name: string, bytes: Uint8Array): void {
    const magic = encoder.encode(`${IDX_MAGIC}\n`);
    const end = bytes.lastIndexOf(NEWLINE, bytes.length - 2) + 1;
    if (
      bytes.length < magic.length || magic.some((b, i) => bytes[i] !== b) ||
      bytes[bytes.length - 1] !== NEWLINE || end < magic.length ||
      decoder.decode(bytes.subarray(end, end + 4)) !== "end "
    ) {
      throw new IntegrityError(`Pack index ${name}.idx is corrupt: it is not a pack index`, {
        pack: name,
      });
    }
    const pack = { name, bytes, start: magic.length, end };
    this.#packs.push(pack);
    // Entry lines average ~80 bytes; the count only decides when to switch to a map.
    this.#entries += Math.round((end - magic.length) / 80);
    if (this.#map) fillMap(this.#map, pack);
  }

  /** Where the object `hash` is packed, if it is. */
  get(hash: Hash): PackLocation | undefined {
    if (!this.#map && ++this.#lookups > 256 && this.#lookups * 4 > this.#entries) {
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

/** Bisect a pack's sorted entry lines for the line starting with `key` (a hash's bytes). */
function search(pack: LoadedIndex, key: Uint8Array): PackLocation | undefined {
  const { bytes } = pack;
  let lo = pack.start;
  let hi = pack.end;
  while (lo < hi) {
    // The start of the line holding the middle byte; lines are short, so this scan is too.
    let line = (lo + hi) >>> 1;
    while (line > lo && bytes[line - 1] !== NEWLINE) line--;
    let cmp = 0;
    for (let i = 0; i < key.length && cmp === 0; i++) cmp = bytes[line + i]! - key[i]!;
    if (cmp === 0 && bytes[line + key.length] === SPACE) {
      return entryAt(pack, line, line + key.length + 1);
    }
    if (cmp < 0) {
      const next = bytes.indexOf(NEWLINE, line);
      lo = next < 0 || next >= hi ? hi : next + 1;
    } else {
      hi = line;
    }
  }
  return undefined;
}

/** Parse `<offset> <length>\n` at `at`, the rest of the entry line starting at `line`. */
function entryAt(pack: LoadedIndex, line: number, at: number): PackLocation {
  const eol = pack.bytes.indexOf(NEWLINE, at);
  const [offset, length] = decoder.decode(pack.bytes.subarray(at, eol)).split(" ").map(Number);
  return location(pack.name, offset, length, `byte ${line}`);
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
  const text = decoder.decode(pack.bytes.subarray(pack.start, pack.end));
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
