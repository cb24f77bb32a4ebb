/**
 * Reading the store's commits and trees, decoded and cached (they are immutable, so a cache
 * never goes stale), and walking them: a path's entry, every file under a folder, a
 * branch's history.
 */
import { NotFoundError } from "../errors.ts";
import type { ObjectBatch } from "./batch.ts";
import { type Commit, decodeCommit, decodeTree, EMPTY_TREE, type TreeEntry } from "./codec.ts";
import { checkChunk, chunkFor, decodeFanout, type FanoutChunk, isFanout } from "./fanout_codec.ts";
import type { Hash } from "./hash.ts";
import { formatPath } from "./names.ts";
import type { ObjectStore } from "./objects.ts";

/** A commit with its id. */
export interface CommitInfo {
  readonly id: string;
  readonly commit: Commit;
}

/** A file or folder found at a path in a tree. */
export interface PathEntry {
  readonly path: string;
  readonly kind: "file" | "dir";
  readonly hash: Hash;
  readonly size: number;
}

/**
 * How many tree entries, in all, the decoded trees a `Reader` keeps may hold: past that the
 * trees decoded longest ago are let go (read again when asked for), so walking a store of
 * millions of files keeps a bounded part of it in memory. The decoded fanouts of large
 * folders are held to as many chunks.
 */
export const TREE_CACHE_ENTRIES = 1 << 17;

/** Decoded lists by hash, up to `limit` items in all (each list one more), the oldest let go first. */
class BoundedCache<V extends readonly unknown[]> {
  readonly #map = new Map<Hash, V>();
  readonly #limit: number;
  #items = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  get(hash: Hash): V | undefined {
    return this.#map.get(hash);
  }

  has(hash: Hash): boolean {
    return this.#map.has(hash);
  }

  set(hash: Hash, list: V): void {
    const old = this.#map.get(hash);
    if (old) {
      this.#map.delete(hash);
      this.#items -= old.length + 1;
    }
    this.#map.set(hash, list);
    this.#items += list.length + 1;
    for (const [h, e] of this.#map) {
      if (this.#items <= this.#limit) break;
      this.#map.delete(h);
      this.#items -= e.length + 1;
    }
  }
}

/** Decoded commits and trees of one store. */
export class Reader {
  readonly #objects: ObjectStore;
  /** Decoded plain trees and fanout chunks (a fanout's whole listing is not kept: its chunks are). */
  readonly #trees: BoundedCache<TreeEntry[]>;
  readonly #commits = new Map<string, Commit>();
  /** The chunks of the fanout trees read (a large folder's tree lists its chunk trees). */
  readonly #fanouts: BoundedCache<FanoutChunk[]>;

  constructor(objects: ObjectStore, options: { treeCacheEntries?: number } = {}) {
    this.#objects = objects;
    const limit = options.treeCacheEntries ?? TREE_CACHE_ENTRIES;
    this.#trees = new BoundedCache(limit);
    this.#fanouts = new BoundedCache(limit);
  }

  /** Read and decode a commit (verifying its id). */
  async readCommit(id: string): Promise<Commit> {
    const cached = this.#commits.get(id);
    if (cached) return cached;
    let bytes: Uint8Array;
    try {
      bytes = await this.#objects.read(id);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new NotFoundError(`Cannot find commit ${id}`, { commit: id });
      }
      throw err;
    }
    // The object store checked the bytes against the id.
    const commit = decodeCommit(bytes, id);
    this.#commits.set(id, commit);
    return commit;
  }

  /** Read and decode a tree (pending objects of `batch` first). */
  async readTree(hash: Hash, batch?: ObjectBatch): Promise<TreeEntry[]> {
    return (await this.#read(hash, batch, true)).entries;
  }

  /**
   * A tree read for a walk that visits each tree once (`verify`, `gc`): its entries (a large
   * folder's from all its chunks) and, for a large folder, its chunk trees; read and checked
   * against its hash, and not kept, so a walk of a million files holds one folder at a time.
   */
  async readTreeOnce(hash: Hash): Promise<{ entries: TreeEntry[]; chunks: Hash[] }> {
    const { entries, chunks } = await this.#read(hash, undefined, false);
    return { entries, chunks: chunks.map((c) => c.hash) };
  }

  /**
   * The tree `hash`'s entries (a large folder's from all its chunks) and a large folder's
   * chunks. With `keep`, the caches are read first and what is decoded is kept; without, every
   * object is read (and so checked) anew and nothing is kept.
   */
  async #read(
    hash: Hash,
    batch: ObjectBatch | undefined,
    keep: boolean,
  ): Promise<{ entries: TreeEntry[]; chunks: readonly FanoutChunk[] }> {
    const cached = keep ? this.#trees.get(hash) : undefined;
    if (cached) return { entries: cached, chunks: [] };
    if (hash === EMPTY_TREE) return { entries: [], chunks: [] };
    let chunks = keep ? this.#fanouts.get(hash) : undefined;
    if (!chunks) {
      const bytes = batch?.pending(hash) ?? await this.#objects.read(hash);
      if (!isFanout(bytes)) {
        const entries = decodeTree(bytes, hash);
        if (keep) this.#trees.set(hash, entries);
        return { entries, chunks: [] };
      }
      chunks = keep ? this.#fanout(hash, bytes) : decodeFanout(bytes, hash);
    }
    const entries: TreeEntry[] = [];
    for (let i = 0; i < chunks.length; i++) {
      for (const e of await this.#readChunk(chunks, i, hash, batch, keep)) entries.push(e);
    }
    return { entries, chunks };
  }

  /**
   * The chunks of the tree `hash` when it is a large folder's fanout (their lines: count,
   * size, tree hash, last name), read without reading any chunk; null for a plain tree.
   */
  async fanoutOf(hash: Hash): Promise<readonly FanoutChunk[] | null> {
    if (hash === EMPTY_TREE || this.#trees.has(hash)) return null;
    const known = this.#fanouts.get(hash);
    if (known) return known;
    const bytes = await this.#objects.read(hash);
    if (isFanout(bytes)) return this.#fanout(hash, bytes);
    this.#trees.set(hash, decodeTree(bytes, hash));
    return null;
  }

  /** The entries of chunk `index` of the fanout `hash`, read and checked against its line. */
  async chunkEntries(hash: Hash, index: number): Promise<TreeEntry[]> {
    const chunks = await this.fanoutOf(hash);
    if (!chunks || !chunks[index]) throw new RangeError(`Tree ${hash} has no chunk ${index}`);
    return await this.#readChunk(chunks, index, hash);
  }

  /** The fanout `hash`'s chunks, decoded from its bytes (cached). */
  #fanout(hash: Hash, bytes: Uint8Array): FanoutChunk[] {
    let chunks = this.#fanouts.get(hash);
    if (!chunks) this.#fanouts.set(hash, chunks = decodeFanout(bytes, hash));
    return chunks;
  }

  /** The entries of chunk `index` of the fanout `id`, checked against its line. */
  async #readChunk(
    chunks: readonly FanoutChunk[],
    index: number,
    id: Hash,
    batch?: ObjectBatch,
    keep = true,
  ): Promise<TreeEntry[]> {
    const hash = chunks[index]!.hash;
    let entries = keep ? this.#trees.get(hash) : undefined;
    if (!entries) {
      entries = decodeTree(batch?.pending(hash) ?? await this.#objects.read(hash), hash);
      checkChunk(chunks, index, entries, id);
      // A chunk is a tree of its own: kept as one, so the next lookup in it reads nothing.
      if (keep) this.#trees.set(hash, entries);
    } else checkChunk(chunks, index, entries, id);
    return entries;
  }

  /**
   * The entry `name` of the folder `dir`, or null. Of a large folder's tree, only the chunk
   * that would hold the name is read.
   */
  async entry(dir: Hash, name: string): Promise<TreeEntry | null> {
    let chunks = this.#fanouts.get(dir);
    if (!chunks && !this.#trees.has(dir) && dir !== EMPTY_TREE) {
      const bytes = await this.#objects.read(dir);
      if (isFanout(bytes)) chunks = this.#fanout(dir, bytes);
      else this.#trees.set(dir, decodeTree(bytes, dir));
    }
    const entries = chunks
      ? await this.#readChunk(chunks, chunkFor(chunks, name), dir)
      : await this.readTree(dir);
    return entries.find((e) => e.name === name) ?? null;
  }

  /** The entry at `segments` in the tree `root` (the root itself for no segments), or null. */
  async lookup(root: Hash, segments: readonly string[]): Promise<PathEntry | null> {
    let entry: PathEntry = { path: "/", kind: "dir", hash: root, size: -1 };
    for (let i = 0; i < segments.length; i++) {
      if (entry.kind !== "dir") return null;
      const found = await this.entry(entry.hash, segments[i]!);
      if (!found) return null;
      entry = {
        path: formatPath(segments.slice(0, i + 1)),
        kind: found.kind,
        hash: found.hash,
        size: found.size,
      };
    }
    if (entry.size < 0) entry = { ...entry, size: await this.#treeSize(root) };
    return entry;
  }

  /** The total size of the tree `hash`: of a large folder, from its fanout alone. */
  async #treeSize(hash: Hash): Promise<number> {
    if (!this.#trees.has(hash) && hash !== EMPTY_TREE) {
      const bytes = await this.#objects.read(hash);
      if (isFanout(bytes)) return this.#fanout(hash, bytes).reduce((s, c) => s + c.size, 0);
      this.#trees.set(hash, decodeTree(bytes, hash));
    }
    return (await this.readTree(hash)).reduce((s, e) => s + e.size, 0);
  }

  /**
   * Every file under the folder `dir` of a tree, depth first in name order. The walk keeps
   * its own stack, so a tree of any depth is walked without exhausting the call stack.
   */
  async *walk(dirHash: Hash, prefix: readonly string[]): AsyncGenerator<PathEntry> {
    const stack = [{ entries: await this.readTree(dirHash), next: 0, prefix }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const e = top.entries[top.next++];
      if (!e) {
        stack.pop();
        continue;
      }
      const segs = [...top.prefix, e.name];
      if (e.kind === "dir") {
        stack.push({ entries: await this.readTree(e.hash), next: 0, prefix: segs });
      } else yield { path: formatPath(segs), kind: "file", hash: e.hash, size: e.size };
    }
  }

  /** The commits of a branch or from a commit back to the first, newest first. */
  async *history(id: string | null): AsyncGenerator<CommitInfo> {
    while (id !== null) {
      const commit = await this.readCommit(id);
      yield { id, commit };
      id = commit.parent;
    }
  }

  /** True when the tree `hash` is known to be a fanout (a large folder's, in chunks). */
  isFanout(hash: Hash): boolean {
    return this.#fanouts.has(hash);
  }

  /** True when the tree `hash` is decoded and cached already. */
  isCached(hash: Hash): boolean {
    return this.#trees.has(hash);
  }

  /** Keep the decoded tree `hash`, decoded by the caller from bytes it read. */
  remember(hash: Hash, entries: TreeEntry[]): void {
    this.#trees.set(hash, entries);
  }
}
