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
    if (hash !== null && hash !== EMPTY_TREE && groups.size <= SPLICE_MAX_NAMES) {
      const pending = batch.pending(hash);
      const bytes = pending ??
        (this.#reader.isCached(hash) ? null : await this.#objects.read(hash));
      // Read from the store, the bytes were checked against their hash: a damaged tree is
      // refused, not spliced into a new one.
      if (bytes && bytes.length >= this.#spliceMinBytes) {
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
    const list = [...entries.values()];
    const bytes = encodeTree(list);
    const newHash = await sha256Async(bytes);
    if (newHash !== hash) await batch.add(bytes, newHash);
    const size = list.reduce((s, e) => s + e.size, 0);
    return { hash: newHash, size };
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
