/**
 * The write side of a store: the store lock and its transactions, the ingest lock (`gc.lock`)
 * that keeps gc from collecting objects written ahead of their commit, tree edits, and the
 * merge of small packs after a write. Its heavier modules (`transaction.ts`, `tree_edit.ts`)
 * load on the first write, so commands that only read never load them.
 */
import type { ObjectBatch } from "./batch.ts";
import { cleanTemp } from "./folder.ts";
import { lockFile } from "./fs_util.ts";
import type { Hash } from "./hash.ts";
import type { Layout } from "./layout.ts";
import type { Ledger } from "./ledger.ts";
import type { ObjectStore } from "./objects.ts";
import type { Reader } from "./reader.ts";
import type { StoreState } from "./state.ts";
import type { Edit, TreeEditor } from "./tree_edit.ts";
import type { Transaction } from "./transaction.ts";

/**
 * Load a module of the write path when first needed. The URL keeps Deno from loading it
 * ahead with this file, as it does a literal `import("./x.ts")`: commands that only read
 * never load it.
 */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}

let writeModules:
  | Promise<[typeof import("./transaction.ts"), typeof import("./tree_edit.ts")]>
  | undefined;

/**
 * The write path's modules, transactions and the tree editor, loaded together on the first
 * write rather than one after the other.
 */
function writePath(): Promise<
  [typeof import("./transaction.ts"), typeof import("./tree_edit.ts")]
> {
  return writeModules ??= Promise.all([
    load<typeof import("./transaction.ts")>("./transaction.ts"),
    load<typeof import("./tree_edit.ts")>("./tree_edit.ts"),
  ]);
}

/** The parts of a store its writes go through, and how they are tuned. */
export interface WriterParts {
  readonly layout: Layout;
  readonly objects: ObjectStore;
  readonly ledger: Ledger;
  readonly reader: Reader;
  readonly clock: () => Date;
  /** Trees of at least this many bytes are edited in place (see `TreeEditor`). */
  readonly spliceMinBytes: number | undefined;
}

/** The write side of one store (see the module comment). */
export class Writer {
  readonly #parts: WriterParts;
  /** How many `withIngest` calls of this process are running. */
  #ingesting = 0;
  /** The state as this process's last transaction left it. */
  #committed: StoreState | undefined;
  /** Made on the first tree edit: reading commands never load the editor. */
  #editor: TreeEditor | undefined;

  constructor(parts: WriterParts) {
    this.#parts = parts;
  }

  /** The state as the last transaction this process made left it (see `Store.committed`). */
  get committed(): Readonly<StoreState> | undefined {
    return this.#committed;
  }

  /** Hold the shared ingest lock while `fn` writes objects outside a transaction. */
  async withIngest<T>(fn: () => Promise<T>): Promise<T> {
    const f = await lockFile(this.#parts.layout.gcLock, false);
    this.#ingesting++;
    try {
      return await fn();
    } finally {
      this.#ingesting--;
      f.close();
      if (this.#ingesting === 0) await this.#mergePacks();
    }
  }

  /**
   * Merge small packs when this process wrote a pack and the store now holds too many
   * (`Packs.consolidate`): at the end of a write, amortised (a merge of ~32 small packs
   * comes once every ~16 pack writes or more). It needs `gc.lock` exclusively, as gc does,
   * since it removes packs: no writer is then between writing objects and committing
   * them, and no gc or verify is listing packs. It only tries the lock: while a job or
   * another put holds it, the merge is left to a later write. Best effort: the command's
   * own work is done, so a merge that fails (a full disk) leaves the packs as they were
   * and the command succeeds.
   */
  async #mergePacks(): Promise<void> {
    const { layout, objects } = this.#parts;
    if (this.#ingesting > 0 || !objects.takePackWritten()) return;
    let f: Deno.FsFile | undefined;
    try {
      f = await Deno.open(layout.gcLock, { read: true, write: true, create: true });
      if (!await f.tryLock(true)) return;
      await objects.consolidate();
    } catch {
      // Left to a later write; the packs are whole whatever step failed.
    } finally {
      f?.close();
    }
  }

  /** Hold the exclusive ingest lock (gc): no other process is writing loose objects. */
  async withExclusiveIngest<T>(fn: () => Promise<T>): Promise<T> {
    const f = await lockFile(this.#parts.layout.gcLock, true);
    try {
      return await fn();
    } finally {
      f.close();
    }
  }

  /** Run `fn` as one transaction under the store lock (see `Store.transact`). */
  async transact<T>(
    fn: (tx: Transaction) => Promise<T>,
    batch: ObjectBatch | undefined,
  ): Promise<T> {
    const { layout, objects, ledger, reader, clock } = this.#parts;
    // Loading starts now and runs while the lock is taken and the ledger read.
    const modules = writePath();
    const lock = await lockFile(layout.lock, true);
    let locked = true;
    try {
      await cleanTemp(layout);
      const state = await ledger.recover();
      await objects.refresh();
      const [{ Transaction }] = await modules;
      const tx = new Transaction(state, clock().toISOString(), {
        batch: batch ?? objects.batch(),
        readCommit: (id) => reader.readCommit(id),
      });
      const result = await fn(tx);
      if (tx.changes.length || batch) {
        await tx.batch.flush();
      }
      if (tx.changes.length) {
        await ledger.append(state, tx.time, tx.changes);
        this.#committed = state;
      }
      lock.close();
      locked = false;
      await this.#mergePacks();
      return result;
    } finally {
      if (locked) lock.close();
    }
  }

  /** Apply `edits` to the tree `root`; new trees go to `batch`. Returns the new root. */
  async editTree(
    root: Hash,
    edits: readonly Edit[],
    batch: ObjectBatch,
  ): Promise<{ hash: Hash; size: number }> {
    if (!this.#editor) {
      const [, { TreeEditor }] = await writePath();
      const { reader, objects, spliceMinBytes: min } = this.#parts;
      this.#editor = new TreeEditor(reader, objects, {
        ...(min !== undefined ? { spliceMinBytes: min } : {}),
      });
    }
    return await this.#editor.edit(root, edits, batch);
  }
}
