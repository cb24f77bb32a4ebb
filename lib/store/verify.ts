/**
 * Integrity of a whole store: `verify` walks the ledger's hash chain, replays it against the
 * state file, follows every live commit to its trees and blobs, and re-hashes every object;
 * `gc` frees what no kept ledger entry reaches. Both share one reachability walk.
 */
import { IntegrityError, NotFoundError } from "../errors.ts";
import {
  canonicalJson,
  EMPTY_TREE,
  EMPTY_TREE_BYTES,
  type ScannedTree,
  scanTree,
  type TreeEntry,
} from "./codec.ts";
import { isFanout } from "./fanout_codec.ts";
import { type Hash, preloadNativeHash, sha256 } from "./hash.ts";
import { IdTable } from "./id_table.ts";
import { applyEntry, emptyState, type StoreState } from "./state.ts";
import type { Store } from "./store.ts";

const decoder = new TextDecoder();

/** What `verify` checked. */
export interface VerifyReport {
  readonly entries: number;
  readonly commits: number;
  readonly trees: number;
  readonly files: number;
  readonly objects: number;
}

/**
 * Roots kept alive by the ledger: commits of live repos, and objects of live records. Only
 * the entries `state` covers: one a writer appends meanwhile (`verify` takes no store lock)
 * names objects written after the store's objects were listed.
 */
async function liveRoots(
  store: Store,
  state: StoreState,
): Promise<{ commits: Set<string>; objects: Set<Hash> }> {
  const commits = new Set<string>();
  for await (const { entry } of store.ledgerSince(0)) {
    if (entry.seq > state.ledger.seq) break;
    for (const c of entry.changes) {
      if (c.type !== "commit" && c.type !== "branch:move") continue;
      const repo = state.repos[c.repo];
      if (!repo || entry.seq < repo.createdSeq) continue;
      if (c.type === "commit") commits.add(c.commit);
      else if (c.to) commits.add(c.to);
    }
  }
  const objects = new Set<Hash>();
  for (const kind of Object.values(state.meta)) {
    for (const rec of Object.values(kind)) for (const o of rec.objects) objects.add(o);
  }
  return { commits, objects };
}

/** One object kept alive outside commits by a higher layer. */
export interface ExtraRoot {
  readonly hash: Hash;
  /** What keeps it, for messages: "the output of datum … of job …". */
  readonly what: string;
  /**
   * Set for a cache entry (a datum index entry naming a datum's output): when anything under
   * it is missing, the entry is stale — not lost data — and `repair` says how to drop it;
   * `gc` hands such entries to `ExtraRoots.dropStale` instead of failing.
   */
  readonly cache?: { readonly repair: string };
}

/**
 * Objects kept alive outside commits by higher layers (a pipeline's datum outputs and logs);
 * given by the caller, since the store knows nothing of pipelines.
 */
export interface ExtraRoots {
  readonly trees: Iterable<ExtraRoot>;
  readonly blobs: Iterable<ExtraRoot>;
  /**
   * Objects written at or after this time (milliseconds since the epoch, by their files'
   * modification times) may be held by a job still running, which names them nowhere yet:
   * `gc` keeps them. Writes of an object the store already holds refresh its time.
   */
  readonly keepSince?: number;
  /** Drop cache entries found stale (called by every `gc` but a dry run, under its locks). */
  readonly dropStale?: (stale: readonly ExtraRoot[]) => Promise<void>;
}

/** Supplies extra roots for a state snapshot. */
export type ExtraRootsFn = (state: StoreState) => Promise<ExtraRoots>;

/** An object a root needs is not in the store. */
class Missing extends IntegrityError {
  constructor(message: string, data: Record<string, unknown>) {
    super(message, { ...data, problem: "missing" });
  }
}

/** `text` with its first letter in capitals. */
function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The error for a stale cache entry: `root` names objects the store no longer holds. */
function staleEntry(root: ExtraRoot, missing: IntegrityError): IntegrityError {
  return new IntegrityError(
    `${capitalised(root.what)} names tree ${root.hash}, which the store no longer holds ` +
      `whole: a stale cache entry, not lost data; ${root.cache!.repair}`,
    {
      object: root.hash,
      missing: missing.data.object,
      problem: "stale-cache",
      repair: root.cache!.repair,
    },
  );
}

/**
 * The objects found alive, kept over the objects the store holds: an `IdTable` of the held
 * objects' ids with a flag per object, so that a million objects cost no million-entry `Map`
 * to build, and a file is one probe to learn both whether its blob is held and whether it
 * was seen. Objects found alive that the store does not hold (`gc` does not look for blobs)
 * are kept in a set apart.
 */
class Live {
  /** Every object the store holds. */
  readonly #ids: IdTable;
  /** 1 for an object of `#ids` found alive, by its ordinal. */
  readonly #alive: Uint8Array;
  readonly #absent = new Set<Hash>();

  constructor(ids: IdTable) {
    this.#ids = ids;
    this.#alive = new Uint8Array(ids.size);
  }

  /** Every object of a listing of the store (`ObjectStore.listAll`). */
  static of(all: { loose: Hash[]; packs: Map<string, Hash[]> }): Live {
    let count = all.loose.length;
    for (const hashes of all.packs.values()) count += hashes.length;
    const ids = new IdTable(count);
    for (const h of all.loose) ids.add(h);
    for (const hashes of all.packs.values()) for (const h of hashes) ids.add(h);
    return new Live(ids);
  }

  /** True when the store holds `hash`. */
  present(hash: Hash): boolean {
    return this.#ids.find(hash) >= 0;
  }

  /** True when `hash` was found alive. */
  has(hash: Hash): boolean {
    const i = this.#ids.find(hash);
    return i >= 0 ? this.#alive[i] === 1 : this.#absent.has(hash);
  }

  /** `take()` of the id whose 64 hex digits start at `at` in `bytes` (a tree's). */
  takeHex(bytes: Uint8Array, at: number, held: boolean): boolean | "missing" {
    const i = this.#ids.findHex(bytes, at);
    if (i < 0) return this.take(decoder.decode(bytes.subarray(at, at + 64)), held);
    if (this.#alive[i] === 1) return false;
    this.#alive[i] = 1;
    return true;
  }

  /** Mark `hash` alive. */
  add(hash: Hash): void {
    this.take(hash, false);
  }

  /**
   * Mark `hash` alive; true when it was not yet. With `held`, an object the store does not
   * hold is `"missing"`.
   */
  take(hash: Hash, held: boolean): boolean | "missing" {
    const i = this.#ids.find(hash);
    if (i < 0) {
      if (held) return "missing";
      if (this.#absent.has(hash)) return false;
      this.#absent.add(hash);
      return true;
    }
    if (this.#alive[i] === 1) return false;
    this.#alive[i] = 1;
    return true;
  }
}

/**
 * Every object reachable from the live roots. `live` starts as every object the store has;
 * with `check`, commits and trees are re-hashed on the way and every blob must be present.
 * The blobs under a cache root must always be present: otherwise the entry is stale, which
 * `check` throws and gc gathers in `stale`.
 */
async function reachable(
  store: Store,
  state: StoreState,
  options: { check: boolean; live: Live; extra?: ExtraRoots | undefined },
): Promise<{
  live: Live;
  commits: number;
  trees: number;
  files: number;
  stale: ExtraRoot[];
}> {
  const { check, live, extra } = options;
  const roots = await liveRoots(store, state);
  /** Objects found missing: a second root that needs one is told so too. */
  const gone = new Map<Hash, Missing>();
  let commits = 0;
  let trees = 0;
  let files = 0;
  /**
   * True when the store holds `hash` now: listed, or written since the listing (`verify`
   * locks out no writer: a running job's output is named by its records as it is written).
   */
  const heldNow = async (hash: Hash): Promise<boolean> => {
    if (live.present(hash)) return true;
    await store.objects.refresh();
    return await store.objects.has(hash);
  };
  const needObject = async (hash: Hash, what: string) => {
    if (!(await heldNow(hash))) throw new Missing(`${what} is missing`, { object: hash });
  };
  for (const o of roots.objects) {
    await needObject(o, `Object ${o} kept by a ledger record`);
    live.add(o);
  }
  const visitTree = async (hash: Hash, where: string, blobs: boolean): Promise<void> => {
    const lost = gone.get(hash);
    if (lost) throw lost;
    if (live.has(hash)) return;
    let entries: readonly TreeEntry[] = [];
    let plain: { bytes: Uint8Array; tree: ScannedTree } | undefined;
    try {
      if (!(await heldNow(hash))) throw new NotFoundError(`Cannot find object ${hash}`);
      // Read and checked against its hash (as every read is), not kept: each tree is visited
      // once, and a walk of a million files holds one folder at a time. A plain tree's
      // entries are read where they lie in its bytes, with no object or string each.
      const bytes = hash === EMPTY_TREE ? EMPTY_TREE_BYTES : await store.objects.read(hash);
      if (!isFanout(bytes)) plain = { bytes, tree: scanTree(bytes, hash) };
      else {
        const tree = await store.readTreeOnce(hash);
        entries = tree.entries;
        // A large folder's chunks: read (and so checked) with it, alive with it.
        for (const c of tree.chunks) {
          if (!live.has(c)) {
            live.add(c);
            trees++;
          }
        }
      }
    } catch (err) {
      if (err instanceof NotFoundError) {
        const chunk = err.data.object;
        const missing = typeof chunk === "string" && chunk !== hash
          ? new Missing(`Chunk ${chunk} of tree ${hash} (${where}) is missing`, { object: chunk })
          : new Missing(`Tree ${hash} (${where}) is missing`, { object: hash });
        gone.set(hash, missing);
        throw missing;
      }
      throw err;
    }
    live.add(hash);
    trees++;
    const pathOf = (name: string) => `${where === "/" ? "" : where}/${name}`;
    if (plain) {
      const { bytes, tree } = plain;
      const text = (from: number, to: number) => decoder.decode(bytes.subarray(from, to));
      for (let i = 0; i < tree.count; i++) {
        const at = tree.hashAt[i]!;
        const name = () => text(tree.nameAt[i]!, tree.nameEnd[i]!);
        if (tree.dirs[i]) {
          await visitTree(text(at, at + 64), pathOf(name()), blobs);
          continue;
        }
        const taken = live.takeHex(bytes, at, blobs);
        if (taken === "missing") {
          const blob = text(at, at + 64);
          await needObject(blob, `File ${pathOf(name())} (blob ${blob})`);
        } else if (taken) files++;
      }
    }
    for (const e of entries) {
      if (e.kind === "dir") {
        await visitTree(e.hash, pathOf(e.name), blobs);
        continue;
      }
      // One lookup per file: whether the store holds the blob, and whether it was seen.
      const taken = live.take(e.hash, blobs);
      if (taken === "missing") {
        await needObject(e.hash, `File ${pathOf(e.name)} (blob ${e.hash})`);
      } else if (taken) files++;
    }
  };
  for (const root of roots.commits) {
    let id: string | null = root;
    while (id !== null && !live.has(id)) {
      live.add(id);
      commits++;
      let commit;
      try {
        commit = await store.readCommit(id);
      } catch (err) {
        if (err instanceof NotFoundError) {
          throw new Missing(`Commit ${id} is missing`, { commit: id });
        }
        throw err;
      }
      await visitTree(commit.tree, "/", check);
      id = commit.parent;
    }
  }
  const stale: ExtraRoot[] = [];
  // Cache entries first: when one names what a job record names too, the stale entry (which
  // gc repairs) is what verify reports.
  const extraTrees = [...extra?.trees ?? []].sort((a, b) => (a.cache ? 0 : 1) - (b.cache ? 0 : 1));
  for (const t of extraTrees) {
    if (!t.cache) {
      await visitTree(t.hash, t.what, check);
      continue;
    }
    try {
      await visitTree(t.hash, t.what, true);
    } catch (err) {
      if (!(err instanceof Missing)) throw err;
      if (check) throw staleEntry(t, err);
      stale.push(t);
    }
  }
  for (const b of extra?.blobs ?? []) {
    if (live.has(b.hash)) continue;
    if (check) await needObject(b.hash, `${capitalised(b.what)} (blob ${b.hash})`);
    live.add(b.hash);
  }
  return { live, commits, trees, files, stale };
}

/**
 * Walk the ledger's hash chain, replay it, and check the state file against both: the state
 * `verify` then checks the objects of, and how many entries the ledger holds.
 */
async function checkedState(store: Store): Promise<{ state: StoreState; entries: number }> {
  const replay = emptyState();
  let entries = 0;
  let lastHash = replay.ledger.hash;
  let size = 0;
  for await (const { entry, hash, line } of store.ledger()) {
    applyEntry(replay, entry);
    entries++;
    lastHash = hash;
    size += new TextEncoder().encode(line).length + 1;
  }
  const rebuild = "remove it and tusk rebuilds it from the ledger";
  let file;
  try {
    file = await store.stateFile();
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    const why = err.data.problem === "altered"
      ? "was altered (it does not match its checksum)"
      : "is corrupt";
    throw new IntegrityError(
      `The state file ${why}, while the ledger's ${entries} entries chain correctly: ${rebuild}`,
      { ...err.data, seq: entries, repair: rebuild },
    );
  }
  if (!file) {
    throw new IntegrityError(
      "The state file is missing: the next command rebuilds it from the ledger",
      { seq: entries, repair: "the next command rebuilds it" },
    );
  }
  const state = file.state;
  if (
    lastHash !== state.ledger.hash || entries !== state.ledger.seq || size !== state.ledger.size
  ) {
    throw new IntegrityError(
      `Ledger entry ${entries} does not match the hash the state file records: the entry or the state file was altered`,
      { seq: entries },
    );
  }
  replay.ledger = state.ledger;
  if (sha256(canonicalJson(replay)) !== sha256(canonicalJson(state))) {
    throw new IntegrityError(
      `The state file does not match a replay of the ledger: it was altered; ${rebuild}`,
      { repair: rebuild },
    );
  }
  return { state, entries };
}

/**
 * `checkedState()`, once more under the store lock when it fails: `verify` takes no lock
 * while it reads, and a writer may append to the ledger between its read of the ledger and
 * its read of the state file. Under the lock no writer is half-way, so what fails then is
 * damage; when the store lock's own recovery refuses the store, the first finding stands.
 */
async function stateOnceStill(store: Store): Promise<{ state: StoreState; entries: number }> {
  try {
    return await checkedState(store);
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    let again: { found: { state: StoreState; entries: number } } | { err: unknown };
    try {
      again = await store.transact(async () => {
        try {
          return { found: await checkedState(store) };
        } catch (e) {
          return { err: e };
        }
      });
    } catch {
      throw err;
    }
    if ("err" in again) throw again.err;
    return again.found;
  }
}

/** Check everything; throws IntegrityError naming the first broken link. */
export async function verifyStore(
  store: Store,
  options: { extraRoots?: ExtraRootsFn } = {},
): Promise<VerifyReport> {
  // Verify re-hashes every object: worth the native hash from the start.
  await preloadNativeHash();
  // Recover first: a writer that crashed may have left the ledger ahead of the state file.
  // A state file that is refused here is examined below, once the ledger has proved sound.
  try {
    await store.state();
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
  }
  // The shared ingest lock keeps packs from being merged (or gc'd) while they are listed and
  // checked: a merge removes the packs it replaces, and a gc the objects of a repo deleted
  // after the state was read. Listing the objects checks every pack index first, so a
  // corrupt index is named as such rather than as the objects it no longer finds.
  return await store.withIngest(async () => {
    const { state, entries } = await stateOnceStill(store);
    const ids = new IdTable();
    const all = await store.objects.indexAll(ids);
    const live = new Live(ids);
    const { commits, trees, files } = await reachable(store, state, {
      check: true,
      live,
      extra: await options.extraRoots?.(state),
    });
    let objects = 0;
    for (const hash of all.loose) {
      await store.objects.verifyLoose(hash);
      objects++;
    }
    for (const table of all.packs) {
      await store.objects.verifyPack(table, ids, () => objects++);
    }
    return { entries, commits, trees, files, objects };
  });
}

/** What `gc` freed (or would free with `dryRun`). */
export interface GcReport {
  readonly objects: number;
  readonly bytes: number;
  readonly dryRun: boolean;
  /** Unreachable objects left in place because a job still running may hold them. */
  readonly kept: number;
  /** Stale cache entries dropped (or that would be). */
  readonly stale: number;
}

/**
 * Delete objects no kept ledger entry reaches and no extra root names; with `dryRun`, only
 * count them. Objects written since `keepSince` are kept (a loose one by its file's time,
 * a packed one with its whole pack); cache entries found stale are dropped.
 */
export async function collectGarbage(
  store: Store,
  options: { dryRun?: boolean; extraRoots?: ExtraRootsFn } = {},
): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  return await store.withExclusiveIngest(() =>
    store.transact(async (tx) => {
      const all = await store.objects.listAll();
      const extra = await options.extraRoots?.(tx.state);
      const { live, stale } = await reachable(store, tx.state, {
        check: false,
        live: Live.of(all),
        extra,
      });
      const since = extra?.keepSince;
      /** True for a file written (or refreshed) since `since`; a pack missing is not. */
      const young = async (path: string): Promise<boolean> => {
        if (since === undefined) return false;
        try {
          return ((await Deno.lstat(path)).mtime?.getTime() ?? Infinity) >= since;
        } catch (err) {
          if (err instanceof Deno.errors.NotFound) return false;
          throw err;
        }
      };
      let objects = 0;
      let bytes = 0;
      let kept = 0;
      for (const hash of all.loose) {
        if (live.has(hash)) continue;
        if (await young(store.objects.loosePath(hash))) {
          kept++;
          continue;
        }
        objects++;
        if (dryRun) bytes += (await Deno.lstat(store.objects.loosePath(hash))).size;
        else bytes += await store.objects.removeLoose(hash);
      }
      const dirty: string[] = [];
      for (const [pack, hashes] of all.packs) {
        const dead = hashes.filter((h) => !live.has(h));
        if (dead.length === 0) continue;
        if (await young(store.layout.pack(pack))) {
          kept += dead.length;
          continue;
        }
        objects += dead.length;
        if (dryRun) {
          for (const h of dead) bytes += (await store.objects.read(h)).length;
        } else dirty.push(pack);
      }
      if (!dryRun) {
        if (dirty.length) bytes += await store.objects.repack(dirty, live);
        bytes += await store.objects.removeOrphanPacks();
        // Called with none stale too: the caller may have other cache lines to drop.
        await extra?.dropStale?.(stale);
      }
      return { objects, bytes, dryRun, kept, stale: stale.length };
    })
  );
}
