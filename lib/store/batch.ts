/**
 * A batch of small objects written together: a transaction's trees and commits, or the
 * small files of a put. Many objects go to one pack, a few to loose files side by side, and
 * objects the store already holds are skipped (their time refreshed, as gc wants).
 */
import { type Hash, sha256 } from "./hash.ts";

/** A batch with at least this many small objects is written as one pack. */
export const PACK_MIN_OBJECTS = 16;
/** A batch flushes itself once it buffers this many bytes. */
const BATCH_MAX_BYTES = 64 << 20;

/** Where a batch writes: the object store. */
export interface BatchTarget {
  /** The subset of `hashes` the store does not hold yet. */
  missing(hashes: Iterable<Hash>): Promise<Set<Hash>>;
  /**
   * Mark objects the store holds already as just written; a loose copy whose size shows it
   * damaged is written again.
   */
  keep(objects: ReadonlyMap<Hash, Uint8Array>): Promise<void>;
  /** Write objects as one pack. */
  writePack(objects: ReadonlyMap<Hash, Uint8Array>): Promise<void>;
  /** Write one object as a loose file. */
  writeLoose(bytes: Uint8Array, hash: Hash): Promise<Hash>;
}

/** Small objects collected to be written together (as one pack when there are many). */
export class ObjectBatch {
  readonly #store: BatchTarget;
  #pending = new Map<Hash, Uint8Array>();
  #bytes = 0;

  constructor(store: BatchTarget) {
    this.#store = store;
  }

  /** Add an object's bytes; returns its hash. Written at `flush()`. */
  async add(bytes: Uint8Array, hash: Hash = sha256(bytes)): Promise<Hash> {
    if (!this.#pending.has(hash)) {
      this.#pending.set(hash, bytes);
      this.#bytes += bytes.length;
      if (this.#bytes >= BATCH_MAX_BYTES) await this.flush();
    }
    return hash;
  }

  /** How many objects are waiting in this batch. */
  get size(): number {
    return this.#pending.size;
  }

  /** True if `hash` is waiting in this batch. */
  holds(hash: Hash): boolean {
    return this.#pending.has(hash);
  }

  /** Bytes of a pending object, if any. */
  pending(hash: Hash): Uint8Array | undefined {
    return this.#pending.get(hash);
  }

  /** Write everything pending durably. */
  async flush(): Promise<void> {
    const pending = this.#pending;
    this.#pending = new Map();
    this.#bytes = 0;
    const absent = await this.#store.missing(pending.keys());
    const fresh = new Map<Hash, Uint8Array>();
    const held = new Map<Hash, Uint8Array>();
    for (const [hash, bytes] of pending) (absent.has(hash) ? fresh : held).set(hash, bytes);
    if (held.size) await this.#store.keep(held);
    if (fresh.size >= PACK_MIN_OBJECTS) {
      await this.#store.writePack(fresh);
    } else {
      // Written side by side, so their fsyncs overlap; every write settles before an error
      // is thrown, so none is left running behind it.
      const writes = await Promise.allSettled(
        [...fresh].map(([hash, bytes]) => this.#store.writeLoose(bytes, hash)),
      );
      for (const w of writes) if (w.status === "rejected") throw w.reason;
    }
  }
}
