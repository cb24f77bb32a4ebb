/**
 * Pure codecs of the store's objects: trees and commits encode to canonical bytes and decode
 * back, and their id is the SHA-256 of those bytes. No I/O here.
 */
import { IntegrityError } from "../errors.ts";
import { concatBytes } from "./fs_util.ts";
import type { Hash } from "./hash.ts";

/** One entry of a tree: a file (blob) or a folder (subtree), with its total size in bytes. */
export interface TreeEntry {
  readonly name: string;
  readonly kind: "file" | "dir";
  readonly hash: Hash;
  readonly size: number;
}

/** Where a pipeline output commit came from: its inputs and the code that ran. */
export interface Provenance {
  /** Input commits, as `repo@commitId`. */
  readonly inputs: readonly { readonly repo: string; readonly commit: string }[];
  /** Hash of the pipeline spec version that ran. */
  readonly spec?: string;
  /** Hash of the stage code that ran: a Deno bundle, or a host program's code folder tree. */
  readonly code?: string;
  /**
   * For a stage that is a host program: the program that ran (its path as found, the file
   * that runs, its version line and that file's SHA-256).
   */
  readonly program?: {
    readonly path: string;
    readonly realPath: string;
    readonly version: string | null;
    readonly sha256: string;
  };
  /** The pipeline and job that produced the commit. */
  readonly pipeline?: string;
  readonly job?: string;
}

/** An immutable commit: its id is the SHA-256 of `encodeCommit(commit)`. */
export interface Commit {
  readonly repo: string;
  readonly parent: string | null;
  readonly tree: Hash;
  readonly size: number;
  /** ISO-8601 time the commit was made. */
  readonly time: string;
  readonly message: string;
  /** The branch it was made on. */
  readonly branch: string;
  /** How it came to be: a user write, a revert, or a pipeline output. */
  readonly origin: "user" | "revert" | "pipeline";
  /** For a revert: the commit whose tree it restores. */
  readonly revertOf?: string;
  readonly provenance?: Provenance;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** The first line of every encoded tree. */
const TREE_HEADER = "tusk-tree 1\n";
const NEWLINE = 10;
const SPACE = 32;

/** The bytes of the empty tree (not to be changed: they are shared). */
export const EMPTY_TREE_BYTES: Uint8Array = encodeTree([]);

/**
 * The id of the empty tree, used as the root of a repo's first commit: the SHA-256 of
 * `EMPTY_TREE_BYTES` (tests/store/codec_test.ts checks it), written out so that loading this
 * module hashes nothing (a first, cold hash costs a short command about a millisecond).
 */
export const EMPTY_TREE: Hash = "671a6c2297f4eda6b2d8dfb4c6b0bba9481adcc054a721e07d0c80436656d69d";

/** Canonical JSON: object keys sorted, no spaces, `undefined` fields left out. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
}

/** The order of a tree's entries: by name, as JavaScript compares strings. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Encode a tree: entries sorted by name, one line each, `kind size hash name`. */
export function encodeTree(entries: readonly TreeEntry[]): Uint8Array {
  const sorted = [...entries].sort((a, b) => compareNames(a.name, b.name));
  // Joined once rather than appended line by line: ~3× quicker for a folder of 10,000.
  const lines = new Array<string>(sorted.length + 1);
  lines[0] = TREE_HEADER;
  for (let i = 0; i < sorted.length; i++) lines[i + 1] = encodeTreeLine(sorted[i]!);
  return encoder.encode(lines.join(""));
}

/** One tree entry line; a name may hold any character but a newline (even U+2028). */
const TREE_ENTRY = /([fd]) (\d+) ([0-9a-f]{64}) ([^\n]+)\n/y;

/** One entry's line of an encoded tree, with its newline. */
export function encodeTreeLine(e: TreeEntry): string {
  return `${e.kind === "dir" ? "d" : "f"} ${e.size} ${e.hash} ${e.name}\n`;
}

/** Decode one entry line (with its newline) of the tree `id`. */
export function decodeTreeLine(line: string, id: Hash): TreeEntry {
  const entry = new RegExp(TREE_ENTRY);
  const m = entry.exec(line);
  if (!m || entry.lastIndex !== line.length) {
    throw new IntegrityError(`Tree ${id} has a malformed entry`, { object: id });
  }
  return { kind: m[1] === "d" ? "dir" : "file", size: Number(m[2]), hash: m[3]!, name: m[4]! };
}

/** A tree's bytes as text, checked for UTF-8, its header and its closing newline. */
function treeText(bytes: Uint8Array, id: Hash): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new IntegrityError(`Tree ${id} is not valid UTF-8`, { object: id });
  }
  if (!text.startsWith(TREE_HEADER) || !text.endsWith("\n")) {
    throw new IntegrityError(`Tree ${id} is malformed`, { object: id });
  }
  return text;
}

/** Decode a tree's bytes, checking the format; `id` names it in errors. */
export function decodeTree(bytes: Uint8Array, id: Hash): TreeEntry[] {
  const text = treeText(bytes, id);
  // One sticky match per line, each starting where the last ended.
  const entries: TreeEntry[] = [];
  const entry = new RegExp(TREE_ENTRY);
  entry.lastIndex = TREE_HEADER.length;
  while (entry.lastIndex < text.length) {
    const m = entry.exec(text);
    if (!m) {
      throw new IntegrityError(`Tree ${id} has a malformed entry`, {
        object: id,
        line: entries.length + 1,
      });
    }
    entries.push({
      kind: m[1] === "d" ? "dir" : "file",
      size: Number(m[2]),
      hash: m[3]!,
      name: m[4]!,
    });
  }
  return entries;
}

/**
 * An encoded tree's entries as positions in its bytes (see `scanTree`): for a walk over a
 * million files that needs, of most entries, only the id.
 */
export interface ScannedTree {
  readonly count: number;
  /** 1 for a folder, 0 for a file, by entry. */
  readonly dirs: Uint8Array;
  /** Where each entry's 64 hex digits start. */
  readonly hashAt: Int32Array;
  /** Each entry's name, as a byte range. */
  readonly nameAt: Int32Array;
  readonly nameEnd: Int32Array;
}

/** 1 for the bytes of lower-case hex digits. */
const HEX_DIGIT = new Uint8Array(256);
for (const c of "0123456789abcdef") HEX_DIGIT[c.charCodeAt(0)] = 1;
/** The shortest entry line: `f 0 <64 hex digits> x\n`. */
const SHORTEST_LINE = 71;

/**
 * Check a tree's bytes as `decodeTree` does (the same errors for the same faults) and give
 * where each entry lies, making no object or string per entry.
 */
export function scanTree(bytes: Uint8Array, id: Hash): ScannedTree {
  treeText(bytes, id);
  const end = bytes.length;
  const most = Math.ceil((end - TREE_HEADER.length) / SHORTEST_LINE);
  const dirs = new Uint8Array(most);
  const hashAt = new Int32Array(most);
  const nameAt = new Int32Array(most);
  const nameEnd = new Int32Array(most);
  let count = 0;
  // Each line as TREE_ENTRY matches it: `[fd] \d+ [0-9a-f]{64} [^\n]+\n`.
  for (let at = TREE_HEADER.length; at < end; count++) {
    const kind = bytes[at];
    let p = at + 1;
    let ok = (kind === 0x66 || kind === 0x64) && bytes[p++] === SPACE;
    const digits = p;
    while (p < end && bytes[p]! >= 48 && bytes[p]! <= 57) p++;
    ok = ok && p > digits && bytes[p++] === SPACE && p + 66 <= end;
    let bad = 0;
    for (let j = p; j < p + 64; j++) bad |= HEX_DIGIT[bytes[j]!]! ^ 1;
    let eol = p + 65;
    while (eol < end && bytes[eol] !== NEWLINE) eol++;
    if (!ok || bad || bytes[p + 64] !== SPACE || eol === p + 65 || count === most) {
      throw new IntegrityError(`Tree ${id} has a malformed entry`, { object: id, line: count + 1 });
    }
    dirs[count] = kind === 0x64 ? 1 : 0;
    hashAt[count] = p;
    nameAt[count] = p + 65;
    nameEnd[count] = eol;
    at = eol + 1;
  }
  return { count, dirs, hashAt, nameAt, nameEnd };
}

/** Where a name stands, or would stand, among the entry lines of an encoded tree. */
export interface TreeSlot {
  /** Byte range of its line; empty (`start` = `end`) where it would be inserted. */
  readonly start: number;
  readonly end: number;
  /** Its entry, or null when the tree has no entry of that name. */
  readonly entry: TreeEntry | null;
}

/** A name's slot in an encoded tree, with the entry to put there (null: none, removed). */
export interface TreeSplice extends TreeSlot {
  readonly name: string;
}

/**
 * Splicing edits a large encoded tree in place: a name's line is found by bisecting the
 * sorted lines, then replaced, removed or inserted, so a change to a folder of 100,000
 * files neither decodes nor re-encodes the other lines. Lines are read leniently (a bad
 * byte becomes U+FFFD): the bytes were checked against their hash when read.
 */
const lenient = new TextDecoder();

/** Check the frame of an encoded tree (its header and its final newline) before splicing it. */
export function checkTreeFrame(bytes: Uint8Array, id: Hash): void {
  const header = TREE_HEADER.length;
  if (lenient.decode(bytes.subarray(0, header)) !== TREE_HEADER || bytes.at(-1) !== NEWLINE) {
    throw new IntegrityError(`Tree ${id} is malformed`, { object: id });
  }
}

/** Bisect the sorted entry lines of the encoded tree `id` for `name`. */
export function findTreeLine(bytes: Uint8Array, name: string, id: Hash): TreeSlot {
  let lo = TREE_HEADER.length;
  let hi = bytes.length;
  while (lo < hi) {
    let line = (lo + hi) >>> 1;
    while (line > lo && bytes[line - 1] !== NEWLINE) line--;
    const end = bytes.indexOf(NEWLINE, line) + 1;
    const entry = decodeTreeLine(lenient.decode(bytes.subarray(line, end)), id);
    const order = compareNames(entry.name, name);
    if (order === 0) return { start: line, end, entry };
    if (order < 0) lo = end;
    else hi = line;
  }
  return { start: lo, end: lo, entry: null };
}

/**
 * The encoded tree `bytes` with each splice's slot replaced by its entry's line (or by
 * nothing), or null when no entry is left. Slots are found in the bytes as given; new names
 * sharing an insertion point go in name order.
 */
export function spliceTree(bytes: Uint8Array, splices: readonly TreeSplice[]): Uint8Array | null {
  const changes = [...splices].sort((a, b) => a.start - b.start || compareNames(a.name, b.name));
  const pieces: Uint8Array[] = [];
  let pos = 0;
  for (const c of changes) {
    pieces.push(bytes.subarray(pos, c.start));
    if (c.entry) pieces.push(encoder.encode(encodeTreeLine(c.entry)));
    pos = c.end;
  }
  pieces.push(bytes.subarray(pos));
  const out = concatBytes(pieces);
  return out.length === TREE_HEADER.length ? null : out;
}

/** Bytes read a range at a time (an object's file, or bytes in memory). */
export interface ByteSource {
  /** Its length in bytes. */
  readonly size: number;
  /** The bytes from `from` to `to` (within the size). */
  read(from: number, to: number): Uint8Array;
}

/** Bytes in memory as a byte source. */
export function bytesSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (from, to) => bytes.subarray(from, to) };
}

/** Pages read this many bytes at a time, bisection a quarter of it. */
const PAGE_WINDOW = 64 << 10;

/**
 * The entry line of the encoded tree `id` holding the byte `at` (`lo` and `hi` are line
 * starts around it): its start, its end (after the newline) and its entry.
 */
function treeLineAt(
  source: ByteSource,
  id: Hash,
  at: number,
  bounds: { lo: number; hi: number },
): { start: number; end: number; entry: TreeEntry } {
  for (let half = PAGE_WINDOW / 8;; half *= 2) {
    const from = Math.max(bounds.lo, at - half);
    const to = Math.min(bounds.hi, at + half);
    const buf = source.read(from, to);
    let start = at - from;
    while (start > 0 && buf[start - 1] !== NEWLINE) start--;
    const eol = buf.indexOf(NEWLINE, at - from);
    if ((start > 0 || from === bounds.lo) && eol >= 0) {
      const line = lenient.decode(buf.subarray(start, eol + 1));
      return { start: from + start, end: from + eol + 1, entry: decodeTreeLine(line, id) };
    }
    if (from === bounds.lo && to === bounds.hi) {
      throw new IntegrityError(`Tree ${id} is malformed`, { object: id });
    }
  }
}

/**
 * One page of the encoded tree `id`, read from `source`: at most `limit` entries in name
 * order, starting after the name `after` (found by bisection, whether or not the tree holds
 * it) or at the first. Only the page's lines (and the bisection's) are read and decoded, so
 * a page of a folder of a million entries costs what a page of a small one does. The bytes
 * are not checked against `id` here: the caller does so.
 */
export function treePage(
  source: ByteSource,
  id: Hash,
  options: { readonly after?: string; readonly limit?: number } = {},
): TreeEntry[] {
  const header = TREE_HEADER.length;
  const size = source.size;
  if (
    size < header || lenient.decode(source.read(0, header)) !== TREE_HEADER ||
    source.read(size - 1, size)[0] !== NEWLINE
  ) {
    throw new IntegrityError(`Tree ${id} is malformed`, { object: id });
  }
  let pos = header;
  if (options.after !== undefined) {
    let lo = header;
    let hi = size;
    while (lo < hi) {
      const line = treeLineAt(source, id, (lo + hi) >>> 1, { lo, hi });
      if (compareNames(line.entry.name, options.after) <= 0) lo = line.end;
      else hi = line.start;
    }
    pos = lo;
  }
  const limit = options.limit ?? Infinity;
  const out: TreeEntry[] = [];
  while (pos < size && out.length < limit) {
    const buf = source.read(pos, Math.min(size, pos + PAGE_WINDOW));
    let at = 0;
    for (let eol = buf.indexOf(NEWLINE); eol >= 0 && out.length < limit;) {
      out.push(decodeTreeLine(lenient.decode(buf.subarray(at, eol + 1)), id));
      at = eol + 1;
      eol = buf.indexOf(NEWLINE, at);
    }
    if (at === 0) {
      // A line longer than a window: only a malformed tree has one.
      throw new IntegrityError(`Tree ${id} has a malformed entry`, { object: id });
    }
    pos += at;
  }
  return out;
}

/** The total size of an encoded tree's entries (the sum of their size fields). */
export function treeSize(bytes: Uint8Array): number {
  let total = 0;
  let p = TREE_HEADER.length;
  while (p < bytes.length) {
    let q = p + 2;
    let n = 0;
    for (; bytes[q] !== SPACE; q++) n = n * 10 + bytes[q]! - 48;
    total += n;
    p = bytes.indexOf(NEWLINE, q) + 1;
  }
  return total;
}

/** Encode a commit canonically. */
export function encodeCommit(commit: Commit): Uint8Array {
  return encoder.encode(canonicalJson({ type: "commit", ...commit }));
}

/** Decode a commit's bytes; `id` names it in errors. */
export function decodeCommit(bytes: Uint8Array, id: string): Commit {
  try {
    const value = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    if (
      value.type !== "commit" || typeof value.repo !== "string" ||
      typeof value.tree !== "string" || typeof value.time !== "string"
    ) {
      throw new Error("not a commit");
    }
    const { type: _type, ...commit } = value;
    return commit as unknown as Commit;
  } catch {
    throw new IntegrityError(`Commit ${id} is malformed`, { object: id });
  }
}
