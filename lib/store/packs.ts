/**
 * Pack files on disk: small objects written in bulk go to append-only packs with a text
 * index (`packs/<name>.pack` + `.idx`), so ingesting 10,000 small files costs a few fsyncs
 * rather than 10,000. Packs are immutable; only gc removes them, by repacking what it
 * keeps. Every object read from a pack is checked against its hash.
 */
import { IntegrityError } from "../errors.ts";
import { wrongKindError } from "./damage.ts";
import { type Hash, sha256Async } from "./hash.ts";
import { mapWriteError, syncDir, tempPath, writeNewFile } from "./fs_util.ts";
import { Layout } from "./layout.ts";
import { checkPack, corrupt, encodePack, type PackEntry } from "./pack_codec.ts";
import {
  encodeIndex,
  type IndexSource,
  PackIndexes,
  type PackLocation,
  parseIndex,
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
      for (const pack of names) {
        if (!loaded.includes(pack)) await this.#loadIndex(this.#index, pack);
      }
      return;
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
      file = await Deno.open(path, { read: true });
      const info = await file.stat();
      if (info.isDirectory) {
        file.close();
        throw new Deno.errors.IsADirectory(path);
      }
      size = info.size;
    } catch (err) {
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
      const index = new PackIndexes();
      for (const pack of this.#indexNames()) await this.#loadIndex(index, pack);
      return this.#index = index;
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
  async write(objects: ReadonlyMap<Hash, Uint8Array>): Promise<void> {
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
      await Deno.rename(idxTmp, this.#layout.packIndex(name));
    } catch (err) {
      await Deno.remove(packTmp).catch(() => {});
      await Deno.remove(idxTmp).catch(() => {});
      await Deno.remove(this.#layout.pack(name)).catch(() => {});
      mapWriteError(err, "a pack of objects");
    }
    await syncDir(dir);
    this.#index?.add(name, idxBytes);
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
   * Check one pack end to end: index checksum, every record's header, and every object's
   * hash. Calls `onObject` per object verified.
   */
  async verify(name: string, onObject?: () => void): Promise<void> {
    const entries = await this.#entries(name);
    let bytes: Uint8Array;
    try {
      bytes = await this.#readFile(this.#layout.pack(name));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw missingPack(name, entries[0]?.hash);
      throw err;
    }
    checkPack(name, bytes, entries, onObject);
  }

  /** Replace packs by one pack holding only `keep` of their objects (gc only). */
  async repack(packs: readonly string[], keep: ReadonlySet<Hash>): Promise<number> {
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

/** Indexes up to this size are read whole when loaded; larger ones a window at a time. */
const WHOLE_INDEX_BYTES = 64 << 10;

/** The first `size` bytes of an open file. */
async function readAllOf(file: Deno.FsFile, size: number): Promise<Uint8Array> {
  const buf = new Uint8Array(size);
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
