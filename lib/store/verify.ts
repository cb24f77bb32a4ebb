/**
 * Integrity of a whole store: `verify` walks the ledger's hash chain, replays it against the
 * state file, follows every live commit to its trees and blobs, and re-hashes every object;
 * `gc` frees what no kept ledger entry reaches. Both share one reachability walk.
 */
import { IntegrityError, NotFoundError } from "../errors.ts";
import { canonicalJson } from "./codec.ts";
import { type Hash, preloadNativeHash, sha256 } from "./hash.ts";
import { applyEntry, emptyState, type StoreState } from "./state.ts";
import type { Store } from "./store.ts";

/** What `verify` checked. */
export interface VerifyReport {
  readonly entries: number;
  readonly commits: number;
  readonly trees: number;
  readonly files: number;
  readonly objects: number;
}

/** Roots kept alive by the ledger: commits of live repos, and objects of live records. */
async function liveRoots(
  store: Store,
  state: StoreState,
): Promise<{ commits: Set<string>; objects: Set<Hash> }> {
  const commits = new Set<string>();
  for await (const { entry } of store.ledgerSince(0)) {
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

/**
 * Objects kept alive outside commits by higher layers (a pipeline's datum outputs and logs);
 * given by the caller, since the store knows nothing of pipelines.
 */
export interface ExtraRoots {
  readonly trees: Iterable<Hash>;
  readonly blobs: Iterable<Hash>;
}

/** Supplies extra roots for a state snapshot. */
export type ExtraRootsFn = (state: StoreState) => Promise<ExtraRoots>;

/** Every object reachable from the live roots; `check` re-hashes commits and trees on the way. */
async function reachable(
  store: Store,
  state: StoreState,
  check: boolean,
  extra?: ExtraRootsFn,
): Promise<{ live: Set<Hash>; commits: number; trees: number; files: number }> {
  const roots = await liveRoots(store, state);
  const live = new Set<Hash>(roots.objects);
  let commits = 0;
  let trees = 0;
  let files = 0;
  const needObject = async (hash: Hash, what: string) => {
    if (!(await store.objects.has(hash))) {
      throw new IntegrityError(`${what} is missing`, { object: hash });
    }
  };
  for (const o of roots.objects) await needObject(o, `Object ${o} kept by a ledger record`);
  const visitTree = async (hash: Hash, where: string): Promise<void> => {
    if (live.has(hash)) return;
    live.add(hash);
    trees++;
    let entries;
    try {
      if (check) await store.objects.readVerified(hash);
      entries = await store.readTree(hash);
    } catch (err) {
      if (err instanceof NotFoundError) {
        throw new IntegrityError(`Tree ${hash} (${where}) is missing`, { object: hash });
      }
      throw err;
    }
    for (const e of entries) {
      const path = `${where === "/" ? "" : where}/${e.name}`;
      if (e.kind === "dir") await visitTree(e.hash, path);
      else if (!live.has(e.hash)) {
        live.add(e.hash);
        files++;
        if (check) await needObject(e.hash, `File ${path} (blob ${e.hash})`);
      }
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
          throw new IntegrityError(`Commit ${id} is missing`, { commit: id });
        }
        throw err;
      }
      await visitTree(commit.tree, "/");
      id = commit.parent;
    }
  }
  if (extra) {
    const more = await extra(state);
    for (const t of more.trees) await visitTree(t, "(datum output)");
    for (const b of more.blobs) {
      if (live.has(b)) continue;
      live.add(b);
      if (check) await needObject(b, `Datum log ${b}`);
    }
  }
  return { live, commits, trees, files };
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
      { ...err.data, seq: entries },
    );
  }
  if (!file) {
    throw new IntegrityError(
      "The state file is missing: the next command rebuilds it from the ledger",
      {
        seq: entries,
      },
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
      {},
    );
  }
  // Listing the objects checks every pack index first, so a corrupt index is named as
  // such rather than as the objects it no longer finds.
  const all = await store.objects.listAll();
  const { commits, trees, files } = await reachable(store, state, true, options.extraRoots);
  let objects = 0;
  for (const hash of all.loose) {
    await store.objects.verifyLoose(hash);
    objects++;
  }
  for (const pack of all.packs.keys()) {
    await store.objects.verifyPack(pack, () => objects++);
  }
  return { entries, commits, trees, files, objects };
}

/** What `gc` freed (or would free with `dryRun`). */
export interface GcReport {
  readonly objects: number;
  readonly bytes: number;
  readonly dryRun: boolean;
}

/** Delete objects no kept ledger entry reaches; with `dryRun`, only count them. */
export async function collectGarbage(
  store: Store,
  options: { dryRun?: boolean; extraRoots?: ExtraRootsFn } = {},
): Promise<GcReport> {
  const dryRun = options.dryRun ?? false;
  return await store.withExclusiveIngest(() =>
    store.transact(async (tx) => {
      const { live } = await reachable(store, tx.state, false, options.extraRoots);
      const all = await store.objects.listAll();
      let objects = 0;
      let bytes = 0;
      for (const hash of all.loose) {
        if (live.has(hash)) continue;
        objects++;
        if (dryRun) bytes += (await Deno.lstat(store.objects.loosePath(hash))).size;
        else bytes += await store.objects.removeLoose(hash);
      }
      const dirty: string[] = [];
      for (const [pack, hashes] of all.packs) {
        const dead = hashes.filter((h) => !live.has(h));
        if (dead.length === 0) continue;
        objects += dead.length;
        if (dryRun) {
          for (const h of dead) bytes += (await store.objects.read(h)).length;
        } else dirty.push(pack);
      }
      if (!dryRun) {
        if (dirty.length) bytes += await store.objects.repack(dirty, live);
        bytes += await store.objects.removeOrphanPacks();
      }
      return { objects, bytes, dryRun };
    })
  );
}
