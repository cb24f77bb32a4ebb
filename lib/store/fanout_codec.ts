/**
 * Chunked folders (pure): a folder of more than `CHUNK_MIN_ENTRIES` entries is stored as a
 * fanout tree listing chunk trees, cut where the names' hashes say, so the same entries always
 * give the same bytes and an edit rewrites only the chunks it touches. No I/O here.
 */
import { IntegrityError } from "../errors.ts";
import { compareNames, decodeTree, encodeTree, type TreeEntry } from "./codec.ts";
import type { Hash } from "./hash.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The first line of a fanout tree: a large folder split into chunks. */
const FANOUT_HEADER = "tusk-tree-fanout 1\n";
/** A folder of more entries than this is stored as a fanout of chunks. */
export const CHUNK_MIN_ENTRIES = 4096;
/** A chunk ends after a name whose hash has these bits clear: 1,024 entries a chunk on average. */
const CHUNK_END_MASK = 1023;

/** One chunk of a fanout: its entry count, total size, tree hash and last name. */
export interface FanoutChunk {
  readonly count: number;
  readonly size: number;
  readonly hash: Hash;
  readonly last: string;
}

/**
 * The hash that places chunk boundaries: FNV-1a (32 bits) over the name's UTF-8 bytes, then
 * MurmurHash3's finaliser to mix its low bits. A function of the name alone, so a folder's
 * chunks depend on its set of names only, never on the edits that led to it.
 */
export function nameHash(name: string): number {
  let h = 0x811c9dc5;
  const byte = (b: number) => {
    h = Math.imul(h ^ b, 0x01000193);
  };
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 0xd800 && c < 0xe000) {
      const d = c < 0xdc00 ? name.charCodeAt(i + 1) : NaN;
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      } else c = 0xfffd; // a lone surrogate, as UTF-8 encodes it
    }
    if (c < 0x80) byte(c);
    else if (c < 0x800) {
      byte(0xc0 | (c >> 6));
      byte(0x80 | (c & 63));
    } else if (c < 0x10000) {
      byte(0xe0 | (c >> 12));
      byte(0x80 | ((c >> 6) & 63));
      byte(0x80 | (c & 63));
    } else {
      byte(0xf0 | (c >> 18));
      byte(0x80 | ((c >> 12) & 63));
      byte(0x80 | ((c >> 6) & 63));
      byte(0x80 | (c & 63));
    }
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** True when a chunk ends after the entry `name` (unless it is the folder's last). */
export function isChunkEnd(name: string): boolean {
  return (nameHash(name) & CHUNK_END_MASK) === 0;
}

/** Split a folder's entries, sorted by name, into its chunks: each ends after a chunk end. */
export function splitChunks(sorted: readonly TreeEntry[]): TreeEntry[][] {
  const chunks: TreeEntry[][] = [];
  let start = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (isChunkEnd(sorted[i]!.name)) {
      chunks.push(sorted.slice(start, i + 1));
      start = i + 1;
    }
  }
  if (start < sorted.length) chunks.push(sorted.slice(start));
  return chunks;
}

/** The chunk line of a fanout for a chunk's entries (sorted, at least one) and hash. */
export function fanoutChunk(entries: readonly TreeEntry[], hash: Hash): FanoutChunk {
  let size = 0;
  for (const e of entries) size += e.size;
  return { count: entries.length, size, hash, last: entries[entries.length - 1]!.name };
}

/** True when an object's bytes are a fanout tree. */
export function isFanout(bytes: Uint8Array): boolean {
  if (bytes.length < FANOUT_HEADER.length) return false;
  for (let i = 0; i < FANOUT_HEADER.length; i++) {
    if (bytes[i] !== FANOUT_HEADER.charCodeAt(i)) return false;
  }
  return true;
}

/** Encode a fanout tree from its chunks, in order. */
export function encodeFanout(chunks: readonly FanoutChunk[]): Uint8Array {
  const lines = new Array<string>(chunks.length + 1);
  lines[0] = FANOUT_HEADER;
  for (let i = 0; i < chunks.length; i++) {
    const c = chunks[i]!;
    lines[i + 1] = `c ${c.count} ${c.size} ${c.hash} ${c.last}\n`;
  }
  return encoder.encode(lines.join(""));
}

const FANOUT_LINE = /c (\d+) (\d+) ([0-9a-f]{64}) ([^\n]+)\n/y;

/**
 * Decode a fanout tree's bytes, checking its form: chunks in name order, each of at least
 * one entry, more than `CHUNK_MIN_ENTRIES` in all; `id` names it in errors.
 */
export function decodeFanout(bytes: Uint8Array, id: Hash): FanoutChunk[] {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new IntegrityError(`Tree ${id} is not valid UTF-8`, { object: id });
  }
  if (!text.startsWith(FANOUT_HEADER) || !text.endsWith("\n")) {
    throw new IntegrityError(`Tree ${id} is malformed`, { object: id });
  }
  const chunks: FanoutChunk[] = [];
  const line = new RegExp(FANOUT_LINE);
  line.lastIndex = FANOUT_HEADER.length;
  let total = 0;
  while (line.lastIndex < text.length) {
    const m = line.exec(text);
    const chunk = m && {
      count: Number(m[1]),
      size: Number(m[2]),
      hash: m[3]!,
      last: m[4]!,
    };
    const prev = chunks[chunks.length - 1];
    if (!chunk || chunk.count < 1 || (prev && compareNames(prev.last, chunk.last) >= 0)) {
      throw new IntegrityError(`Tree ${id} has a malformed chunk line`, {
        object: id,
        line: chunks.length + 1,
      });
    }
    total += chunk.count;
    chunks.push(chunk);
  }
  if (total <= CHUNK_MIN_ENTRIES) {
    throw new IntegrityError(`Tree ${id} is malformed: a fanout of ${total} entries`, {
      object: id,
    });
  }
  return chunks;
}

/** The chunk of a fanout that holds, or would hold, `name`: the first whose last name is not before it. */
export function chunkFor(chunks: readonly FanoutChunk[], name: string): number {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareNames(chunks[mid]!.last, name) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Check the decoded chunk `index` of the fanout `id` against its line: its count, size and
 * last name, its first name after the chunk before it, and its boundaries (no chunk end but
 * its last entry, which is one unless it is the last chunk), so a folder has one form only.
 */
export function checkChunk(
  chunks: readonly FanoutChunk[],
  index: number,
  entries: readonly TreeEntry[],
  id: Hash,
): void {
  const line = chunks[index]!;
  const fail = (what: string) => {
    throw new IntegrityError(`Tree ${id} is malformed: chunk ${line.hash} ${what}`, {
      object: id,
      chunk: line.hash,
    });
  };
  if (entries.length !== line.count) fail(`holds ${entries.length} entries, not ${line.count}`);
  if (entries[entries.length - 1]!.name !== line.last) fail("does not end at its last name");
  let size = 0;
  for (const e of entries) size += e.size;
  if (size !== line.size) fail(`holds ${size} bytes, not ${line.size}`);
  const before = chunks[index - 1];
  if (before && compareNames(entries[0]!.name, before.last) <= 0) fail("overlaps the one before");
  for (let i = 0; i < entries.length - 1; i++) {
    if (isChunkEnd(entries[i]!.name)) fail(`goes on past a chunk end (${entries[i]!.name})`);
  }
  if (index < chunks.length - 1 && !isChunkEnd(line.last)) fail("ends before a chunk end");
}

/**
 * What a tree object links to: a plain tree's entries, or a fanout's chunk trees (walked
 * as subtrees are, by what follows a tree down: remotes, reachability).
 */
export function treeLinks(bytes: Uint8Array, id: Hash): { entries: TreeEntry[]; chunks: Hash[] } {
  if (isFanout(bytes)) return { entries: [], chunks: decodeFanout(bytes, id).map((c) => c.hash) };
  return { entries: decodeTree(bytes, id), chunks: [] };
}

/** An encoded folder: its object, then its chunks (none for a plain tree). */
export interface EncodedFolder {
  readonly bytes: Uint8Array;
  readonly hash: Hash;
  readonly size: number;
  readonly chunks: readonly { readonly bytes: Uint8Array; readonly hash: Hash }[];
}

/**
 * Encode a folder: a plain tree up to `CHUNK_MIN_ENTRIES` entries, a fanout of chunk trees
 * past that. `hash` hashes each object (the chunks' hashes go in the fanout).
 */
export async function encodeFolder(
  entries: readonly TreeEntry[],
  hash: (bytes: Uint8Array) => Promise<Hash>,
): Promise<EncodedFolder> {
  const parts = folderParts(entries);
  if (parts instanceof Uint8Array) {
    return { bytes: parts, hash: await hash(parts), size: sizeOf(entries), chunks: [] };
  }
  const chunks: { bytes: Uint8Array; hash: Hash }[] = [];
  for (const part of parts) {
    const bytes = encodeTree(part);
    chunks.push({ bytes, hash: await hash(bytes) });
  }
  const fanout = encodeFanout(parts.map((p, i) => fanoutChunk(p, chunks[i]!.hash)));
  return { bytes: fanout, hash: await hash(fanout), size: sizeOf(entries), chunks };
}

/** `encodeFolder` with a hash that returns at once. */
export function encodeFolderSync(
  entries: readonly TreeEntry[],
  hash: (bytes: Uint8Array) => Hash,
): EncodedFolder {
  const parts = folderParts(entries);
  if (parts instanceof Uint8Array) {
    return { bytes: parts, hash: hash(parts), size: sizeOf(entries), chunks: [] };
  }
  const encoded = parts.map((p) => encodeTree(p));
  const hashes = encoded.map(hash);
  const fanout = encodeFanout(parts.map((p, i) => fanoutChunk(p, hashes[i]!)));
  return {
    bytes: fanout,
    hash: hash(fanout),
    size: sizeOf(entries),
    chunks: encoded.map((bytes, i) => ({ bytes, hash: hashes[i]! })),
  };
}

function sizeOf(entries: readonly TreeEntry[]): number {
  let size = 0;
  for (const e of entries) size += e.size;
  return size;
}

/** A small folder's plain tree, or a large one's entries cut into chunks. */
function folderParts(entries: readonly TreeEntry[]): Uint8Array | TreeEntry[][] {
  if (entries.length <= CHUNK_MIN_ENTRIES) return encodeTree(entries);
  return splitChunks([...entries].sort((a, b) => compareNames(a.name, b.name)));
}
