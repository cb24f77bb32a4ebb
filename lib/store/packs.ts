/**
 * Pack files on disk: small objects written in bulk go to append-only packs with a text
 * index (`packs/<name>.pack` + `.idx`), so ingesting 10,000 small files costs a few fsyncs
 * rather than 10,000. Packs are immutable; only gc removes them, by repacking what it
 * keeps. Every object read from a pack is checked against its hash.
 */
import { IntegrityError } from "../errors.ts";
import { wrongKindError } from "./damage.ts";
import { type Hash, sha256Async } from "./hash.ts";
import { mapWriteError, processAlive, syncDir, tempPath, touch, writeNewFile } from "./fs_util.ts";
import { Layout } from "./layout.ts";
import type { IdTable } from "./id_table.ts";
import {
  checkPack,
  checkPackTable,
  corrupt,
  encodePack,
  type IndexTable,
  type PackEntry,
} from "./pack_codec.ts";
import {
  encodeIndex,
  type IndexSource,
  PackIndexes,
  type PackLocation,
  parseIndex,
  readIndexTable,
} from "./pack_index.ts";

/** The packs of one store folder. */
export class Packs {
  readonly #layout: Layout;
  #index: PackIndexes | null = null;
  #indexLoading: Promise<PackIndexes> | null = null;
  /** Open packs, with their size (an index entry must lie within it). */
  readonly #files = new Map<string, { readonly file: Deno.FsFile; readonly size: number }>();
  /** Open index files of large indexes, read on demand. */
  readonly #indexFiles: Deno.FsFile[] = [];
  #dirMade = false;
  #written = false;

  constructor(layout: Layout) {
    this.#layout = layout;
  }

  /** Close cached pack handles. */
  close(): void {
    for (const p of this.#files.values()) p.file.close();
    this.#files.clear();
    for (const f of this.#indexFiles.splice(0)) f.close();
  }

  /**
   * Catch up with packs another process may have written. Packs are immutable, so when
   * packs were only added, just the new indexes are read; when one was removed (gc), the
   * whole index is dropped and read again on next use.
   */
  async refresh(): Promise<void> {
    if (!this.#index) return;
    const names = this.#indexNames();
    const loaded = this.#index.names;
    if (loaded.every((pack) => names.includes(pack))) {
      try {
        for (const pack of names) {
          if (!loaded.includes(pack)) await this.#loadIndex(this.#index, pack);
        }
        return;
      } catch (err) {
        // Gone since listed: merged into another pack; read the indexes afresh.
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    this.#dropIndex();
  }

  #dropIndex(): void {
    this.#index = null;
    this.close();
  }

  /** Names of the packs that have an index, sorted. */
  #indexNames(): string[] {
    try {
      return [...Deno.readDirSync(this.#layout.packs)].map((e) => Layout.packOf(e.name))
        .filter((p) => p?.file === "index").map((p) => p!.name).sort();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
  }

  /**
   * Add a pack's index to `index`: a small one read whole, a large one (a pack of thousands
   * of objects) kept open and read a window at a time as lookups bisect it.
   */
  async #loadIndex(index: PackIndexes, pack: string): Promise<void> {
    const path = this.#layout.packIndex(pack);
    let file: Deno.FsFile;
    let size: number;
    try {
      ({ file, size } = await openFile(path));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw err;
      throw await wrongKindError(err, this.#layout.root, path, "file");
    }
    if (size <= WHOLE_INDEX_BYTES) {
      let bytes: Uint8Array;
      try {
        bytes = await readAllOf(file, size);
      } finally {
        file.close();
      }
      return index.add(pack, bytes);
    }
    this.#indexFiles.push(file);
    index.add(pack, fileSource(file, size, pack));
  }

  /** A pack's file or index, whole; one of the wrong kind is named as damage. */
  async #readFile(path: string): Promise<Uint8Array> {
    try {
      return await Deno.readFile(path);
    } catch (err) {
      throw await wrongKindError(err, this.#layout.root, path, "file");
    }
  }

  /** The indexes of every pack, loaded on first use. */
  index(): Promise<PackIndexes> {
    if (this.#index) return Promise.resolve(this.#index);
    // Concurrent first lookups (a put's parallel reads) share one load. The load is
    // forgotten once settled (`finally` runs after the assignment, even when the load
    // finishes at once), so a load after a drop reads the packs afresh.
    return this.#indexLoading ??= (async () => {
      for (;;) {
        const index = new PackIndexes();
        try {
          for (const pack of this.#indexNames()) await this.#loadIndex(index, pack);
        } catch (err) {
          // An index listed but gone when opened was merged into a new pack (written
          // before the old ones go): list again, and the new one is there.
          if (!(err instanceof Deno.errors.NotFound)) throw err;
          this.close();
          continue;
        }
        return this.#index = index;
      }
    })().finally(() => {
      this.#indexLoading = null;
    });
  }

  /**
   * Read and check an object from its pack. A pack file that is not there is IntegrityError
   * (its index is), or null when `orNull`, so the caller may look again.
   */
  async read(hash: Hash, loc: PackLocation, orNull: true): Promise<Uint8Array | null>;
  async read(hash: Hash, loc: PackLocation, orNull?: boolean): Promise<Uint8Array>;
  async read(hash: Hash, loc: PackLocation, orNull = false): Promise<Uint8Array | null> {
    let pack = this.#files.get(loc.pack);
    if (!pack) {
      const path = this.#layout.pack(loc.pack);
      try {
        const file = Deno.openSync(path, { read: true });
        const info = file.statSync();
        if (info.isDirectory) {
          // A folder opens for reading too, and fails only at the first read.
          file.close();
          throw new Deno.errors.IsADirectory(path);
        }
        pack = { file, size: info.size };
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) {
          throw await wrongKindError(err, this.#layout.root, path, "file");
        }
        if (orNull) return null;
        throw missingPack(loc.pack, hash);
      }
      this.#files.set(loc.pack, pack);
    }
    if (loc.offset + loc.length > pack.size) throw truncated(loc.pack, hash);
    const f = pack.file;
    const buf = new Uint8Array(loc.length);
    f.seekSync(loc.offset, Deno.SeekMode.Start);
    let off = 0;
    while (off < buf.length) {
      const n = f.readSync(buf.subarray(off));
      if (n === null) throw truncated(loc.pack, hash);
      off += n;
    }
    if (await sha256Async(buf) !== hash) throw corrupt(loc.pack, hash);
    return buf;
  }

  /**
   * Write small objects as one pack: pack temp → fsync → rename, then its index the same way,
   * then fsync the folder. The index is written last, so a pack without one is never read.
   */
  async write(
    objects: ReadonlyMap<Hash, Uint8Array>,
    step?: (step: MergeStep) => Promise<void>,
  ): Promise<string> {
    const dir = this.#layout.packs;
    if (!this.#dirMade) {
      await Deno.mkdir(dir, { recursive: true });
      this.#dirMade = true;
    }
    const name = `pack-${Date.now().toString(36)}-${Deno.pid}-${
      Math.floor(Math.random() * 1e9).toString(36)
    }`;
    const packTmp = tempPath(this.#layout.tmp);
    const idxTmp = tempPath(this.#layout.tmp);
    let idxBytes: Uint8Array = new Uint8Array();
    try {
      const { entries, pieces } = encodePack(objects);
      await writeNewFile(packTmp, pieces);
      idxBytes = await encodeIndex(entries);
      await writeNewFile(idxTmp, idxBytes);
      await Deno.rename(packTmp, this.#layout.pack(name));
      await step?.("pack");
      await Deno.rename(idxTmp, this.#layout.packIndex(name));
    } catch (err) {
      await Deno.remove(packTmp).catch(() => {});
      await Deno.remove(idxTmp).catch(() => {});
      await Deno.remove(this.#layout.pack(name)).catch(() => {});
      mapWriteError(err, "a pack of objects");
    }
    await syncDir(dir);
    this.#index?.add(name, idxBytes);
    this.#written = true;
    return name;
  }

  /**
   * True once, after this process wrote a pack since the last call: the time to see
   * whether the packs should be merged (`consolidate()`).
   */
  takeWritten(): boolean {
    const written = this.#written;
    this.#written = false;
    return written;
  }

  /**
   * Merge small packs into one when the store holds more than `MERGE_AT` packs, so that a
   * command never lists and opens thousands of packs after a year of commits. The caller
   * holds `gc.lock` exclusively: no pack is written outside a transaction and no gc or
   * verify runs meanwhile (a transaction may still write a pack: it is not merged, as it is
   * not listed yet). The packs under `SMALL_PACK_BYTES`, smallest first up to
   * `MERGE_MAX_BYTES` in all, are read and checked object by object (a pack that fails a
   * check is left for `verify` to name), written as one new pack and index durably, and
   * only then are the old ones removed, index first. At every point each object is in a
   * pack with an index: a crash leaves at worst an object in two packs, or a new pack
   * without an index (never read, and removed by the next merge or gc once its writer is
   * dead). Readers holding an old pack open keep reading it; one that finds it gone reads
   * the indexes again and finds the new pack. Returns the packs merged (0: none).
   */
  async consolidate(
    options: { mergeAt?: number; step?: (step: MergeStep) => Promise<void> } = {},
  ): Promise<number> {
    const step = options.step ?? (() => Promise.resolve());
    const mergeAt = options.mergeAt ?? MERGE_AT;
    const names = this.#indexNames();
    if (names.length <= mergeAt) return 0;
    await this.#removeDeadOrphans(new Set(names));
    const sized: { name: string; size: number }[] = [];
    for (const name of names) {
      try {
        const size = (await Deno.lstat(this.#layout.pack(name))).size;
        if (size < SMALL_PACK_BYTES) sized.push({ name, size });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    sized.sort((a, b) => a.size - b.size);
    const merged: string[] = [];
    const objects = new Map<Hash, Uint8Array>();
    let bytes = 0;
    for (const { name, size } of sized) {
      if (bytes + size > MERGE_MAX_BYTES && merged.length >= 2) break;
      const held = await this.#objectsOf(name);
      if (!held) continue;
      for (const [hash, obj] of held) objects.set(hash, obj);
      merged.push(name);
      bytes += size;
    }
    if (merged.length < Math.max(2, Math.min(MERGE_MIN, Math.floor(mergeAt / 2)))) return 0;
    await step("read");
    const made = await this.write(objects, step);
    await step("index");
    for (const [i, name] of merged.entries()) {
      this.#files.get(name)?.file.close();
      this.#files.delete(name);
      await Deno.remove(this.#layout.packIndex(name)).catch(ignoreNotFound);
      if (i === 0) await step("unindexed");
      await Deno.remove(this.#layout.pack(name)).catch(ignoreNotFound);
    }
    await step("removed");
    await syncDir(this.#layout.packs);
    // Newer than every pack it replaces: gc keeps what was written while a job runs by
    // its file's time, and what a merged pack held stays as young as it was.
    await touch(this.#layout.pack(made));
    this.#dropIndex();
    return merged.length;
  }

  /**
   * The objects of pack `name`, each checked against its hash; null when the pack or its
   * index is damaged or gone (it is not merged; `verify` names the damage).
   */
  async #objectsOf(name: string): Promise<Map<Hash, Uint8Array> | null> {
    try {
      const entries = await parseIndex(
        await Deno.readFile(this.#layout.packIndex(name)),
        name,
      );
      const bytes = await Deno.readFile(this.#layout.pack(name));
      checkPack(name, bytes, entries);
      const out = new Map<Hash, Uint8Array>();
      for (const { hash, offset, length } of entries) {
        out.set(hash, bytes.slice(offset, offset + length));
      }
      return out;
    } catch (err) {
      if (err instanceof IntegrityError || err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /**
   * Remove pack files without an index whose writer is dead (its pid is in the pack's
   * name): a pack whose writer crashed before its index went in, which nothing reads. A
   * live writer's pack may be between its two renames, and is left.
   */
  async #removeDeadOrphans(indexed: ReadonlySet<string>): Promise<void> {
    for (const e of Deno.readDirSync(this.#layout.packs)) {
      const pack = Layout.packOf(e.name);
      if (pack?.file !== "pack" || indexed.has(pack.name) || !e.isFile) continue;
      const pid = Number(pack.name.split("-")[2]);
      if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
        await Deno.remove(this.#layout.pack(pack.name)).catch(ignoreNotFound);
      }
    }
  }

  /** Names of packs that have an index. */
  async names(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.#layout.packs)) {
        const pack = Layout.packOf(e.name);
        if (pack?.file === "index") names.push(pack.name);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return names.sort();
  }

  /** Every packed object's id, by pack; each index is checked (magic, checksum, order). */
  async list(): Promise<Map<string, Hash[]>> {
    const packs = new Map<string, Hash[]>();
    for (const name of await this.names()) {
      packs.set(name, (await this.#entries(name)).map((e) => e.hash));
    }
    return packs;
  }

  /** The checked entries of a pack's index file. */
  async #entries(name: string): Promise<PackEntry[]> {
    return await parseIndex(await this.#readFile(this.#layout.packIndex(name)), name);
  }

  /**
   * Every pack's index read into `ids` (see `readIndexTable`), for a pass over every object:
   * each index is checked (magic, checksum, order, the form of each entry).
   */
  async tables(ids: IdTable): Promise<IndexTable[]> {
    const tables: IndexTable[] = [];
    for (const name of await this.names()) {
      const bytes = await this.#readFile(this.#layout.packIndex(name));
      tables.push(await readIndexTable(bytes, name, ids));
    }
    return tables;
  }

  /**
   * Check one pack end to end against its index's table (read by `tables()`): every
   * record's header, and every object's hash. Calls `onObject` per object verified.
   */
  async verify(table: IndexTable, ids: IdTable, onObject?: () => void): Promise<void> {
    const path = this.#layout.pack(table.pack);
    let file: Deno.FsFile;
    let size: number;
    try {
      ({ file, size } = await openFile(path));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw missingPack(table.pack, table.count ? ids.id(table.ordinals[0]!) : undefined);
      }
      throw await wrongKindError(err, this.#layout.root, path, "file");
    }
    // Read once, whole, into the memory its objects are hashed in where they lie; that code
    // is loaded here, by a URL Deno does not read ahead: no other command hashes a pack.
    const { hashBuffer } = await import(
      new URL("./sha256_many.ts", import.meta.url).href
    ) as typeof import("./sha256_many.ts");
    const buffer = hashBuffer(size);
    let bytes: Uint8Array;
    try {
      bytes = await readAllOf(file, size, buffer?.bytes);
    } finally {
      file.close();
    }
    checkPackTable(bytes, table, {
      ids,
      ...(buffer ? { digest: (from: number, to: number) => buffer.digest(from, to) } : {}),
      ...(onObject ? { onObject } : {}),
    });
  }

  /** Replace packs by one pack holding only `keep` of their objects (gc only). */
  async repack(packs: readonly string[], keep: { has(hash: Hash): boolean }): Promise<number> {
    const live = new Map<Hash, Uint8Array>();
    let freed = 0;
    for (const pack of packs) {
      for (const { hash, offset, length } of await this.#entries(pack)) {
        if (keep.has(hash)) {
          if (!live.has(hash)) live.set(hash, await this.read(hash, { pack, offset, length }));
        }
      }
    }
    if (live.size) await this.write(live);
    for (const name of packs) {
      this.#files.get(name)?.file.close();
      this.#files.delete(name);
      for (const p of [this.#layout.packIndex(name), this.#layout.pack(name)]) {
        freed += (await Deno.lstat(p)).size;
        await Deno.remove(p);
      }
    }
    await syncDir(this.#layout.packs);
    this.#dropIndex();
    return freed;
  }

  /** Remove pack files that never got an index (a crash mid-write; gc only). */
  async removeOrphans(): Promise<number> {
    let freed = 0;
    const names = new Set(await this.names());
    try {
      for await (const e of Deno.readDir(this.#layout.packs)) {
        const pack = Layout.packOf(e.name);
        if (pack?.file === "pack" && !names.has(pack.name)) {
          const p = this.#layout.pack(pack.name);
          const info = await Deno.lstat(p);
          if (info.isDirectory) {
            throw await wrongKindError(
              new Deno.errors.IsADirectory(p),
              this.#layout.root,
              p,
              "file",
            );
          }
          freed += info.size;
          await Deno.remove(p);
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return freed;
  }
}

/** The steps of a merge of packs, for tests that stop it at each. */
export type MergeStep = "read" | "pack" | "index" | "unindexed" | "removed";

/** Packs are merged once a store holds more than this many. */
export const MERGE_AT = 32;
/** Packs smaller than this are merged; larger ones (a big put's) are left as they are. */
const SMALL_PACK_BYTES = 8 << 20;
/** A merge reads at most about this many bytes of packs. */
const MERGE_MAX_BYTES = 64 << 20;
/** A merge takes at least this many packs, so that its cost is spread over many writes. */
const MERGE_MIN = 16;

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof Deno.errors.NotFound)) throw err;
}

/** Indexes up to this size are read whole when loaded; larger ones a window at a time. */
const WHOLE_INDEX_BYTES = 64 << 10;

/** The first `size` bytes of an open file (into `buf` when given). */
async function readAllOf(
  file: Deno.FsFile,
  size: number,
  buf = new Uint8Array(size),
): Promise<Uint8Array> {
  let off = 0;
  while (off < size) {
    const n = await file.read(buf.subarray(off));
    if (n === null) return buf.subarray(0, off);
    off += n;
  }
  return buf;
}

/**
 * An open index file of `size` bytes as a source of byte ranges. Index files are immutable,
 * so a range read short means the file was cut behind tusk's back: IntegrityError.
 */
function fileSource(file: Deno.FsFile, size: number, pack: string): IndexSource {
  return {
    size,
    read(from, to) {
      const buf = new Uint8Array(to - from);
      file.seekSync(from, Deno.SeekMode.Start);
      let off = 0;
      while (off < buf.length) {
        const n = file.readSync(buf.subarray(off));
        if (n === null) {
          throw new IntegrityError(`Pack index ${pack}.idx is truncated`, { pack });
        }
        off += n;
      }
      return buf;
    },
  };
}

/** The pack `pack` ends before the object `hash` does. */
function truncated(pack: string, hash: Hash): IntegrityError {
  return new IntegrityError(`Pack ${pack} is truncated at object ${hash}`, {
    object: hash,
    pack,
  });
}

/** A pack whose index is there but whose pack file is not: damage, not a missing object. */
function missingPack(pack: string, object: Hash | undefined): IntegrityError {
  return new IntegrityError(
    `Pack ${pack} is missing: its index ${pack}.idx is there but ${pack}.pack is not${
      object ? ` (it holds object ${object})` : ""
    }`,
    { pack, ...(object ? { object } : {}) },
  );
}

/** Open `path` to read it, with its size; a folder there is refused (`IsADirectory`). */
async function openFile(path: string): Promise<{ file: Deno.FsFile; size: number }> {
  const file = await Deno.open(path, { read: true });
  try {
    const info = await file.stat();
    if (info.isDirectory) throw new Deno.errors.IsADirectory(path);
    return { file, size: info.size };
  } catch (err) {
    file.close();
    throw err;
  }
}
