/**
 * Editing trees: a list of puts and deletes applied to a commit's root tree gives a new
 * root, writing only the trees on the edited paths (O(depth) objects for one file, even in
 * a folder of 100,000). A large tree edited at a few names is spliced, its other lines
 * left as they are (see `spliceTree`).
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import type { ObjectBatch } from "./batch.ts";
import {
  checkTreeFrame,
  compareNames,
  decodeTree,
  EMPTY_TREE,
  EMPTY_TREE_BYTES,
  encodeTree,
  findTreeLine,
  spliceTree,
  type TreeEntry,
  treeSize,
  type TreeSplice,
} from "./codec.ts";
import {
  checkChunk,
  CHUNK_MIN_ENTRIES,
  chunkFor,
  decodeFanout,
  encodeFanout,
  encodeFolder,
  type FanoutChunk,
  fanoutChunk,
  isChunkEnd,
  isFanout,
} from "./fanout_codec.ts";
import { type Hash, sha256Async } from "./hash.ts";
import { formatPath } from "./names.ts";
import type { ObjectStore } from "./objects.ts";
import type { Reader } from "./reader.ts";

/** One edit of a commit's tree. */
export type Edit =
  | {
    readonly op: "put";
    readonly path: readonly string[];
    readonly hash: Hash;
    readonly size: number;
  }
  | { readonly op: "delete"; readonly path: readonly string[] };

/** Trees at least this large (by default), with at most `SPLICE_MAX_NAMES` names edited, are spliced. */
export const SPLICE_MIN_BYTES = 64 << 10;
const SPLICE_MAX_NAMES = 64;

/** Applies edits to the trees of one store. */
export class TreeEditor {
  readonly #reader: Reader;
  readonly #objects: ObjectStore;
  readonly #spliceMinBytes: number;

  constructor(reader: Reader, objects: ObjectStore, options: { spliceMinBytes?: number } = {}) {
    this.#reader = reader;
    this.#objects = objects;
    this.#spliceMinBytes = options.spliceMinBytes ?? SPLICE_MIN_BYTES;
  }

  /** Apply `edits` to the tree `root`; new trees go to `batch`. Returns the new root. */
  async edit(
    root: Hash,
    edits: readonly Edit[],
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number }> {
    const r = await this.#editDir(root, edits, [], batch);
    if (r) return r;
    await batch.add(EMPTY_TREE_BYTES, EMPTY_TREE);
    return { hash: EMPTY_TREE, size: 0 };
  }

  async #editDir(
    hash: Hash | null,
    edits: readonly Edit[],
    prefix: readonly string[],
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number } | null> {
    const groups = new Map<string, Edit[]>();
    for (const e of edits) {
      const name = e.path[0]!;
      let g = groups.get(name);
      if (!g) groups.set(name, g = []);
      g.push(e);
    }
    let read: TreeEntry[] | null = null;
    if (hash !== null && hash !== EMPTY_TREE) {
      // A large folder's fanout is small: read again even when its entries are cached.
      const bytes = batch.pending(hash) ??
        (this.#reader.isCached(hash) && !this.#reader.isFanout(hash)
          ? null
          : await this.#objects.read(hash));
      // Read from the store, the bytes were checked against their hash: a damaged tree is
      // refused, not spliced into a new one.
      if (bytes && isFanout(bytes)) {
        return await this.#editFanout(hash, bytes, groups, prefix, batch);
      }
      if (bytes && bytes.length >= this.#spliceMinBytes && groups.size <= SPLICE_MAX_NAMES) {
        return await this.#spliceDir(hash, bytes, groups, prefix, batch);
      }
      // A small tree just read: decoded here rather than read again.
      if (bytes) this.#reader.remember(hash, read = decodeTree(bytes, hash));
    }
    const entries = new Map<string, TreeEntry>();
    if (hash !== null) {
      for (const e of read ?? await this.#reader.readTree(hash, batch)) entries.set(e.name, e);
    }
    for (const [name, group] of groups) {
      const cur = await this.#editEntry(entries.get(name) ?? null, name, group, prefix, batch);
      if (cur) entries.set(name, cur);
      else entries.delete(name);
    }
    if (entries.size === 0) return null;
    return await this.#writeFolder([...entries.values()], hash, batch);
  }

  /** Write a folder of `entries` (a plain tree, or a fanout and its chunks past the threshold). */
  async #writeFolder(
    entries: readonly TreeEntry[],
    old: Hash | null,
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number }> {
    const folder = await encodeFolder(entries, sha256Async);
    if (folder.hash !== old) {
      for (const c of folder.chunks) await batch.add(c.bytes, c.hash);
      await batch.add(folder.bytes, folder.hash);
    }
    return { hash: folder.hash, size: folder.size };
  }

  /**
   * `#editDir` for a large folder, stored as a fanout of chunks: only the chunks holding (or
   * that would hold) the edited names are read and written again. A chunk ends after a
   * name chosen by its hash alone, so the edited chunks are cut again where those names
   * fall: an edit that removes a chunk's last name merges it with the next, one that adds a
   * chunk end splits it, and the folder's form depends on its entries only. A folder left
   * with `CHUNK_MIN_ENTRIES` entries or fewer becomes a plain tree again.
   */
  async #editFanout(
    hash: Hash,
    bytes: Uint8Array,
    groups: ReadonlyMap<string, readonly Edit[]>,
    prefix: readonly string[],
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number } | null> {
    const chunks = decodeFanout(bytes, hash);
    const read = new Map<number, Map<string, TreeEntry>>();
    const readChunk = async (i: number): Promise<Map<string, TreeEntry>> => {
      let m = read.get(i);
      if (!m) {
        const c = chunks[i]!.hash;
        const entries = decodeTree(batch.pending(c) ?? await this.#objects.read(c), c);
        checkChunk(chunks, i, entries, hash);
        read.set(i, m = new Map(entries.map((e) => [e.name, e])));
      }
      return m;
    };
    // Names are edited in the order given, as the decoding path does.
    for (const [name, group] of groups) {
      const chunk = await readChunk(chunkFor(chunks, name));
      const entry = await this.#editEntry(chunk.get(name) ?? null, name, group, prefix, batch);
      if (entry) chunk.set(name, entry);
      else chunk.delete(name);
    }
    const sorted = (m: Map<string, TreeEntry>) =>
      [...m.values()].sort((a, b) => compareNames(a.name, b.name));
    const lines: FanoutChunk[] = [];
    /** Each line's entries, for a chunk cut here; the index of a chunk kept as it was. */
    const parts: (TreeEntry[] | number)[] = [];
    for (let i = 0; i < chunks.length;) {
      if (!read.has(i)) {
        lines.push(chunks[i]!);
        parts.push(i);
        i++;
        continue;
      }
      // A run of edited chunks, taking in the next while it is edited too or the run no
      // longer ends at a chunk end (its last name was removed).
      const run = sorted(read.get(i)!);
      let j = i + 1;
      while (
        j < chunks.length &&
        (read.has(j) || run.length === 0 || !isChunkEnd(run[run.length - 1]!.name))
      ) {
        for (const e of sorted(await readChunk(j))) run.push(e);
        j++;
      }
      let start = 0;
      for (let k = 0; k < run.length; k++) {
        if (k === run.length - 1 || isChunkEnd(run[k]!.name)) {
          const part = run.slice(start, k + 1);
          lines.push(fanoutChunk(part, ""));
          parts.push(part);
          start = k + 1;
        }
      }
      i = j;
    }
    const count = lines.reduce((n, c) => n + c.count, 0);
    if (count === 0) return null;
    if (count <= CHUNK_MIN_ENTRIES) {
      // Back under the threshold: a plain tree of every entry.
      const all: TreeEntry[] = [];
      for (const p of parts) {
        for (const e of typeof p === "number" ? (await readChunk(p)).values() : p) all.push(e);
      }
      return await this.#writeFolder(all, hash, batch);
    }
    const fresh: { bytes: Uint8Array; hash: Hash }[] = [];
    for (let i = 0; i < lines.length; i++) {
      const p = parts[i]!;
      if (typeof p === "number") continue;
      const bytes = encodeTree(p);
      const h = await sha256Async(bytes);
      fresh.push({ bytes, hash: h });
      lines[i] = { ...lines[i]!, hash: h };
    }
    const out = encodeFanout(lines);
    const newHash = await sha256Async(out);
    if (newHash !== hash) {
      for (const c of fresh) await batch.add(c.bytes, c.hash);
      await batch.add(out, newHash);
    }
    return { hash: newHash, size: lines.reduce((n, c) => n + c.size, 0) };
  }

  /**
   * `#editDir` for a large tree and a few names: each name's line is found by bisecting the
   * encoded tree (its lines are sorted by name) and replaced, removed or inserted in place,
   * so a change to a folder of 100,000 files neither decodes nor re-encodes the other lines.
   */
  async #spliceDir(
    hash: Hash,
    bytes: Uint8Array,
    groups: ReadonlyMap<string, readonly Edit[]>,
    prefix: readonly string[],
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number } | null> {
    checkTreeFrame(bytes, hash);
    // Names are edited in the order given, as the decoding path does (so a refused edit is
    // the same one either way), then spliced in the tree's order.
    const splices: TreeSplice[] = [];
    for (const [name, group] of groups) {
      const at = findTreeLine(bytes, name, hash);
      const entry = await this.#editEntry(at.entry, name, group, prefix, batch);
      splices.push({ name, start: at.start, end: at.end, entry });
    }
    const out = spliceTree(bytes, splices);
    if (!out) return null;
    // Past the threshold (or a large plain tree of an older version): chunked.
    if (countLines(out) - 1 > CHUNK_MIN_ENTRIES) {
      return await this.#writeFolder(decodeTree(out, hash), hash, batch);
    }
    const newHash = await sha256Async(out);
    if (newHash !== hash) await batch.add(out, newHash);
    return { hash: newHash, size: treeSize(out) };
  }

  /** Apply one name's edits (in order) to its entry `cur`; returns the new entry or null. */
  async #editEntry(
    cur: TreeEntry | null,
    name: string,
    group: readonly Edit[],
    prefix: readonly string[],
    batch: ObjectBatch,
  ): Promise<TreeEntry | null> {
    let entry = cur;
    const here = [...prefix, name];
    let i = 0;
    while (i < group.length) {
      const e = group[i]!;
      if (e.path.length === 1) {
        if (e.op === "put") {
          if (entry?.kind === "dir") {
            throw new InvalidArgumentError(
              `Cannot put file "${formatPath(here)}": a folder with that name exists`,
              { path: formatPath(here) },
            );
          }
          entry = { name, kind: "file", hash: e.hash, size: e.size };
        } else {
          if (!entry) {
            throw new NotFoundError(`Cannot find file "${formatPath(here)}"`, {
              path: formatPath(here),
            });
          }
          entry = null;
        }
        i++;
        continue;
      }
      let j = i;
      while (j < group.length && group[j]!.path.length > 1) j++;
      if (entry?.kind === "file") {
        throw new InvalidArgumentError(
          `Cannot use "${formatPath(here)}" as a folder: it is a file`,
          { path: formatPath(here) },
        );
      }
      const sub = group.slice(i, j).map((x) => ({ ...x, path: x.path.slice(1) }));
      // Each folder level resumes on a fresh stack: a deep new path cannot overflow it.
      await Promise.resolve();
      const r = await this.#editDir(entry?.hash ?? null, sub, here, batch);
      entry = r ? { name, kind: "dir", hash: r.hash, size: r.size } : null;
      i = j;
    }
    return entry;
  }
}

/** The number of lines of `bytes`. */
function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (let at = bytes.indexOf(10); at >= 0; at = bytes.indexOf(10, at + 1)) n++;
  return n;
}
