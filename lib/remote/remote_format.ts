/**
 * The format of a remote, pure (no I/O). A remote is keys:
 *
 * ```text
 * REMOTE                   the mark: "tusk-remote 1"
 * log/000000000001 …       the log: one entry per push, hash-chained; the last is the head
 * HEAD                     {"seq", "hash"} of the last entry, a hint written after it
 * packs/<name>.pack, .idx  objects in packs, as a store's, named by the SHA-256 of the index
 * objects/<hash>           a large object, whole
 * ```
 *
 * Each log entry is the remote's whole head record (repos and branch heads, pipeline
 * records, each pipeline's job manifest) plus what its push added (packs and objects) and
 * the hash of the entry before it. A push commits by creating the next entry, which only one
 * writer can do; a reader checks every entry it takes against the chain.
 */
import { IntegrityError } from "../errors.ts";
import { canonicalJson } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import { checkBranchName, checkRepoName } from "../store/names.ts";

/** What the mark file holds. */
export const REMOTE_MARK = "tusk-remote 1\n";
/** Keys of the remote. */
export const KEYS = {
  mark: "REMOTE",
  head: "HEAD",
  log: "log/",
  packs: "packs/",
  objects: "objects/",
  entry: (seq: number) => `log/${String(seq).padStart(12, "0")}`,
  pack: (name: string) => `packs/${name}.pack`,
  index: (name: string) => `packs/${name}.idx`,
  object: (hash: Hash) => `objects/${hash}`,
} as const;

/** The hash before the first entry. */
export const REMOTE_GENESIS: Hash = "0".repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const JOB_ID = /^[0-9a-f]{32}$/;

/** A repo as the remote holds it. */
export interface RemoteRepo {
  readonly description: string;
  /** Branch → head commit (null for a branch with no commit yet). */
  readonly branches: Readonly<Record<string, string | null>>;
}

/** A ledger record (a pipeline) as the remote holds it. */
export interface RemoteRecord {
  readonly value: unknown;
  readonly objects: readonly Hash[];
}

/** A pack the remote holds; `meta` packs hold commits, trees and job records, read whole. */
export interface RemotePack {
  readonly name: Hash;
  readonly meta: boolean;
}

/** One log entry: the head record after a push, and what that push added. */
export interface RemoteEntry {
  readonly format: 1;
  readonly seq: number;
  readonly prev: Hash;
  readonly time: string;
  readonly repos: Readonly<Record<string, RemoteRepo>>;
  readonly pipelines: Readonly<Record<string, RemoteRecord>>;
  /** Pipeline → its job manifest (an object in a meta pack). */
  readonly jobs: Readonly<Record<string, Hash>>;
  readonly packs: readonly RemotePack[];
  readonly objects: readonly Hash[];
}

/** The bytes of an entry. */
export function encodeEntry(entry: RemoteEntry): Uint8Array {
  return new TextEncoder().encode(canonicalJson(entry));
}

/** A remote's log entry `seq` is not what an entry must be. */
function badEntry(remote: string, seq: number, why: string): IntegrityError {
  return new IntegrityError(
    `Remote "${remote}": log entry ${seq} is damaged (${why}); nothing was changed here`,
    { remote, entry: seq, problem: "damaged-entry" },
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Decode and check log entry `seq` of `remote`: its shape, its sequence number, and every
 * name in it (repos, branches, pipelines, hashes), which name files and folders here and so
 * must be what this store would accept. Its chain link is checked by the caller.
 */
export function decodeEntry(bytes: Uint8Array, seq: number, remote: string): RemoteEntry {
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw badEntry(remote, seq, "not JSON");
  }
  if (!isObject(v) || v.format !== 1) throw badEntry(remote, seq, "not a tusk log entry");
  if (v.seq !== seq) throw badEntry(remote, seq, `it says it is entry ${String(v.seq)}`);
  if (typeof v.prev !== "string" || !HEX64.test(v.prev) || typeof v.time !== "string") {
    throw badEntry(remote, seq, "bad prev or time");
  }
  const hash = (h: unknown, what: string): void => {
    if (typeof h !== "string" || !HEX64.test(h)) throw badEntry(remote, seq, `bad ${what}`);
  };
  const name = (check: (n: string) => unknown, n: string, what: string) => {
    try {
      check(n);
    } catch {
      throw badEntry(remote, seq, `bad ${what} name ${JSON.stringify(n)}`);
    }
  };
  if (!isObject(v.repos) || !isObject(v.pipelines) || !isObject(v.jobs)) {
    throw badEntry(remote, seq, "missing repos, pipelines or jobs");
  }
  for (const [r, repo] of Object.entries(v.repos)) {
    name(checkRepoName, r, "repo");
    if (!isObject(repo) || typeof repo.description !== "string" || !isObject(repo.branches)) {
      throw badEntry(remote, seq, `bad repo "${r}"`);
    }
    for (const [b, head] of Object.entries(repo.branches)) {
      name(checkBranchName, b, "branch");
      if (head !== null) hash(head, `head of ${r}@${b}`);
    }
  }
  for (const [p, rec] of Object.entries(v.pipelines)) {
    name(checkRepoName, p, "pipeline");
    if (!isObject(rec) || !Array.isArray(rec.objects) || !isObject(rec.value)) {
      throw badEntry(remote, seq, `bad pipeline "${p}"`);
    }
    if (rec.value.name !== p) throw badEntry(remote, seq, `pipeline "${p}" names another`);
    for (const o of rec.objects) hash(o, `object of pipeline "${p}"`);
  }
  for (const [p, m] of Object.entries(v.jobs)) {
    name(checkRepoName, p, "pipeline");
    hash(m, `job manifest of "${p}"`);
  }
  if (!Array.isArray(v.packs) || !Array.isArray(v.objects)) {
    throw badEntry(remote, seq, "missing packs or objects");
  }
  for (const p of v.packs) {
    if (!isObject(p) || typeof p.meta !== "boolean") throw badEntry(remote, seq, "bad pack");
    hash(p.name, "pack name");
  }
  for (const o of v.objects) hash(o, "object");
  return v as unknown as RemoteEntry;
}

/** The `HEAD` hint: the last entry as its writer saw it. */
export interface HeadHint {
  readonly seq: number;
  readonly hash: Hash;
}

/** Decode the `HEAD` hint, or null when it is not one (it is only a hint). */
export function decodeHead(bytes: Uint8Array): HeadHint | null {
  try {
    const v = JSON.parse(new TextDecoder().decode(bytes));
    if (isObject(v) && Number.isSafeInteger(v.seq) && typeof v.hash === "string") {
      return { seq: v.seq as number, hash: v.hash };
    }
  } catch {
    // Not a hint: ignored.
  }
  return null;
}

/** One pipeline's jobs as a remote holds them: job id → its record (an object). */
export interface JobManifest {
  readonly format: 1;
  readonly jobs: Readonly<Record<string, Hash>>;
  /** The datum index (JSON lines, as `datums.jsonl`), an object; null when empty. */
  readonly datums: Hash | null;
}

/** The bytes of a job manifest. */
export function encodeManifest(m: JobManifest): Uint8Array {
  return new TextEncoder().encode(canonicalJson(m));
}

/** Decode and check a job manifest read from `remote` (its hash checked already). */
export function decodeManifest(bytes: Uint8Array, remote: string, hash: Hash): JobManifest {
  const bad = () =>
    new IntegrityError(`Remote "${remote}": job manifest ${hash} is damaged`, {
      remote,
      object: hash,
    });
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw bad();
  }
  if (!isObject(v) || v.format !== 1 || !isObject(v.jobs)) throw bad();
  if (v.datums !== null && (typeof v.datums !== "string" || !HEX64.test(v.datums))) throw bad();
  for (const [id, h] of Object.entries(v.jobs)) {
    if (!JOB_ID.test(id) || typeof h !== "string" || !HEX64.test(h)) throw bad();
  }
  return v as unknown as JobManifest;
}
