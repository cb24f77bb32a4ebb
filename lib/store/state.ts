/**
 * The store's state (repos, branches and their heads) as a pure function of the ledger:
 * `applyEntry(state, entry)` replays one ledger entry. `state.json` is a cache of the result
 * that recovery and `verify` can always rebuild from the ledger.
 */
import type { Hash } from "./hash.ts";
import { IntegrityError } from "../errors.ts";

/** One change recorded in the ledger. */
export type Change =
  | { readonly type: "repo:create"; readonly repo: string; readonly description: string }
  | { readonly type: "repo:update"; readonly repo: string; readonly description: string }
  | { readonly type: "repo:delete"; readonly repo: string }
  | { readonly type: "commit"; readonly repo: string; readonly commit: string }
  | {
    readonly type: "branch:move";
    readonly repo: string;
    readonly branch: string;
    readonly from: string | null;
    readonly to: string | null;
  }
  | {
    readonly type: "branch:delete";
    readonly repo: string;
    readonly branch: string;
    readonly from: string | null;
  }
  | {
    readonly type: "meta:put";
    readonly kind: string;
    readonly name: string;
    /** Objects this record keeps alive (e.g. a pipeline's spec and code). */
    readonly objects: readonly Hash[];
    readonly value: unknown;
  }
  | { readonly type: "meta:delete"; readonly kind: string; readonly name: string };

/** One line of the ledger: a transaction, hash-chained to the one before it. */
export interface LedgerEntry {
  readonly seq: number;
  readonly prev: Hash;
  readonly time: string;
  readonly changes: readonly Change[];
}

/** A branch: a named pointer to a head commit (null before the first commit). */
export interface BranchState {
  head: string | null;
  created: string;
  /** Ledger sequence number of the last move. */
  movedSeq: number;
}

/** A repo and its branches. */
export interface RepoState {
  name: string;
  description: string;
  created: string;
  /** Ledger sequence number that created this incarnation of the repo. */
  createdSeq: number;
  branches: Record<string, BranchState>;
}

/** Named metadata records kept by higher layers (pipelines, jobs) through the ledger. */
export interface MetaState {
  value: unknown;
  objects: readonly Hash[];
  seq: number;
  updated: string;
}

/** The materialised state of a store. */
export interface StoreState {
  version: 1;
  ledger: { seq: number; hash: Hash; size: number };
  repos: Record<string, RepoState>;
  meta: Record<string, Record<string, MetaState>>;
}

/** The hash that precedes the first ledger entry. */
export const GENESIS: Hash = "0".repeat(64);

/** An empty store's state. */
export function emptyState(): StoreState {
  return { version: 1, ledger: { seq: 0, hash: GENESIS, size: 0 }, repos: {}, meta: {} };
}

function broken(entry: LedgerEntry, why: string): never {
  throw new IntegrityError(`Ledger entry ${entry.seq} cannot be replayed: ${why}`, {
    seq: entry.seq,
  });
}

/** Apply one ledger entry to `state` in place (the ledger position is updated by the caller). */
export function applyEntry(state: StoreState, entry: LedgerEntry): void {
  for (const c of entry.changes) {
    switch (c.type) {
      case "repo:create":
        if (state.repos[c.repo]) broken(entry, `repo "${c.repo}" already exists`);
        state.repos[c.repo] = {
          name: c.repo,
          description: c.description,
          created: entry.time,
          createdSeq: entry.seq,
          branches: {},
        };
        break;
      case "repo:update": {
        const repo = state.repos[c.repo] ?? broken(entry, `repo "${c.repo}" is missing`);
        repo.description = c.description;
        break;
      }
      case "repo:delete":
        if (!state.repos[c.repo]) broken(entry, `repo "${c.repo}" is missing`);
        delete state.repos[c.repo];
        break;
      case "commit":
        if (!state.repos[c.repo]) broken(entry, `repo "${c.repo}" is missing`);
        break;
      case "branch:move": {
        const repo = state.repos[c.repo] ?? broken(entry, `repo "${c.repo}" is missing`);
        const b = repo.branches[c.branch];
        if ((b?.head ?? null) !== c.from && !(b === undefined && c.from === null)) {
          broken(entry, `branch "${c.branch}" was not at ${c.from}`);
        }
        if (b) {
          b.head = c.to;
          b.movedSeq = entry.seq;
        } else repo.branches[c.branch] = { head: c.to, created: entry.time, movedSeq: entry.seq };
        break;
      }
      case "branch:delete": {
        const repo = state.repos[c.repo] ?? broken(entry, `repo "${c.repo}" is missing`);
        if (!repo.branches[c.branch]) broken(entry, `branch "${c.branch}" is missing`);
        delete repo.branches[c.branch];
        break;
      }
      case "meta:put": {
        const kind = state.meta[c.kind] ??= {};
        kind[c.name] = { value: c.value, objects: c.objects, seq: entry.seq, updated: entry.time };
        break;
      }
      case "meta:delete": {
        const kind = state.meta[c.kind];
        if (!kind?.[c.name]) broken(entry, `${c.kind} "${c.name}" is missing`);
        delete kind[c.name];
        break;
      }
    }
  }
}
