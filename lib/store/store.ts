/**
 * The store (PFS): a folder holding content-addressed objects, a hash-chained ledger of every
 * change, and the state (repos, branches) the ledger replays to. Writers serialise on a
 * file lock and commit by appending one ledger entry; readers take consistent snapshots
 * without locking. Opening a store recovers whatever a crash left half-done.
 *
 * `Store` is the face of the folder's parts: `layout.ts` names every path, `objects.ts`
 * holds the objects (loose and packed), `ledger.ts` the ledger and the state file,
 * `reader.ts` decodes commits and trees, `writer.ts` runs transactions (`transaction.ts`) and
 * tree edits (`tree_edit.ts`) under the store's locks, `refs.ts` resolves references and
 * `folder.ts` creates, finds and tidies the folder.
 *
 * @example
 * ```ts
 * const store = await Store.open("/data/.tusk");
 * const state = await store.state();
 * const head = await store.resolve(state, "training@master");
 * for await (const file of store.walk(head.commit!.tree, [])) console.log(file.path);
 * ```
 */
import type { ObjectBatch } from "./batch.ts";
import type { Commit, TreeEntry } from "./codec.ts";
import type { FanoutChunk } from "./fanout_codec.ts";
import { checkEntries, checkMark, cleanTemp, createFolder, findFolder } from "./folder.ts";
import type { Hash } from "./hash.ts";
import { Layout, STORE_DIR } from "./layout.ts";
import { Ledger } from "./ledger.ts";
import type { Ref } from "./names.ts";
import { ObjectStore } from "./objects.ts";
import { type CommitInfo, type PathEntry, Reader } from "./reader.ts";
import { repoOf, type Resolved, resolveRef } from "./refs.ts";
import { emptyState, type LedgerEntry, type RepoState, type StoreState } from "./state.ts";
import { encodeStateFile } from "./state_file.ts";
import type { Edit } from "./tree_edit.ts";
import type { Transaction } from "./transaction.ts";
import { Writer } from "./writer.ts";

export { STORE_DIR };
export type { CommitInfo, Edit, PathEntry, Resolved, Transaction };

/** What a store needs from the outside world; tests swap the clock. */
export interface StoreOptions {
  readonly clock?: () => Date;
  /**
   * Trees of at least this many bytes are edited in place (default 64 KiB); tests pass 0 to
   * send every edit of a few names that way.
   */
  readonly spliceMinBytes?: number;
}

/** A tusk store on disk. */
export class Store {
  readonly root: string;
  /** Where everything lives in the store folder. */
  readonly layout: Layout;
  readonly objects: ObjectStore;
  readonly #clock: () => Date;
  readonly #ledger: Ledger;
  readonly #reader: Reader;
  readonly #writer: Writer;

  private constructor(root: string, options: StoreOptions) {
    this.root = root;
    this.layout = new Layout(root);
    this.objects = new ObjectStore(this.layout);
    this.#clock = options.clock ?? (() => new Date());
    this.#ledger = new Ledger(this.layout);
    this.#reader = new Reader(this.objects);
    this.#writer = new Writer({
      layout: this.layout,
      objects: this.objects,
      ledger: this.#ledger,
      reader: this.#reader,
      clock: this.#clock,
      spliceMinBytes: options.spliceMinBytes,
    });
  }

  /** Create a new, empty store at `dir` (atomically: a crash leaves no half store). */
  static async init(dir: string, options: StoreOptions = {}): Promise<Store> {
    await createFolder(dir, await encodeStateFile(emptyState()));
    return new Store(dir, options);
  }

  /**
   * Open an existing store folder. What a copy of the store may have dropped without losing
   * anything (its empty folders, a ledger the state file proves was empty) is recreated,
   * dead writers' temp files are removed, and a fixed entry of the wrong kind (a folder
   * where the ledger belongs) is IntegrityError naming it, or replaced when it is empty and
   * tusk makes it again on demand (see `checkEntries()`).
   */
  static async open(dir: string, options: StoreOptions = {}): Promise<Store> {
    checkMark(dir);
    const store = new Store(dir, options);
    await checkEntries(store.layout);
    await store.#ledger.restore();
    await cleanTemp(store.layout);
    return store;
  }

  /** Find the nearest `.tusk` folder from `start` upward, or null. */
  static async find(start: string): Promise<string | null> {
    return await findFolder(start);
  }

  /** The current time from the store's clock. */
  now(): Date {
    return this.#clock();
  }

  /**
   * The state file as written: null when there is none, `sealed` false for a file without a
   * checksum (as older versions wrote). A file that does not parse or does not match its
   * checksum is IntegrityError naming the fix. Not checked against the ledger here.
   */
  async stateFile(): Promise<{ state: StoreState; sealed: boolean } | null> {
    return await this.#ledger.stateFile();
  }

  /**
   * A consistent snapshot of the store's state; recovers first if a writer crashed. The
   * state file is checked against its checksum and the ledger's last entry (not by a
   * replay), and refused when either does not match.
   */
  async state(): Promise<StoreState> {
    return await this.#ledger.current() ?? await this.transact(async (tx) => {
      return await Promise.resolve(structuredClone(tx.state));
    });
  }

  /**
   * The state as the last transaction this process made on the store left it, as of its
   * ledger entry (undefined before one): what a command knows of its own commit without
   * reading the state again. Read-only; later changes by other processes are not in it.
   */
  committed(): Readonly<StoreState> | undefined {
    return this.#writer.committed;
  }

  /**
   * Hold the shared ingest lock while `fn` writes objects outside a transaction, so that a
   * concurrent `gc` cannot collect them before they are committed.
   */
  async withIngest<T>(fn: () => Promise<T>): Promise<T> {
    return await this.#writer.withIngest(fn);
  }

  /** Hold the exclusive ingest lock (gc): no other process is writing loose objects. */
  async withExclusiveIngest<T>(fn: () => Promise<T>): Promise<T> {
    return await this.#writer.withExclusiveIngest(fn);
  }

  /**
   * Run `fn` as one transaction under the store lock: it sees the latest state, its
   * changes are recorded as one ledger entry, and the state file is rewritten. A crash
   * before the ledger append leaves nothing; after it, recovery finishes the job. With
   * `batch`, the transaction's objects join the ones already in it (small files a put
   * hashed before taking the lock), and all are written together before the ledger entry,
   * their fsyncs overlapping.
   */
  async transact<T>(
    fn: (tx: Transaction) => Promise<T>,
    options: { readonly batch?: ObjectBatch } = {},
  ): Promise<T> {
    return await this.#writer.transact(fn, options.batch);
  }

  /** Every ledger entry, checked for chaining, with each line's hash. */
  ledger(): AsyncGenerator<{ entry: LedgerEntry; hash: Hash; line: string }> {
    return this.#ledger.entries();
  }

  /** Ledger entries with seq ≥ `seq` (no chain check; for lookups). */
  ledgerSince(seq: number): AsyncGenerator<{ entry: LedgerEntry }> {
    return this.#ledger.since(seq);
  }

  /** Ledger entries with seq ≥ `seq` whose line holds `text` (no chain check; for id prefixes). */
  ledgerHolding(text: string, seq: number): AsyncGenerator<{ entry: LedgerEntry }> {
    return this.#ledger.holding(text, seq);
  }

  /** The state of repo `name`, or NotFoundError with a suggestion. */
  repoOf(state: StoreState, name: string): RepoState {
    return repoOf(state, name);
  }

  /** Resolve `repo@ref` (branch, commit id or unique prefix, with ancestry) in `state`. */
  async resolve(state: StoreState, ref: Ref | string): Promise<Resolved> {
    return await resolveRef(this, state, ref);
  }

  /** Read and decode a commit (verifying its id). */
  async readCommit(id: string): Promise<Commit> {
    return await this.#reader.readCommit(id);
  }

  /** Read and decode a tree (pending objects of `batch` first). */
  async readTree(hash: Hash, batch?: ObjectBatch): Promise<TreeEntry[]> {
    return await this.#reader.readTree(hash, batch);
  }

  /**
   * The chunks of the tree `hash` when it is a large folder's fanout, no chunk read; null for
   * a plain tree (see `Reader.fanoutOf`).
   */
  async fanoutOf(hash: Hash): Promise<readonly FanoutChunk[] | null> {
    return await this.#reader.fanoutOf(hash);
  }

  /** The entries of chunk `index` of the fanout `hash`, read and checked against its line. */
  async chunkEntries(hash: Hash, index: number): Promise<TreeEntry[]> {
    return await this.#reader.chunkEntries(hash, index);
  }

  /**
   * A tree read for a walk that visits each tree once (`verify`, `gc`): its entries and a large
   * folder's chunk trees, read and checked, not kept in the cache (see `Reader.readTreeOnce`).
   */
  async readTreeOnce(hash: Hash): Promise<{ entries: TreeEntry[]; chunks: Hash[] }> {
    return await this.#reader.readTreeOnce(hash);
  }

  /** The entry at `segments` in the tree `root` (the root itself for no segments), or null. */
  async lookup(root: Hash, segments: readonly string[]): Promise<PathEntry | null> {
    return await this.#reader.lookup(root, segments);
  }

  /**
   * Every file under the folder `dir` of a tree, depth first in name order. The walk keeps
   * its own stack, so a tree of any depth is walked without exhausting the call stack.
   */
  walk(dirHash: Hash, prefix: readonly string[]): AsyncGenerator<PathEntry> {
    return this.#reader.walk(dirHash, prefix);
  }

  /** The commits of a branch or from a commit back to the first, newest first. */
  history(id: string | null): AsyncGenerator<CommitInfo> {
    return this.#reader.history(id);
  }

  /** Apply `edits` to the tree `root`; new trees go to `batch`. Returns the new root. */
  async editTree(
    root: Hash,
    edits: readonly Edit[],
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number }> {
    return await this.#writer.editTree(root, edits, batch);
  }
}
