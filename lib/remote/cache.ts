/**
 * What a store knows of one remote (`.tusk/remotes/<name>/`): the last log entry it read and
 * checked (so the next run reads only the entries after it, and notices a log that was cut
 * back), and copies of the remote's pack indexes, each named by its
 * SHA-256 and checked against it when read. A cache: removing it costs a re-read, nothing
 * else; a damaged part is read again from the remote.
 */
import { writeFileAtomic } from "../store/fs_util.ts";
import { type Hash, sha256Async } from "../store/hash.ts";
import type { Layout } from "../store/layout.ts";
import type { RemotePack } from "./remote_format.ts";

/** The last log entry a store read from a remote, and what the log had added up to it. */
export interface Seen {
  readonly url: string;
  readonly seq: number;
  readonly hash: Hash;
  readonly packs: readonly RemotePack[];
  readonly objects: readonly Hash[];
  /** Pipeline → the job manifest whose jobs this store has taken in. */
  readonly jobs: Readonly<Record<string, Hash>>;
}

/** What a pull or clone saw of the remote at `url`: its `view` and the jobs it took in. */
export function seenOf(
  url: string,
  view: Pick<Seen, "seq" | "hash" | "packs" | "objects">,
  jobs: Seen["jobs"],
): Seen {
  return { url, seq: view.seq, hash: view.hash, packs: view.packs, objects: view.objects, jobs };
}

/** The cache of one remote in one store. */
export class RemoteCache {
  readonly #dir: string;
  readonly #tmp: string;

  constructor(layout: Layout, name: string) {
    this.#dir = layout.remoteCache(name);
    this.#tmp = layout.tmp;
  }

  /** What was seen of the remote at `url`, or null (none, another URL, or unreadable). */
  async seen(url: string): Promise<Seen | null> {
    try {
      const v = JSON.parse(await Deno.readTextFile(`${this.#dir}/seen.json`)) as Seen;
      if (
        v.url !== url || !Number.isSafeInteger(v.seq) || typeof v.hash !== "string" ||
        !Array.isArray(v.packs) || !Array.isArray(v.objects)
      ) return null;
      return { ...v, jobs: v.jobs ?? {} };
    } catch {
      return null;
    }
  }

  /** Record what was seen, with the indexes and manifests read on the way. */
  async saveSeen(seen: Seen): Promise<void> {
    await this.#flush();
    await Deno.mkdir(this.#dir, { recursive: true });
    await writeFileAtomic(
      `${this.#dir}/seen.json`,
      new TextEncoder().encode(JSON.stringify(seen)),
      this.#tmp,
    );
  }

  /**
   * Record what was seen, with the files kept, into a store folder being made: plain
   * synchronous writes, no temp files, no fsync. A crash may leave any of them missing,
   * empty or cut short, which reads as no cache (`seen()`) or a file to fetch again (`get()`).
   */
  saveSeenUnsynced(seen: Seen): void {
    const kinds = new Set([...this.#pending.keys()].map((n) => n.slice(0, n.indexOf("/"))));
    Deno.mkdirSync(this.#dir, { recursive: true });
    for (const k of kinds) Deno.mkdirSync(`${this.#dir}/${k}`);
    Deno.writeFileSync(`${this.#dir}/seen.json`, new TextEncoder().encode(JSON.stringify(seen)));
    for (const [name, bytes] of this.#pending) Deno.writeFileSync(`${this.#dir}/${name}`, bytes);
    this.#pending.clear();
  }

  /** Files read from the remote in this run, kept once it succeeds (a refused run writes nothing). */
  readonly #pending = new Map<string, Uint8Array>();

  /** A cached file of `kind` named by its hash, checked against it; null when absent or bad. */
  async get(kind: "idx" | "manifests", hash: Hash): Promise<Uint8Array | null> {
    const pending = this.#pending.get(`${kind}/${hash}`);
    if (pending) return pending;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${this.#dir}/${kind}/${hash}`);
    } catch {
      return null;
    }
    return (await sha256Async(bytes)) === hash ? bytes : null;
  }

  /** Keep a file of `kind` named by its hash (written when the run succeeds). */
  put(kind: "idx" | "manifests", hash: Hash, bytes: Uint8Array): void {
    this.#pending.set(`${kind}/${hash}`, bytes);
  }

  /** Write what was kept (best effort: it is only a cache). */
  async #flush(): Promise<void> {
    await Promise.all([...this.#pending].map(async ([name, bytes]) => {
      try {
        const kind = name.slice(0, name.indexOf("/"));
        await Deno.mkdir(`${this.#dir}/${kind}`, { recursive: true });
        await writeFileAtomic(`${this.#dir}/${name}`, bytes, this.#tmp);
      } catch {
        // A cache that cannot be written is read again from the remote next time.
      }
    }));
    this.#pending.clear();
  }
}
