/**
 * Content-addressed object storage: blobs, trees and commits, each named by the SHA-256 of
 * its bytes, written once and never overwritten. Large objects live as loose files
 * (`loose.ts`); small ones written in bulk go to packs (`packs.ts`), so ingesting 10,000
 * small files costs a few fsyncs rather than 10,000. Every read checks the bytes against
 * the object's name, large objects as they stream (`read_check.ts`), so a damaged object
 * is refused by name and never handed on.
 */
import { type IntegrityError, NotFoundError } from "../errors.ts";
import { type ByteSource, bytesSource } from "./codec.ts";
import { isFanout } from "./fanout_codec.ts";
import { corrupt } from "./damage.ts";
import { ObjectBatch } from "./batch.ts";
import { mapWriteError, siblingTempPath, touch, writeAll, writeFileAtomic } from "./fs_util.ts";
import { createHasher, type Hash, sha256 } from "./hash.ts";
import { Layout, STORE_MARK_CHUNKED } from "./layout.ts";
import { LooseObjects, type ProgressFn } from "./loose.ts";
import type { MergeStep, Packs } from "./packs.ts";
import type { PackIndexes } from "./pack_index.ts";
import type { IndexTable } from "./pack_codec.ts";
import type { IdTable } from "./id_table.ts";
import {
  checkedStream,
  copyChecked,
  corruptObject,
  type OpenObject,
  readChecked,
  STREAM_WHOLE,
  streamOf,
} from "./read_check.ts";

const encoder = new TextEncoder();

/** An object read a range at a time, checked whole by `check()` (see `openRange`). */
export interface ObjectRange extends ByteSource {
  /** Hash the whole object; IntegrityError naming it when it does not match. */
  check(): Promise<void>;
  close(): void;
}

/** Files at least this big are streamed to loose objects instead of being read into memory. */
export const LARGE_OBJECT = 1 << 20;

/** How many hashes `missing()` looks up one by one; more are checked against whole indexes. */
export const BULK_LOOKUPS = 4096;

/** The object store of one tusk store folder. */
export class ObjectStore {
  readonly #layout: Layout;
  readonly #loose: LooseObjects;
  /**
   * Loaded on first use, and only once the packs folder holds a pack: a command that reads
   * no object, or a store with no pack, never loads the pack code.
   */
  #packs: Promise<Packs> | undefined;
  #packsLoaded: Packs | undefined;
  /** Whether the packs folder held a pack when last listed; unknown until a lookup. */
  #packSeen: boolean | undefined;
  /** True once the store's mark says it holds chunked trees. */
  #chunkedMark = false;

  constructor(layout: Layout) {
    this.#layout = layout;
    this.#loose = new LooseObjects(layout);
  }

  /** The packs, loading their code on first use. */
  #pk(): Promise<Packs> {
    return this.#packs ??= import(new URL("./packs.ts", import.meta.url).href).then(
      ({ Packs }: typeof import("./packs.ts")) => (this.#packsLoaded = new Packs(this.#layout)),
    );
  }

  /**
   * Mark the store as holding chunked trees (`tusk-store 2`) before the first is written,
   * so an older version, which cannot read them, refuses the store by its mark.
   */
  async #markChunked(): Promise<void> {
    if (this.#chunkedMark) return;
    const mark = await Deno.readTextFile(this.#layout.mark).catch(() => null);
    if (mark !== STORE_MARK_CHUNKED) {
      await writeFileAtomic(this.#layout.mark, encoder.encode(STORE_MARK_CHUNKED), this.tmpDir);
    }
    this.#chunkedMark = true;
  }

  /** The store root this object store belongs to. */
  get root(): string {
    return this.#layout.root;
  }

  /** The folder temp files go to. */
  get tmpDir(): string {
    return this.#layout.tmp;
  }

  /** Host path of a loose object. */
  loosePath(hash: Hash): string {
    return this.#loose.path(hash);
  }

  /** Close cached pack handles. */
  close(): void {
    this.#packsLoaded?.close();
  }

  /**
   * The indexes of every pack, or null while the packs folder holds none and the pack code
   * is not loaded (a store that never packed anything reads without loading it; the folder
   * is listed again after `refresh()`, so a pack another process writes is seen).
   */
  async #index(): Promise<PackIndexes | null> {
    if (!this.#packs && !(this.#packSeen ??= this.#anyPack())) return null;
    return await (await this.#pk()).index();
  }

  /** True when the packs folder holds a pack's index (a pack without one is not readable). */
  #anyPack(): boolean {
    try {
      for (const e of Deno.readDirSync(this.#layout.packs)) {
        if (Layout.packOf(e.name)?.file === "index") return true;
      }
      return false;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
  }

  /** Catch up with packs another process may have written or gc removed. */
  async refresh(): Promise<void> {
    // Without the pack code loaded there is nothing to catch up with: the next lookup
    // lists the packs folder afresh.
    if (this.#packs) await (await this.#packs).refresh();
    else this.#packSeen = undefined;
  }

  /** True when the object exists, loose or packed. */
  async has(hash: Hash): Promise<boolean> {
    return (await this.#index())?.has(hash) || await this.#loose.has(hash);
  }

  /** The subset of `hashes` the store does not hold yet, loose or packed. */
  async missing(hashes: Iterable<Hash>): Promise<Set<Hash>> {
    const index = await this.#index();
    const all = Array.isArray(hashes) ? hashes as Hash[] : [...hashes];
    // Many at once: each pack's index read once beside them, rather than a lookup each.
    const unpacked = index && all.length > BULK_LOOKUPS
      ? index.lacking(all)
      : all.filter((hash) => !index?.has(hash));
    return await this.#loose.missing(unpacked);
  }

  /**
   * Read a whole object into memory (trees, commits, small blobs), checked against its hash:
   * a damaged object is refused by name, never returned.
   */
  async read(hash: Hash): Promise<Uint8Array> {
    // A second look after catching up with the packs on disk: an object not loose may be in
    // a pack another process just wrote, and a pack gone may have been repacked by gc.
    for (let second = false;; second = true) {
      const loc = (await this.#index())?.get(hash);
      const bytes = loc
        ? await (await this.#pk()).read(hash, loc, !second)
        : await this.#loose.read(hash);
      if (bytes) return bytes;
      if (!loc && second) throw new NotFoundError(`Cannot find object ${hash}`, { object: hash });
      await this.refresh();
    }
  }

  /** The same as `read`: every read is checked. */
  async readVerified(hash: Hash): Promise<Uint8Array> {
    return await this.read(hash);
  }

  /**
   * A stream of an object's bytes, checked against its hash. An object up to
   * `STREAM_WHOLE` bytes is read and checked before its first byte is given; a larger loose
   * one is hashed as it streams, and the stream errors with IntegrityError at its end when
   * the hash does not match, so a consumer that waits for the end never keeps bad bytes.
   */
  async stream(hash: Hash): Promise<ReadableStream<Uint8Array>> {
    const obj = await this.#openLoose(hash);
    if (!obj) return streamOf(await this.read(hash));
    if (obj.size > STREAM_WHOLE) return checkedStream(obj);
    return streamOf(await readChecked(obj, obj.size));
  }

  /** The loose file of `hash` opened for reading, or null when it is packed or absent. */
  async #openLoose(hash: Hash): Promise<OpenObject | null> {
    if ((await this.#index())?.has(hash)) return null;
    return await this.#loose.open(hash);
  }

  /**
   * An object read a range at a time, for a reader that needs a small part of a large
   * object (a page of a tree of a million entries): `read` gives bytes not yet checked, and
   * `check()` hashes the whole object, throwing IntegrityError naming it on a mismatch, as a
   * stream of a large object does at its end. An object up to `STREAM_WHOLE` bytes is read
   * and checked whole at once (its `check()` does nothing). `close()` when done.
   */
  async openRange(hash: Hash): Promise<ObjectRange> {
    const whole = async (): Promise<ObjectRange> => ({
      ...bytesSource(await this.read(hash)),
      check: () => Promise.resolve(),
      close: () => {},
    });
    const loc = (await this.#index())?.get(hash);
    let file: Deno.FsFile;
    let base = 0;
    let size: number;
    let fail: () => IntegrityError;
    if (loc) {
      if (loc.length <= STREAM_WHOLE) return await whole();
      try {
        file = await Deno.open(this.#layout.pack(loc.pack), { read: true });
      } catch {
        // Gone (repacked by gc) or damaged: the whole read looks again, or names the damage.
        return await whole();
      }
      base = loc.offset;
      size = loc.length;
      fail = () => corrupt(loc.pack, hash);
    } else {
      const obj = await this.#loose.open(hash);
      if (!obj || obj.size <= STREAM_WHOLE) {
        obj?.file.close();
        return await whole();
      }
      file = obj.file;
      size = obj.size;
      fail = () => corruptObject(hash, obj.path);
    }
    const read = (from: number, to: number): Uint8Array => {
      const buf = new Uint8Array(to - from);
      file.seekSync(base + from, Deno.SeekMode.Start);
      let off = 0;
      while (off < buf.length) {
        const n = file.readSync(buf.subarray(off));
        if (n === null) throw fail();
        off += n;
      }
      return buf;
    };
    return {
      size,
      read,
      check: async () => {
        const hasher = await createHasher();
        for (let from = 0; from < size; from += 8 << 20) {
          hasher.update(read(from, Math.min(size, from + (8 << 20))));
        }
        if (hasher.hex() !== hash) throw fail();
      },
      close: () => file.close(),
    };
  }

  /**
   * Copy an object to the host file `dest`, checking its hash on the way: the bytes go to a
   * temp file beside `dest` (its name does not grow with `dest`'s, so a name as long as the
   * host allows still has one), renamed to `dest` only once checked. On a mismatch the temp
   * file is removed, whatever was at `dest` is left as it was, and IntegrityError names the
   * object. Returns the number of bytes written.
   */
  async copyTo(hash: Hash, dest: string, options: { mode?: number } = {}): Promise<number> {
    const tmp = siblingTempPath(dest);
    let created = false;
    try {
      const out = await Deno.open(tmp, {
        write: true,
        createNew: true,
        ...(options.mode !== undefined ? { mode: options.mode } : {}),
      });
      created = true;
      let size: number;
      try {
        const src = await this.#openLoose(hash);
        if (src) size = await copyChecked(src, out);
        else {
          const bytes = await this.read(hash);
          await writeAll(out, bytes);
          size = bytes.length;
        }
      } finally {
        out.close();
      }
      await Deno.rename(tmp, dest);
      return size;
    } catch (err) {
      if (created) await Deno.remove(tmp).catch(() => {});
      mapWriteError(err, `"${dest}"`);
    }
  }

  /**
   * Write one object as a loose file, durably (only freshened when the store holds it). A
   * loose copy of another size than `bytes` is damaged: it is written again, which heals it.
   */
  async writeLoose(bytes: Uint8Array, hash: Hash = sha256(bytes)): Promise<Hash> {
    if (isFanout(bytes)) await this.#markChunked();
    const packed = (await this.#index())?.has(hash) ?? false;
    if (packed || await this.#loose.size(hash) === bytes.length) {
      await this.freshen([hash]);
      return hash;
    }
    return await this.#loose.write(bytes, hash);
  }

  /**
   * Mark objects a write found already stored as just written: a loose one's file, or the
   * pack holding it, gets the current time. `gc` keeps what was written since a job still
   * running started (that job may name it nowhere yet), so a job writing an output the
   * store held as garbage keeps it too. Best effort: a file tusk may not touch is left.
   */
  async freshen(hashes: Iterable<Hash>): Promise<void> {
    const index = await this.#index();
    const packs = new Set<string>();
    for (const hash of hashes) {
      const loc = index?.get(hash);
      if (loc) packs.add(loc.pack);
      else await this.#loose.touch(hash);
    }
    for (const pack of packs) await touch(this.#layout.pack(pack));
  }

  /**
   * Mark objects a batch found already stored as just written (see `freshen()`), and write
   * again each loose one whose file is not the size of its bytes: a damaged copy is healed.
   */
  async keep(objects: ReadonlyMap<Hash, Uint8Array>): Promise<void> {
    const index = await this.#index();
    const packs = new Set<string>();
    const loose: Promise<unknown>[] = [];
    for (const [hash, bytes] of objects) {
      const loc = index?.get(hash);
      if (loc) packs.add(loc.pack);
      else {
        loose.push(
          this.#loose.size(hash).then(async (size) => {
            if (size === bytes.length) await this.#loose.touch(hash);
            else await this.#loose.write(bytes, hash);
          }),
        );
      }
    }
    for (const pack of packs) await touch(this.#layout.pack(pack));
    for (const w of await Promise.allSettled(loose)) if (w.status === "rejected") throw w.reason;
  }

  /**
   * Stream a host file into a loose object: the copy and the hash run side by side, and the
   * file is checked not to have changed while it was read.
   */
  async writeLargeFile(
    path: string,
    onProgress?: ProgressFn,
  ): Promise<{ hash: Hash; size: number }> {
    return await this.#loose.writeFile(path, onProgress);
  }

  /**
   * Stream any byte stream (e.g. stdin) into a loose object; with `check`, only if its bytes
   * hash to `check.expect` (else nothing is installed and `check.mismatch()` is thrown).
   */
  async writeStream(
    stream: ReadableStream<Uint8Array>,
    onProgress?: ProgressFn,
    check?: { readonly expect: Hash; readonly mismatch: () => Error },
  ): Promise<{ hash: Hash; size: number }> {
    return await this.#loose.writeStream(stream, onProgress, check);
  }

  /** Start a batch of small objects that will be written together. */
  batch(): ObjectBatch {
    return new ObjectBatch(this);
  }

  /** Write small objects as one pack, durably; its index is written last. */
  async writePack(objects: ReadonlyMap<Hash, Uint8Array>): Promise<void> {
    for (const bytes of objects.values()) {
      if (isFanout(bytes)) {
        await this.#markChunked();
        break;
      }
    }
    await (await this.#pk()).write(objects);
  }

  /** Every object id in the store, loose and packed, with where it lives. */
  async listAll(): Promise<{ loose: Hash[]; packs: Map<string, Hash[]> }> {
    const loose = await this.#loose.list();
    return { loose, packs: await (await this.#pk()).list() };
  }

  /**
   * Every object id in the store, held in `ids` (loose ones first), for a pass over every
   * object (verify): the loose ones, and each pack's index as a table (`Packs.tables`), which
   * `verifyPack()` then checks the pack against.
   */
  async indexAll(ids: IdTable): Promise<{ loose: Hash[]; packs: IndexTable[] }> {
    const loose = await this.#loose.list();
    for (const hash of loose) ids.add(hash);
    return { loose, packs: await (await this.#pk()).tables(ids) };
  }
  /** Names of packs that have an index. */
  async packNames(): Promise<string[]> {
    return await (await this.#pk()).names();
  }

  /**
   * Check one pack end to end against its index's table (from `indexAll()`): every record's
   * header, and every object's hash. Calls `onObject` per object verified.
   */
  async verifyPack(table: IndexTable, ids: IdTable, onObject?: () => void): Promise<void> {
    await (await this.#pk()).verify(table, ids, onObject);
  }

  /** Check one loose object by re-hashing its file. */
  async verifyLoose(hash: Hash): Promise<void> {
    await this.#loose.verify(hash);
  }

  /** Delete a loose object (gc only). */
  async removeLoose(hash: Hash): Promise<number> {
    return await this.#loose.remove(hash);
  }

  /** Replace packs by one pack holding only `keep` of their objects (gc only). */
  async repack(packs: readonly string[], keep: { has(hash: Hash): boolean }): Promise<number> {
    return await (await this.#pk()).repack(packs, keep);
  }

  /**
   * Merge small packs into one when there are too many (see `Packs.consolidate`); the
   * caller holds `gc.lock` exclusively. Returns the packs merged.
   */
  async consolidate(
    options: { mergeAt?: number; step?: (step: MergeStep) => Promise<void> } = {},
  ): Promise<number> {
    return await (await this.#pk()).consolidate(options);
  }

  /** True once after this process wrote a pack (only when the pack code is loaded). */
  takePackWritten(): boolean {
    return this.#packsLoaded?.takeWritten() ?? false;
  }

  /** Remove pack files that never got an index (a crash mid-write; gc only). */
  async removeOrphanPacks(): Promise<number> {
    return await (await this.#pk()).removeOrphans();
  }
}
