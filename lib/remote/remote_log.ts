/**
 * Reading a remote's log and checking it: every entry a run takes is chained to the one
 * before it (by hash) back to what this store saw last, or to the start; a log with a gap, an
 * entry altered, or a log shorter than what this store (or the `HEAD` hint) saw before is
 * refused, naming the entry. What comes out is the remote's head record and every pack and
 * object the log added up to it.
 */
import { IntegrityError, RemoteError } from "../errors.ts";
import { type Hash, sha256Native } from "../store/hash.ts";
import type { RemoteBackend } from "./backend.ts";
import type { RemoteCache, Seen } from "./cache.ts";
import {
  decodeEntry,
  decodeHead,
  KEYS,
  REMOTE_GENESIS,
  REMOTE_MARK,
  type RemoteEntry,
  type RemotePack,
} from "./remote_format.ts";

/** A remote as its log says it is now. */
export interface RemoteView {
  /** The last entry (the head record), or null for a remote nothing was pushed to yet. */
  readonly head: RemoteEntry | null;
  readonly seq: number;
  readonly hash: Hash;
  /** Every pack and large object the log added, and the entry that added each. */
  readonly packs: readonly RemotePack[];
  readonly objects: readonly Hash[];
  readonly addedBy: ReadonlyMap<Hash, number>;
  /** What this store saw of it before this run (null the first time). */
  readonly seen: Seen | null;
  /** True when the remote holds no mark yet (nothing was ever pushed). */
  readonly unmarked: boolean;
}

/** Fetch up to `width` keys at once. */
async function mapLimit<T, R>(items: readonly T[], width: number, f: (t: T) => Promise<R>) {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!);
      }
    }),
  );
  return out;
}

/** How many times a read starts again when the log grew while it was listed. */
const GREW_RETRIES = 5;

/** Read and check the log of the remote `name` (on `backend`), from what `cache` saw. */
export async function readRemote(
  backend: RemoteBackend,
  cache: RemoteCache,
  options: { fromStart?: boolean } = {},
): Promise<RemoteView> {
  for (let attempt = 1;; attempt++) {
    try {
      return await readRemoteOnce(backend, cache, options);
    } catch (err) {
      if (!(err instanceof LogGrew) || attempt >= GREW_RETRIES) {
        throw err instanceof LogGrew ? err.cause : err;
      }
    }
  }
}

/**
 * The HEAD hint named an entry the listing did not hold, and the entry is there now: another
 * push appended to the log between the listing and the hint, so the read starts again.
 */
class LogGrew extends Error {
  constructor(override readonly cause: IntegrityError) {
    super(cause.message);
  }
}

async function readRemoteOnce(
  backend: RemoteBackend,
  cache: RemoteCache,
  options: { fromStart?: boolean },
): Promise<RemoteView> {
  const url = backend.url;
  const seen = options.fromStart ? null : await cache.seen(url);
  const keys = await backend.list(KEYS.log);
  const seqs: number[] = [];
  for (const k of keys) {
    const m = /^log\/(\d{12})$/.exec(k.key);
    if (m) seqs.push(Number(m[1]));
  }
  seqs.sort((a, b) => a - b);
  const last = seqs.at(-1) ?? 0;
  let unmarked = false;
  if (!seen) {
    // First contact: the mark says it is a tusk remote (or it is empty).
    let mark = await backend.get(KEYS.mark);
    // Files but no mark: a first push may have begun since the mark was looked for. It writes
    // the mark before anything else, so a mark that is there now was there before those files.
    if (mark === null && (last > 0 || (await backend.list("")).length > 0)) {
      mark = await backend.get(KEYS.mark);
      if (mark === null) {
        throw new RemoteError(
          `"${url}" is not a tusk remote: it holds files but no tusk mark (REMOTE); give an ` +
            "empty folder or prefix, or the URL of a store's remote",
          { remote: url, problem: "not-a-remote" },
        );
      }
    }
    if (mark === null) unmarked = true;
    else if (new TextDecoder().decode(mark) !== REMOTE_MARK) {
      throw new RemoteError(
        `"${url}" is not a remote this version of tusk can read (its mark is not "tusk-remote 1")`,
        { remote: url, problem: "not-a-remote" },
      );
    }
  }
  for (let i = 0; i < seqs.length; i++) {
    if (seqs[i] !== i + 1) {
      throw new IntegrityError(
        `Remote "${url}": log entry ${
          i + 1
        } is missing (the log goes on to entry ${last}); nothing was changed here`,
        { remote: url, entry: i + 1, problem: "missing-entry" },
      );
    }
  }
  if (seen && last < seen.seq) {
    throw new IntegrityError(
      `Remote "${url}": its log ends at entry ${last}, but this store read entry ${seen.seq} ` +
        `(${
          seen.hash.slice(0, 12)
        }) from it before: the log was truncated or rolled back; nothing was changed here`,
      { remote: url, entry: seen.seq, problem: "truncated" },
    );
  }
  {
    // The HEAD hint is written after each entry: one beyond the log means entries were cut.
    const hint = await backend.get(KEYS.head);
    const h = hint ? decodeHead(hint) : null;
    if (h && h.seq > last) {
      const truncated = new IntegrityError(
        `Remote "${url}": log entry ${h.seq} is missing (its HEAD names it, but the log ends at entry ${last}): the log was truncated; nothing was changed here`,
        { remote: url, entry: h.seq, problem: "truncated" },
      );
      if ((await backend.get(KEYS.entry(h.seq))) !== null) throw new LogGrew(truncated);
      throw truncated;
    }
  }
  // Entries to read: from the one after what was seen (the last seen one again, to check
  // it was not replaced), or all of them.
  const from = seen ? Math.max(seen.seq, 1) : 1;
  const wanted = last >= from ? Array.from({ length: last - from + 1 }, (_, i) => from + i) : [];
  const bodies = await mapLimit(wanted, 8, async (seq) => {
    const bytes = await backend.get(KEYS.entry(seq));
    if (bytes === null) {
      throw new IntegrityError(
        `Remote "${url}": log entry ${seq} is missing; nothing was changed here`,
        { remote: url, entry: seq, problem: "missing-entry" },
      );
    }
    return { seq, bytes, hash: await sha256Native(bytes) };
  });
  let prev = seen && seen.seq > 0 ? seen.hash : REMOTE_GENESIS;
  let head: RemoteEntry | null = null;
  const packs: RemotePack[] = [...(seen?.packs ?? [])];
  const objects: Hash[] = [...(seen?.objects ?? [])];
  const decoded: RemoteEntry[] = [];
  for (const b of bodies) {
    const entry = decodeEntry(b.bytes, b.seq, url);
    decoded.push(entry);
    if (seen && b.seq === seen.seq) {
      if (b.hash !== seen.hash) {
        throw new IntegrityError(
          `Remote "${url}": log entry ${b.seq} was altered since this store read it (its hash ` +
            `was ${seen.hash.slice(0, 12)}, it is ${
              b.hash.slice(0, 12)
            }); nothing was changed here`,
          { remote: url, entry: b.seq, problem: "altered" },
        );
      }
    } else {
      if (entry.prev !== prev) {
        throw new IntegrityError(
          `Remote "${url}": log entry ${b.seq} does not chain to entry ${b.seq - 1} (an entry ` +
            "was altered or replaced); nothing was changed here",
          { remote: url, entry: b.seq, problem: "broken-chain" },
        );
      }
      packs.push(...entry.packs);
      objects.push(...entry.objects);
    }
    prev = b.hash;
    head = entry;
  }
  const addedBy = new Map<Hash, number>();
  // Where each pack and object came from, for messages.
  for (const e of decoded) {
    for (const p of e.packs) addedBy.set(p.name, e.seq);
    for (const o of e.objects) addedBy.set(o, e.seq);
  }
  return {
    head,
    seq: last,
    hash: last ? prev : REMOTE_GENESIS,
    packs,
    objects,
    addedBy,
    seen,
    unmarked,
  };
}
