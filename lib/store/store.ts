/**
 * The store (PFS): a folder holding content-addressed objects, a hash-chained ledger of every
 * change, and the state (repos, branches) the ledger replays to. Writers serialise on a
 * file lock and commit by appending one ledger entry; readers take consistent snapshots
 * without locking. Opening a store recovers whatever a crash left half-done.
 */
import {
  AlreadyExistsError,
  IntegrityError,
  InvalidArgumentError,
  NoStoreError,
  NotFoundError,
} from "../errors.ts";
import {
  checkTreeFrame,
  type Commit,
  decodeCommit,
  decodeTree,
  EMPTY_TREE,
  EMPTY_TREE_BYTES,
  encodeCommit,
  encodeTree,
  findTreeLine,
  spliceTree,
  type TreeEntry,
  treeSize,
  type TreeSplice,
} from "./codec.ts";
import { canonicalJson } from "./codec.ts";
import { type Hash, sha256, sha256Async } from "./hash.ts";
import {
  exists,
  mapWriteError,
  processAlive,
  syncDir,
  writeAll,
  writeFileAtomic,
} from "./fs_util.ts";
import { didYouMean, formatPath, parseRef, type Ref } from "./names.ts";
import { Layout, STORE_DIR, STORE_MARK } from "./layout.ts";
import type { ObjectBatch } from "./batch.ts";
import { ObjectStore } from "./objects.ts";
import {
  applyEntry,
  type Change,
  emptyState,
  GENESIS,
  type LedgerEntry,
  type RepoState,
  type StoreState,
} from "./state.ts";

/** What a store needs from the outside world; tests swap the clock. */
export interface StoreOptions {
  readonly clock?: () => Date;
  /**
   * Trees of at least this many bytes are edited in place (default 64 KiB); tests pass 0 to
   * send every edit of a few names that way.
   */
  readonly spliceMinBytes?: number;
}

/** One edit of a commit's tree. */
export type Edit =
  | {
    readonly op: "put";
    readonly path: readonly string[];
    readonly hash: Hash;
    readonly size: number;
  }
  | { readonly op: "delete"; readonly path: readonly string[] };

/** A commit with its id. */
export interface CommitInfo {
  readonly id: string;
  readonly commit: Commit;
}

/** A resolved reference: the repo, the commit (null for a branch with no commits yet). */
export interface Resolved {
  readonly repo: string;
  readonly branch: string | undefined;
  readonly id: string | null;
  readonly commit: Commit | null;
}

/** A file or folder found at a path in a tree. */
export interface PathEntry {
  readonly path: string;
  readonly kind: "file" | "dir";
  readonly hash: Hash;
  readonly size: number;
}

export { STORE_DIR };

/** A tusk store on disk. */
export class Store {
  readonly root: string;
  /** Where everything lives in the store folder. */
  readonly layout: Layout;
  readonly objects: ObjectStore;
  readonly #clock: () => Date;
  readonly #spliceMinBytes: number;
  readonly #trees = new Map<Hash, TreeEntry[]>();
  readonly #commits = new Map<string, Commit>();

  private constructor(root: string, options: StoreOptions) {
    this.root = root;
    this.layout = new Layout(root);
    this.objects = new ObjectStore(this.layout);
    this.#clock = options.clock ?? (() => new Date());
    this.#spliceMinBytes = options.spliceMinBytes ?? SPLICE_MIN_BYTES;
  }

  /** Create a new, empty store at `dir` (atomically: a crash leaves no half store). */
  static async init(dir: string, options: StoreOptions = {}): Promise<Store> {
    if (await exists(new Layout(dir).mark)) {
      throw new AlreadyExistsError(`A tusk store already exists at "${dir}"`, { path: dir });
    }
    const parent = dir.slice(0, Math.max(dir.lastIndexOf("/"), 0)) || "/";
    await Deno.mkdir(parent, { recursive: true });
    const staging = Layout.staging(dir, Deno.pid);
    const at = new Layout(staging);
    await Deno.remove(staging, { recursive: true }).catch(() => {});
    try {
      for (const sub of at.folders) await Deno.mkdir(sub, { recursive: true });
      await Deno.writeFile(at.ledger, new Uint8Array());
      await Deno.writeTextFile(at.lock, "");
      await Deno.writeTextFile(at.gcLock, "");
      await Deno.writeFile(at.state, await encodeStateFile(emptyState()));
      await Deno.writeTextFile(at.mark, STORE_MARK);
      for (const f of [at.ledger, at.state, at.mark]) {
        const h = await Deno.open(f, { read: true, write: true });
        await h.sync();
        h.close();
      }
      await syncDir(staging);
      try {
        await Deno.rename(staging, dir);
      } catch (err) {
        if (
          err instanceof Deno.errors.AlreadyExists ||
          (err as { code?: string }).code === "ENOTEMPTY"
        ) {
          throw new AlreadyExistsError(
            `Cannot create a store at "${dir}": the folder is not empty`,
            {
              path: dir,
            },
          );
        }
        throw err;
      }
      await syncDir(parent);
    } catch (err) {
      await Deno.remove(staging, { recursive: true }).catch(() => {});
      if (err instanceof AlreadyExistsError) throw err;
      mapWriteError(err, `a new store at "${dir}"`);
    }
    return new Store(dir, options);
  }

  /** Open an existing store folder. */
  static async open(dir: string, options: StoreOptions = {}): Promise<Store> {
    let mark: string;
    try {
      mark = await Deno.readTextFile(new Layout(dir).mark);
    } catch {
      throw new NoStoreError(`No tusk store at "${dir}": run "tusk init" to create one`, {
        path: dir,
      });
    }
    if (mark !== STORE_MARK) {
      throw new NoStoreError(`"${dir}" is not a tusk store this version can read`, { path: dir });
    }
    const store = new Store(dir, options);
    await store.#restoreLayout();
    await store.#cleanTemp();
    return store;
  }

  /**
   * Recreate what a copy of the store may have dropped without losing anything: the folders
   * that can be empty (object stores and some copy tools keep no empty folder) and a ledger
   * that the state file proves was empty. A ledger that held entries cannot be recreated: a
   * store without it fails here, naming it.
   */
  async #restoreLayout(): Promise<void> {
    for (const sub of this.layout.folders) {
      // Present already, or a read-only copy: reading needs none of them, and a write that
      // does fails then with its own message.
      await Deno.mkdir(sub).catch(() => {});
    }
    if (await exists(this.#ledgerPath)) return;
    const state = (await this.stateFile().catch(() => null))?.state;
    if (state?.ledger.size !== 0) {
      throw new IntegrityError(
        `The store's ledger "${this.#ledgerPath}" is missing: the store's history is lost; restore the store from the copy it came from or a backup`,
        { path: this.#ledgerPath },
      );
    }
    await Deno.writeFile(this.#ledgerPath, new Uint8Array(), { createNew: true })
      .catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) mapWriteError(err, "the ledger");
      });
  }

  /** Find the nearest `.tusk` folder from `start` upward, or null. */
  static async find(start: string): Promise<string | null> {
    let dir = start.replace(/\/+$/, "") || "/";
    while (true) {
      const root = Layout.under(dir);
      if (await exists(new Layout(root).mark)) return root;
      if (dir === "/" || dir === "") return null;
      dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    }
  }

  /** The current time from the store's clock. */
  now(): Date {
    return this.#clock();
  }

  get #statePath(): string {
    return this.layout.state;
  }

  get #ledgerPath(): string {
    return this.layout.ledger;
  }

  /**
   * The state file as written: null when there is none, `sealed` false for a file without a
   * checksum (as older versions wrote). A file that does not parse or does not match its
   * checksum is IntegrityError naming the fix. Not checked against the ledger here.
   */
  async stateFile(): Promise<{ state: StoreState; sealed: boolean } | null> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.#statePath);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    const file = await decodeStateFile(bytes);
    if (file === "corrupt" || file === "altered") {
      throw new IntegrityError(
        `The store's state file "${this.#statePath}" ${
          file === "corrupt" ? "is corrupt" : "was altered (it does not match its checksum)"
        }: it is a cache of the ledger, so remove it and tusk rebuilds it from the ledger; run "tusk verify" to check the ledger`,
        { path: this.#statePath, problem: file },
      );
    }
    return file;
  }

  /**
   * A consistent snapshot of the store's state; recovers first if a writer crashed. The
   * state file is checked against its checksum and the ledger's last entry (not by a
   * replay), and refused when either does not match.
   */
  async state(): Promise<StoreState> {
    const file = await this.stateFile();
    if (file?.sealed) {
      const size = (await Deno.stat(this.#ledgerPath)).size;
      if (file.state.ledger.size === size) {
        await this.#checkLedgerEnd(file.state);
        return file.state;
      }
    }
    return await this.transact(async (tx) => {
      return await Promise.resolve(structuredClone(tx.state));
    });
  }

  /**
   * Check that the ledger line ending where the state says the ledger ends is the one the
   * state records (by its hash): the ledger's end was not altered, removed or replaced.
   * Reads only that line.
   */
  async #checkLedgerEnd(state: StoreState): Promise<void> {
    const { seq, hash, size } = state.ledger;
    const line = seq > 0 ? await this.#lineEndingAt(size) : null;
    const matches = seq === 0
      ? size === 0 && hash === GENESIS
      : line !== null && await sha256Async(line) === hash;
    if (!matches) {
      throw new IntegrityError(
        `Ledger entry ${seq} does not match the hash the state file records: the ledger was altered (run "tusk verify")`,
        { seq },
      );
    }
  }

  /** The ledger line (without its newline) whose newline is the byte before `end`, or null. */
  async #lineEndingAt(end: number): Promise<Uint8Array | null> {
    if (end < 2) return null;
    const f = await Deno.open(this.#ledgerPath, { read: true });
    try {
      // Entries are short; a longer one is read again with a doubled window.
      for (let want = 4096;; want *= 2) {
        const from = Math.max(0, end - want);
        const buf = new Uint8Array(end - from);
        await f.seek(from, Deno.SeekMode.Start);
        let off = 0;
        while (off < buf.length) {
          const n = await f.read(buf.subarray(off));
          if (n === null) return null;
          off += n;
        }
        if (buf[buf.length - 1] !== NEWLINE) return null;
        const nl = buf.lastIndexOf(NEWLINE, buf.length - 2);
        if (nl >= 0) return buf.subarray(nl + 1, buf.length - 1);
        if (from === 0) return buf.subarray(0, buf.length - 1);
      }
    } finally {
      f.close();
    }
  }

  async #lock(path: string, exclusive: boolean): Promise<Deno.FsFile> {
    const f = await Deno.open(path, { read: true, write: true, create: true });
    await f.lock(exclusive);
    return f;
  }

  /**
   * Hold the shared ingest lock while `fn` writes objects outside a transaction, so that a
   * concurrent `gc` cannot collect them before they are committed.
   */
  async withIngest<T>(fn: () => Promise<T>): Promise<T> {
    const f = await this.#lock(this.layout.gcLock, false);
    try {
      return await fn();
    } finally {
      f.close();
    }
  }

  /** Hold the exclusive ingest lock (gc): no other process is writing loose objects. */
  async withExclusiveIngest<T>(fn: () => Promise<T>): Promise<T> {
    const f = await this.#lock(this.layout.gcLock, true);
    try {
      return await fn();
    } finally {
      f.close();
    }
  }

  /**
   * Run `fn` as one transaction under the store lock: it sees the latest state, its
   * changes are recorded as one ledger entry, and the state file is rewritten. A crash
   * before the ledger append leaves nothing; after it, recovery finishes the job.
   */
  async transact<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    const lock = await this.#lock(this.layout.lock, true);
    try {
      const state = await this.#recover();
      await this.objects.refresh();
      const tx = new Transaction(this, state, this.#clock().toISOString());
      const result = await fn(tx);
      if (tx.changes.length) {
        await tx.batch.flush();
        await this.#append(state, tx);
      }
      return result;
    } finally {
      lock.close();
    }
  }

  async #append(state: StoreState, tx: Transaction): Promise<void> {
    const before = { ...state.ledger };
    const entry: LedgerEntry = {
      seq: before.seq + 1,
      prev: before.hash,
      time: tx.time,
      changes: tx.changes,
    };
    const line = canonicalJson(entry);
    const bytes = new TextEncoder().encode(line + "\n");
    const f = await Deno.open(this.#ledgerPath, { write: true });
    try {
      try {
        await f.seek(before.size, Deno.SeekMode.Start);
        await writeAll(f, bytes);
        await f.syncData();
      } catch (err) {
        await f.truncate(before.size).catch(() => {});
        mapWriteError(err, "the ledger");
      }
      state.ledger = { seq: entry.seq, hash: sha256(line), size: before.size + bytes.length };
      try {
        await writeFileAtomic(this.#statePath, await encodeStateFile(state), this.layout.tmp);
      } catch (err) {
        await f.truncate(before.size).catch(() => {});
        await f.syncData().catch(() => {});
        state.ledger = before;
        throw err;
      }
    } finally {
      f.close();
    }
  }

  /**
   * Bring the state file up to date with the ledger and clear dead writers' temp files. A
   * missing state file, or one without a checksum, is rebuilt by replaying the whole ledger;
   * a sealed one is checked against the ledger's entry where it says the ledger ends.
   */
  async #recover(): Promise<StoreState> {
    await this.#cleanTemp();
    const file = await this.stateFile();
    const state = file?.sealed ? file.state : emptyState();
    const size = (await Deno.stat(this.#ledgerPath)).size;
    if (size < state.ledger.size) {
      throw new IntegrityError(
        `The ledger is shorter (${size} bytes) than the state records (${state.ledger.size}): run "tusk verify"`,
        { ledgerSize: size, recorded: state.ledger.size },
      );
    }
    await this.#checkLedgerEnd(state);
    if (size === state.ledger.size && file?.sealed) return state;
    const f = await Deno.open(this.#ledgerPath, { read: true, write: true });
    try {
      await f.seek(state.ledger.size, Deno.SeekMode.Start);
      const tail = new Uint8Array(size - state.ledger.size);
      let off = 0;
      while (off < tail.length) {
        const n = await f.read(tail.subarray(off));
        if (n === null) break;
        off += n;
      }
      let pos = 0;
      const dec = new TextDecoder();
      while (pos < tail.length) {
        const nl = tail.indexOf(10, pos);
        if (nl < 0) break;
        const line = dec.decode(tail.subarray(pos, nl));
        const entry = parseEntry(line, state.ledger.seq + 1);
        if (entry.prev !== state.ledger.hash) {
          throw new IntegrityError(
            `Ledger entry ${entry.seq} does not chain to the one before it`,
            {
              seq: entry.seq,
            },
          );
        }
        applyEntry(state, entry);
        state.ledger = {
          seq: entry.seq,
          hash: sha256(line),
          size: state.ledger.size + (nl - pos) + 1,
        };
        pos = nl + 1;
      }
      if (state.ledger.size < size) {
        await f.truncate(state.ledger.size);
        await f.syncData();
      }
    } finally {
      f.close();
    }
    await writeFileAtomic(this.#statePath, await encodeStateFile(state), this.layout.tmp);
    return state;
  }

  async #cleanTemp(): Promise<void> {
    const tmp = this.layout.tmp;
    try {
      for await (const e of Deno.readDir(tmp)) {
        const pid = Number(e.name.split(".")[0]);
        if (!Number.isInteger(pid) || !processAlive(pid)) {
          await Deno.remove(`${tmp}/${e.name}`, { recursive: true }).catch(() => {});
        }
      }
    } catch (err) {
      // A read-only copy without its empty tmp/ holds no temp files to clean.
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
  }

  /** Every ledger entry, checked for chaining, with each line's hash. */
  async *ledger(): AsyncGenerator<{ entry: LedgerEntry; hash: Hash; line: string }> {
    const text = await Deno.readTextFile(this.#ledgerPath);
    let prev = GENESIS;
    let seq = 0;
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) {
        throw new IntegrityError(`Ledger entry ${seq + 1} is incomplete`, { seq: seq + 1 });
      }
      const line = text.slice(pos, nl);
      const entry = parseEntry(line, seq + 1);
      if (entry.prev !== prev) {
        throw new IntegrityError(
          `Ledger entry ${entry.seq} is broken: it does not chain to entry ${seq} (an entry was altered)`,
          { seq: entry.seq },
        );
      }
      const hash = sha256(line);
      yield { entry, hash, line };
      prev = hash;
      seq = entry.seq;
      pos = nl + 1;
    }
  }

  // ---- reading ----

  /** The state of repo `name`, or NotFoundError with a suggestion. */
  repoOf(state: StoreState, name: string): RepoState {
    const repo = state.repos[name];
    if (!repo) {
      throw new NotFoundError(
        `Cannot find repo "${name}"${didYouMean(name, Object.keys(state.repos))}`,
        { repo: name },
      );
    }
    return repo;
  }

  /** Read and decode a commit (verifying its id). */
  async readCommit(id: string): Promise<Commit> {
    const cached = this.#commits.get(id);
    if (cached) return cached;
    let bytes: Uint8Array;
    try {
      bytes = await this.objects.read(id);
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
    const cached = this.#trees.get(hash);
    if (cached) return cached;
    if (hash === EMPTY_TREE) return [];
    const bytes = batch?.pending(hash) ?? await this.objects.read(hash);
    const entries = decodeTree(bytes, hash);
    this.#trees.set(hash, entries);
    return entries;
  }

  /** Resolve `repo@ref` (branch, commit id or unique prefix, with ancestry) in `state`. */
  async resolve(state: StoreState, ref: Ref | string): Promise<Resolved> {
    const r = typeof ref === "string" ? parseRef(ref) : ref;
    const repo = this.repoOf(state, r.repo);
    let id: string | null;
    let branch: string | undefined;
    const b = repo.branches[r.ref];
    if (b) {
      branch = r.ref;
      id = b.head;
    } else {
      id = await this.#findCommitId(repo, r.ref, r.repo);
    }
    for (let i = 0; i < r.ancestry; i++) {
      if (id === null) break;
      const c = await this.readCommit(id);
      id = c.parent;
      if (id === null) {
        throw new NotFoundError(
          `Commit ${r.repo}@${r.ref}${"^".repeat(1)}${
            r.ancestry > 1 ? r.ancestry : ""
          } does not exist: the history is only ${i + 1} commit(s) deep`,
          { repo: r.repo, ref: r.ref, ancestry: r.ancestry },
        );
      }
    }
    return { repo: r.repo, branch, id, commit: id === null ? null : await this.readCommit(id) };
  }

  async #findCommitId(
    repo: RepoState,
    text: string,
    repoName: string,
  ): Promise<string> {
    const notFound = (): never => {
      throw new NotFoundError(
        `Cannot find branch or commit "${text}" in repo "${repoName}"${
          didYouMean(text, Object.keys(repo.branches))
        }`,
        { repo: repoName, ref: text },
      );
    };
    if (!/^[0-9a-f]{4,64}$/.test(text)) notFound();
    if (text.length === 64) {
      const c = await this.readCommit(text).catch((err) => {
        if (err instanceof NotFoundError) return null;
        throw err;
      });
      if (c?.repo === repoName) return text;
      notFound();
    }
    const matches = new Set<string>();
    for await (const { entry } of this.ledgerSince(repo.createdSeq)) {
      for (const c of entry.changes) {
        if (c.type === "commit" && c.repo === repoName && c.commit.startsWith(text)) {
          matches.add(c.commit);
        }
      }
    }
    if (matches.size === 0) notFound();
    if (matches.size > 1) {
      throw new InvalidArgumentError(
        `Commit prefix "${text}" is ambiguous in repo "${repoName}": give more characters`,
        { repo: repoName, ref: text },
      );
    }
    return [...matches][0]!;
  }

  /** Ledger entries with seq ≥ `seq` (no chain check; for lookups). */
  async *ledgerSince(seq: number): AsyncGenerator<{ entry: LedgerEntry }> {
    const text = await Deno.readTextFile(this.#ledgerPath);
    let pos = 0;
    while (pos < text.length) {
      const nl = text.indexOf("\n", pos);
      if (nl < 0) break;
      const entry = JSON.parse(text.slice(pos, nl)) as LedgerEntry;
      pos = nl + 1;
      if (entry.seq >= seq) yield { entry };
    }
  }

  /** The entry at `segments` in the tree `root` (the root itself for no segments), or null. */
  async lookup(root: Hash, segments: readonly string[]): Promise<PathEntry | null> {
    let entry: PathEntry = { path: "/", kind: "dir", hash: root, size: -1 };
    for (let i = 0; i < segments.length; i++) {
      if (entry.kind !== "dir") return null;
      const found = (await this.readTree(entry.hash)).find((e) => e.name === segments[i]);
      if (!found) return null;
      entry = {
        path: formatPath(segments.slice(0, i + 1)),
        kind: found.kind,
        hash: found.hash,
        size: found.size,
      };
    }
    if (entry.size < 0) {
      const entries = await this.readTree(root);
      entry = { ...entry, size: entries.reduce((s, e) => s + e.size, 0) };
    }
    return entry;
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

  // ---- tree editing ----

  /** Apply `edits` to the tree `root`; new trees go to `batch`. Returns the new root. */
  async editTree(
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
      const bytes = pending ?? (this.#trees.has(hash) ? null : await this.objects.read(hash));
      // Read from the store, the bytes were checked against their hash: a damaged tree is
      // refused, not spliced into a new one.
      if (bytes && bytes.length >= this.#spliceMinBytes) {
        return await this.#spliceDir(hash, bytes, groups, prefix, batch);
      }
      // A small tree just read: decoded here rather than read again.
      if (bytes) this.#trees.set(hash, read = decodeTree(bytes, hash));
    }
    const entries = new Map<string, TreeEntry>();
    if (hash !== null) {
      for (const e of read ?? await this.readTree(hash, batch)) entries.set(e.name, e);
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

/** Trees at least this large (by default), with at most `SPLICE_MAX_NAMES` names edited, are spliced. */
const SPLICE_MIN_BYTES = 64 << 10;
const SPLICE_MAX_NAMES = 64;
const NEWLINE = 10;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A transaction in progress: the state as of the lock, pending objects and changes. */
export class Transaction {
  readonly store: Store;
  readonly state: StoreState;
  /** ISO time of the transaction (all its commits and its ledger entry). */
  readonly time: string;
  readonly batch: ObjectBatch;
  readonly changes: Change[] = [];

  constructor(store: Store, state: StoreState, time: string) {
    this.store = store;
    this.state = state;
    this.time = time;
    this.batch = store.objects.batch();
  }

  /** Record a change and apply it to this transaction's state. */
  change(c: Change): void {
    this.changes.push(c);
    applyEntry(this.state, {
      seq: this.state.ledger.seq + 1,
      prev: this.state.ledger.hash,
      time: this.time,
      changes: [c],
    });
  }

  /** Write a commit object and move `branch` to it (creating the branch if needed). */
  async commit(
    repoName: string,
    branch: string,
    make: (parent: CommitInfo | null) => Promise<{ tree: Hash; size: number }>,
    meta: Pick<Commit, "message" | "origin"> & Partial<Pick<Commit, "revertOf" | "provenance">>,
  ): Promise<CommitInfo> {
    const repo = this.store.repoOf(this.state, repoName);
    const head = repo.branches[branch]?.head ?? null;
    const parent = head === null ? null : { id: head, commit: await this.store.readCommit(head) };
    const { tree, size } = await make(parent);
    const commit: Commit = {
      repo: repoName,
      parent: head,
      tree,
      size,
      time: this.time,
      message: meta.message,
      branch,
      origin: meta.origin,
      ...(meta.revertOf ? { revertOf: meta.revertOf } : {}),
      ...(meta.provenance ? { provenance: meta.provenance } : {}),
    };
    const id = await this.batch.add(encodeCommit(commit));
    this.change({ type: "commit", repo: repoName, commit: id });
    this.change({ type: "branch:move", repo: repoName, branch, from: head, to: id });
    return { id, commit };
  }
}

/**
 * `state.json` ends with a checksum of everything before it: `…,"checksum":"<sha256>"}`.
 * The file stays plain JSON; the checksum is taken over its bytes as written, so reading it
 * back costs one hash, not a re-encoding.
 */
const CHECKSUM_FIELD = ',"checksum":"';
const CHECKSUM_TAIL = CHECKSUM_FIELD.length + 64 + 2;

/** The bytes of `state.json` for `state`, sealed with its checksum. */
async function encodeStateFile(state: StoreState): Promise<Uint8Array> {
  const json = JSON.stringify(state);
  const body = json.slice(0, -1);
  return encoder.encode(`${body}${CHECKSUM_FIELD}${await sha256Async(body)}"}`);
}

/**
 * Decode `state.json`: its state, and whether it was sealed by a checksum (a file without
 * one, as older versions wrote, is not); "altered" when a checksum is there and does not
 * match, "corrupt" when it is not a state file at all.
 */
async function decodeStateFile(
  bytes: Uint8Array,
): Promise<{ state: StoreState; sealed: boolean } | "corrupt" | "altered"> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    return "corrupt";
  }
  if (!isStateShape(value)) return "corrupt";
  const record = value as unknown as Record<string, unknown>;
  if (!("checksum" in record)) return { state: value, sealed: false };
  const tail = decoder.decode(bytes.subarray(bytes.length - CHECKSUM_TAIL));
  const sum = tail.slice(CHECKSUM_FIELD.length, -2);
  if (
    !tail.startsWith(CHECKSUM_FIELD) || !tail.endsWith('"}') || sum !== record.checksum ||
    await sha256Async(bytes.subarray(0, bytes.length - CHECKSUM_TAIL)) !== sum
  ) {
    return "altered";
  }
  delete record.checksum;
  return { state: value, sealed: true };
}

/** True when `value` has the shape of a state file; `verify` checks its contents. */
function isStateShape(value: unknown): value is StoreState {
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null;
  if (!isObject(value) || value.version !== 1 || !isObject(value.ledger)) return false;
  const { seq, hash, size } = value.ledger;
  return Number.isSafeInteger(seq) && typeof hash === "string" && Number.isSafeInteger(size) &&
    isObject(value.repos) && isObject(value.meta);
}

function parseEntry(line: string, expectedSeq: number): LedgerEntry {
  let entry: LedgerEntry;
  try {
    entry = JSON.parse(line) as LedgerEntry;
  } catch {
    throw new IntegrityError(`Ledger entry ${expectedSeq} is corrupt: it is not valid JSON`, {
      seq: expectedSeq,
    });
  }
  if (
    typeof entry !== "object" || entry === null || entry.seq !== expectedSeq ||
    typeof entry.prev !== "string" || !Array.isArray(entry.changes)
  ) {
    throw new IntegrityError(`Ledger entry ${expectedSeq} is corrupt: its fields are wrong`, {
      seq: expectedSeq,
    });
  }
  return entry;
}
