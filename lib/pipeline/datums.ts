/**
 * Datums, as Pachyderm splits a job's input: each `pfs` input's glob over its commit's tree
 * gives one datum per match; `cross` takes the cartesian product, `union` the
 * concatenation, `join` matches by `joinOn` key and `group` gathers by `groupBy` key.
 * An `optional` pfs input (tusk's extension) with no commit or no match gives one datum in
 * which its folder is empty, where a required one gives none (in a union, only when no other
 * input gives a datum).
 * Each datum has a hash over its input names, paths and content hashes, the spec's salt and
 * the stage code's hash: a datum that succeeded with the same hash need not run again.
 */
import { compileGlob } from "../glob.ts";
import { canonicalJson, compareNames, EMPTY_TREE, type TreeEntry } from "../store/codec.ts";
import type { FanoutChunk } from "../store/fanout_codec.ts";
import { type Hash, preloadNativeHash, sha256 } from "../store/hash.ts";
import { formatPath } from "../store/names.ts";
import type { Store } from "../store/store.ts";
import type { Input, PfsInput } from "./spec/input.ts";

/** One file a datum reads: its path in the input repo and its content hash. */
export interface DatumFile {
  readonly path: string;
  readonly hash: Hash;
  readonly size: number;
}

/** One input's part of a datum: the glob match and every file under it. */
export interface DatumInput {
  readonly name: string;
  readonly repo: string;
  readonly commit: string;
  /** The matched path (`/` for glob `/`). */
  readonly path: string;
  readonly files: readonly DatumFile[];
  /** Tree or blob hash of the matched entry. */
  readonly hash: Hash;
  readonly joinKey?: string;
  readonly groupKey?: string;
}

/** One unit of work. `key` identifies its inputs; `hash` adds salt and code. */
export interface Datum {
  readonly key: Hash;
  readonly hash: Hash;
  readonly inputs: readonly DatumInput[];
  /**
   * The optional inputs that had nothing to give: each gets an empty `/pfs/<name>` folder.
   * Absent when there are none.
   */
  readonly empty?: readonly string[];
}

/** One `/pfs/<name>` folder of a datum and the files in it. */
export interface DatumFolder {
  readonly name: string;
  readonly files: readonly DatumFile[];
}

/** The `/pfs/` folders of datum `d`: its inputs', then its empty optional inputs'. */
export function datumFolders(d: Pick<Datum, "inputs" | "empty">): DatumFolder[] {
  return [...d.inputs, ...(d.empty ?? []).map((name) => ({ name, files: [] }))];
}

/** The commit each input reads, by input name. */
export type InputCommits = ReadonlyMap<string, { repo: string; commit: string | null }>;

/** An optional input with nothing to give, in a datum being built. */
interface EmptyInput {
  readonly name: string;
  readonly empty: true;
  readonly joinKey?: undefined;
  readonly groupKey?: undefined;
}

type Partial = (DatumInput | EmptyInput)[];

async function pfsDatums(
  store: Store,
  input: PfsInput | { name: string; repo: string; glob: string },
  commits: InputCommits,
): Promise<Partial[]> {
  const found = await matchedDatums(store, input, commits);
  if (found.length === 0 && "optional" in input && input.optional) {
    return [[{ name: input.name, empty: true }]];
  }
  return found;
}

async function matchedDatums(
  store: Store,
  input: PfsInput | { name: string; repo: string; glob: string },
  commits: InputCommits,
): Promise<Partial[]> {
  const at = commits.get(input.name);
  if (!at || at.commit === null) return [];
  const commit = await store.readCommit(at.commit);
  const matcher = new EntryMatcher(store, input, { repo: at.repo, commit: at.commit });
  const out: Partial[] = [];
  const consider = async (kind: "file" | "dir", hash: Hash, segs: string[], size: number) => {
    const m = await matcher.match(kind, hash, segs, size);
    if (m) out.push([m]);
  };
  await consider("dir", commit.tree, [], commit.size);
  const visit = async (hash: Hash, prefix: string[]): Promise<void> => {
    for (const e of await store.readTree(hash)) {
      const segs = [...prefix, e.name];
      await consider(e.kind, e.hash, segs, e.size);
      if (e.kind === "dir") await visit(e.hash, segs);
    }
  };
  await visit(commit.tree, []);
  return out;
}

/** One pfs input's glob, matched against the entries of its commit's tree. */
class EntryMatcher {
  readonly #store: Store;
  readonly #input: PfsInput | { name: string; repo: string; glob: string };
  readonly #at: { repo: string; commit: string };
  readonly #glob;

  constructor(
    store: Store,
    input: PfsInput | { name: string; repo: string; glob: string },
    at: { repo: string; commit: string },
  ) {
    this.#store = store;
    this.#input = input;
    this.#at = at;
    this.#glob = compileGlob(input.glob);
  }

  /** The input's part of a datum for the entry at `segs`, or null when the glob misses it. */
  async match(
    kind: "file" | "dir",
    hash: Hash,
    segs: readonly string[],
    size: number,
  ): Promise<DatumInput | null> {
    const path = formatPath(segs);
    const m = this.#glob.match(path);
    if (!m) return null;
    const input = this.#input;
    const expand = (tpl: string | undefined) =>
      tpl === undefined
        ? undefined
        : tpl.replace(/\$(?:\{(\d+)\}|(\d+))/g, (_, b, n) => m[Number(b ?? n)] ?? "");
    const joinKey = expand("joinOn" in input ? input.joinOn : undefined);
    const groupKey = expand("groupBy" in input ? input.groupBy : undefined);
    return {
      name: input.name,
      repo: this.#at.repo,
      commit: this.#at.commit,
      path,
      hash,
      files: await this.#filesUnder(kind, hash, segs, size),
      ...(joinKey !== undefined ? { joinKey } : {}),
      ...(groupKey !== undefined ? { groupKey } : {}),
    };
  }

  async #filesUnder(
    kind: "file" | "dir",
    hash: Hash,
    segs: readonly string[],
    size: number,
  ): Promise<DatumFile[]> {
    if (kind === "file") return [{ path: formatPath(segs), hash, size }];
    const files: DatumFile[] = [];
    for await (const f of this.#store.walk(hash, segs)) {
      files.push({ path: f.path, hash: f.hash, size: f.size });
    }
    return files;
  }
}

async function evaluate(store: Store, input: Input, commits: InputCommits): Promise<Partial[]> {
  switch (input.kind) {
    case "pfs":
      return await pfsDatums(store, input, commits);
    case "cron":
      return await pfsDatums(store, { name: input.name, repo: input.repo, glob: "/" }, commits);
    case "union": {
      // An optional input with nothing to give stands in a union only while no input gives a
      // datum: the stage would otherwise run once more on nothing. When none gives one, the
      // union is one datum with every such input's folder empty.
      const given: Partial[] = [];
      const nothing: Partial = [];
      for (const i of input.inputs) {
        for (const d of await evaluate(store, i, commits)) {
          if (d.every((part) => "empty" in part)) nothing.push(...d);
          else given.push(d);
        }
      }
      return given.length > 0 || nothing.length === 0 ? given : [nothing];
    }
    case "cross": {
      let acc: Partial[] = [[]];
      for (const i of input.inputs) {
        const part = await evaluate(store, i, commits);
        const next: Partial[] = [];
        for (const a of acc) for (const b of part) next.push([...a, ...b]);
        acc = next;
      }
      return acc;
    }
    case "join": {
      const children = await Promise.all(input.inputs.map((i) => evaluate(store, i, commits)));
      const outer = input.inputs.map((i) => i.kind === "pfs" && i.outerJoin);
      const keys = new Set<string>();
      const byKey = children.map((datums) => {
        const m = new Map<string, Partial[]>();
        for (const d of datums) {
          const k = d[0]?.joinKey ?? "";
          keys.add(k);
          const list = m.get(k) ?? [];
          list.push(d);
          m.set(k, list);
        }
        return m;
      });
      // A key every input has gives the cross of all; a key some input lacks gives the
      // cross of the outer inputs that have it (an outer input "still sees a datum without a
      // match"; an inner one only with a match in every input), or nothing.
      const result: Partial[] = [];
      for (const k of [...keys].sort()) {
        const complete = byKey.every((m) => m.has(k));
        let acc: Partial[] = [[]];
        let sides = 0;
        for (let c = 0; c < children.length; c++) {
          const list = byKey[c]!.get(k);
          if (!list || (!complete && !outer[c])) continue;
          sides++;
          const next: Partial[] = [];
          for (const a of acc) for (const b of list) next.push([...a, ...b]);
          acc = next;
        }
        if (sides > 0) result.push(...acc);
      }
      return result;
    }
    case "group": {
      const groups = new Map<string, Partial>();
      for (const i of input.inputs) {
        for (const d of await evaluate(store, i, commits)) {
          for (const part of d) {
            const k = part.groupKey ?? "";
            const list = groups.get(k) ?? [];
            list.push(part);
            groups.set(k, list);
          }
        }
      }
      return [...groups.keys()].sort().map((k) => groups.get(k)!);
    }
  }
}

/**
 * The key of a datum's inputs: names, matched paths and every file's content hash, and the
 * names of its empty optional inputs, if any.
 */
export function datumKey(inputs: readonly DatumInput[], empty: readonly string[] = []): Hash {
  const listed = inputs.map((i) => ({
    name: i.name,
    path: i.path,
    files: i.files.map((f) => [f.path, f.hash]),
  }));
  return sha256(canonicalJson(empty.length === 0 ? listed : { inputs: listed, empty }));
}

/** The hash deciding whether a datum must run: its key, the spec's salt and the code. */
export function datumHash(key: Hash, salt: string, codeHash: Hash): Hash {
  return sha256(canonicalJson({ key, salt, code: codeHash }));
}

/**
 * From this many datums on, planning loads the native hash before hashing their keys: two
 * hashes a datum, and about a thousand datums' worth repays its load (30 ms or more), which a
 * job of a few datums never would.
 */
export const NATIVE_HASH_DATUMS = 1000;

/** Every datum of `input` at the given commits, in a stable order. */
export async function planDatums(
  store: Store,
  input: Input,
  commits: InputCommits,
  options: { salt: string; codeHash: Hash },
): Promise<Datum[]> {
  const partials = await evaluate(store, input, commits);
  if (partials.length >= NATIVE_HASH_DATUMS) await preloadNativeHash();
  const seen = new Set<Hash>();
  const out: Datum[] = [];
  for (const partial of partials) {
    const inputs = partial.filter((i): i is DatumInput => !("empty" in i));
    const empty = partial.flatMap((i) => ("empty" in i ? [i.name] : []));
    const key = datumKey(inputs, empty);
    if (seen.has(key)) continue;
    seen.add(key);
    const hash = datumHash(key, options.salt, options.codeHash);
    out.push({ key, hash, inputs, ...(empty.length === 0 ? {} : { empty }) });
  }
  return out;
}

/** A datum's short display id (as Pachyderm shows datum ids). */
export function datumId(d: Pick<Datum, "key">): string {
  return d.key.slice(0, 32);
}

/**
 * Order of two normalised paths as a tree walk meets them: segment by segment, each segment
 * as `compareNames()` orders names, a folder before what it holds.
 */
export function comparePaths(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A segment that ends first is a prefix of the other: it comes first.
    if (x === SLASH) return -1;
    if (y === SLASH) return 1;
    return x - y;
  }
  return a.length - b.length;
}

const SLASH = 0x2f;

/** One datum of a plan made from a diff: an earlier job's (by its place), or one met afresh. */
export type DiffedDatum = { readonly earlier: number } | { readonly datum: Datum };

/**
 * The datums of the single pfs `input` at commit `at.commit`, found from the diff of its tree
 * against the tree of `at.earlier`, whose datums (in `planDatums()`'s order) matched
 * `earlierPaths`. A subtree whose hash is the same in both trees holds the same datums as
 * before, so nothing below it is read: each is given as its place in `earlierPaths`. Only
 * the entries on changed paths are matched afresh. The result is in `planDatums()`'s order
 * and says what it would say. Null when `earlierPaths` are not a plan's (not each after the
 * one before in path order, `comparePaths()`), so that the caller plans in full.
 */
export async function diffDatums(
  store: Store,
  input: PfsInput,
  at: { repo: string; commit: string; earlier: string },
  options: { salt: string; codeHash: Hash; earlierPaths: readonly string[] },
): Promise<DiffedDatum[] | null> {
  const paths = options.earlierPaths;
  // A plan gives its datums in path order (a folder before what it holds, names in order):
  // the datums at or under a path then follow each other, found by bisection.
  for (let i = 1; i < paths.length; i++) {
    if (comparePaths(paths[i - 1]!, paths[i]!) >= 0) return null;
  }
  /** The first earlier datum at or after `path` in path order. */
  const firstFrom = (path: string): number => {
    let lo = 0;
    let hi = paths.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (comparePaths(paths[mid]!, path) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  /** True when `p` is `path` or under it. */
  const isUnder = (p: string, path: string): boolean =>
    p === path || (p.startsWith(path) && (path === "/" || p[path.length] === "/"));
  const [now, was] = await Promise.all([
    store.readCommit(at.commit),
    store.readCommit(at.earlier),
  ]);
  const matcher = new EntryMatcher(store, input, { repo: at.repo, commit: at.commit });
  const out: DiffedDatum[] = [];
  /** The earlier datums at or under `path`, given as they are. */
  const same = (path: string): boolean => {
    for (let i = firstFrom(path); i < paths.length && isUnder(paths[i]!, path); i++) {
      out.push({ earlier: i });
    }
    return true;
  };
  const visit = async (
    e: { kind: "file" | "dir"; hash: Hash; size: number },
    before: { kind: "file" | "dir"; hash: Hash } | undefined,
    segs: string[],
  ): Promise<boolean> => {
    if (before && before.kind === e.kind && before.hash === e.hash) return same(formatPath(segs));
    const m = await matcher.match(e.kind, e.hash, segs, e.size);
    if (m) {
      const key = datumKey([m]);
      out.push({
        datum: { key, hash: datumHash(key, options.salt, options.codeHash), inputs: [m] },
      });
    }
    if (e.kind !== "dir") return true;
    const was = before?.kind === "dir" ? before.hash : EMPTY_TREE;
    const [nowChunks, wasChunks] = await Promise.all([
      store.fanoutOf(e.hash),
      was === EMPTY_TREE ? null : store.fanoutOf(was),
    ]);
    if (nowChunks && wasChunks) return await chunks(e.hash, nowChunks, was, wasChunks, segs);
    const older = was === EMPTY_TREE ? [] : await store.readTree(was);
    return await children(await store.readTree(e.hash), older, segs);
  };
  /** The children of a changed folder, `now`, walked side by side with `older`, its listing before. */
  const children = async (
    now: readonly TreeEntry[],
    older: readonly TreeEntry[],
    segs: string[],
  ): Promise<boolean> => {
    const prefix = segs.length === 0 ? "/" : `${formatPath(segs)}/`;
    // Both listings are in name order: walked side by side, each child meets its namesake.
    let o = 0;
    for (const child of now) {
      while (o < older.length && compareNames(older[o]!.name, child.name) < 0) o++;
      const was = older[o]?.name === child.name ? older[o] : undefined;
      if (was && was.kind === child.kind && was.hash === child.hash) {
        if (!same(prefix + child.name)) return false;
      } else if (!await visit(child, was, [...segs, child.name])) return false;
    }
    return true;
  };
  /**
   * A changed large folder whose both listings are in chunks: a chunk whose hash is the same
   * in both holds the same entries, so it is not read, and the earlier datums under its names
   * are given as they are (they follow each other in a plan's order, by name); the chunks that
   * differ are read, as runs that end at the same name on both sides, and walked as
   * `children()` walks a folder.
   */
  const chunks = async (
    nowTree: Hash,
    nowChunks: readonly FanoutChunk[],
    wasTree: Hash,
    wasChunks: readonly FanoutChunk[],
    segs: string[],
  ): Promise<boolean> => {
    const dir = formatPath(segs);
    const prefix = segs.length === 0 ? "/" : `${dir}/`;
    let at = firstFrom(dir);
    /**
     * Pass the earlier datums under the folder whose name in it is at most `last` (all of
     * them for null), giving each as unchanged when `keep`.
     */
    const pass = (last: string | null, keep: boolean): void => {
      for (; at < paths.length; at++) {
        const path = paths[at]!;
        if (path === dir) continue;
        if (!path.startsWith(prefix)) return;
        const slash = path.indexOf("/", prefix.length);
        const name = path.slice(prefix.length, slash < 0 ? undefined : slash);
        if (last !== null && compareNames(name, last) > 0) return;
        if (keep) out.push({ earlier: at });
      }
    };
    const read = async (tree: Hash, from: number, to: number): Promise<TreeEntry[]> => {
      const entries: TreeEntry[] = [];
      for (let c = from; c < to; c++) {
        for (const e of await store.chunkEntries(tree, c)) entries.push(e);
      }
      return entries;
    };
    let n = 0;
    let w = 0;
    while (n < nowChunks.length || w < wasChunks.length) {
      if (
        n < nowChunks.length && w < wasChunks.length && nowChunks[n]!.hash === wasChunks[w]!.hash
      ) {
        pass(nowChunks[n]!.last, true);
        n++;
        w++;
        continue;
      }
      // The chunks that differ, up to the first name both sides end a chunk at (or the end).
      const n0 = n;
      const w0 = w;
      let nowLast = n < nowChunks.length ? nowChunks[n++]!.last : null;
      let wasLast = w < wasChunks.length ? wasChunks[w++]!.last : null;
      while (nowLast !== wasLast) {
        if (wasLast === null || (nowLast !== null && compareNames(nowLast, wasLast) < 0)) {
          nowLast = n < nowChunks.length ? nowChunks[n++]!.last : null;
        } else wasLast = w < wasChunks.length ? wasChunks[w++]!.last : null;
      }
      const [now, older] = await Promise.all([read(nowTree, n0, n), read(wasTree, w0, w)]);
      if (!await children(now, older, segs)) return false;
      pass(nowLast, false);
    }
    return true;
  };
  const root = { kind: "dir" as const, hash: now.tree, size: now.size };
  return await visit(root, { kind: "dir", hash: was.tree }, []) ? out : null;
}
