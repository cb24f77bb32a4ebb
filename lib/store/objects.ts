/**
 * Content-addressed object storage: blobs, trees and commits, each named by the SHA-256 of
 * its bytes, written once and never overwritten. Large objects live as loose files
 * (`objects/ab/cdef…`); small ones written in bulk go to append-only pack files with a
 * text index (`packs/<name>.pack` + `.idx`), so ingesting 10,000 small files costs a few
 * fsyncs rather than 10,000. Every read checks the bytes against the object's name, large
 * objects as they stream, so a damaged object is refused by name and never handed on.
 */
import { IntegrityError, NotFoundError } from "../errors.ts";
import { createHasher, type Hash, type Hasher, sha256, sha256Async } from "./hash.ts";
import { mapWriteError, syncDir, tempName, tempPath, writeAll } from "./fs_util.ts";
import { Layout } from "./layout.ts";

/** Files at least this big are streamed to loose objects instead of being read into memory. */
export const LARGE_OBJECT = 1 << 20;
/** A batch with at least this many small objects is written as one pack. */
const PACK_MIN_OBJECTS = 16;
/** A batch flushes itself once it buffers this many bytes. */
const BATCH_MAX_BYTES = 64 << 20;
/** Objects up to this size are read and checked whole before any of their bytes is given out. */
const STREAM_WHOLE = 8 << 20;
/** Chunk size of streams and copies of larger objects. */
const STREAM_CHUNK = 1 << 20;

const PACK_MAGIC = "tusk-pack 1\n";
const IDX_MAGIC = "tusk-idx 1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface PackLocation {
  readonly pack: string;
  readonly offset: number;
  readonly length: number;
}

/** One pack's index file, as read: entry lines `<hash> <offset> <length>`, sorted by hash. */
interface LoadedIndex {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Byte range of the entry lines, after the magic line and before the `end` line. */
  readonly start: number;
  readonly end: number;
}

const NEWLINE = 10;
const SPACE = 32;

/**
 * The pack indexes loaded so far. Each pack's index file is kept as read and searched by
 * bisection over its bytes: a command that looks up a few objects pays for reading the
 * files, not for decoding, splitting or hashing them. (Its checksum is checked by
 * `verify`; a read from a pack checks the object's own hash instead, which also catches a
 * corrupt index.) A bulk reader (verify, gc, a large put) switches to a map once its
 * lookups outnumber a quarter of the entries, where the map becomes the cheaper of the two.
 */
class PackIndexes {
  readonly #packs: LoadedIndex[] = [];
  #entries = 0;
  #lookups = 0;
  #map: Map<Hash, PackLocation> | null = null;

  /** Names of the packs held. */
  get names(): string[] {
    return this.#packs.map((p) => p.name);
  }

  /** Add a pack's index file; throws IntegrityError when it is not one. */
  add(name: string, bytes: Uint8Array): void {
    const magic = encoder.encode(`${IDX_MAGIC}\n`);
    const end = bytes.lastIndexOf(NEWLINE, bytes.length - 2) + 1;
    if (
      bytes.length < magic.length || magic.some((b, i) => bytes[i] !== b) ||
      bytes[bytes.length - 1] !== NEWLINE || end < magic.length ||
      decoder.decode(bytes.subarray(end, end + 4)) !== "end "
    ) {
      throw new IntegrityError(`Pack index ${name}.idx is corrupt: it is not a pack index`, {
        pack: name,
      });
    }
    const pack = { name, bytes, start: magic.length, end };
    this.#packs.push(pack);
    // Entry lines average ~80 bytes; the count only decides when to switch to a map.
    this.#entries += Math.round((end - magic.length) / 80);
    if (this.#map) fillMap(this.#map, pack);
  }

  /** Where the object `hash` is packed, if it is. */
  get(hash: Hash): PackLocation | undefined {
    if (!this.#map && ++this.#lookups > 256 && this.#lookups * 4 > this.#entries) {
      this.#map = new Map();
      for (const p of this.#packs) fillMap(this.#map, p);
    }
    if (this.#map) return this.#map.get(hash);
    const key = encoder.encode(hash);
    for (const pack of this.#packs) {
      const found = search(pack, key);
      if (found) return found;
    }
    return undefined;
  }

  /** True when some pack holds `hash`. */
  has(hash: Hash): boolean {
    return this.get(hash) !== undefined;
  }
}

/** Bisect a pack's sorted entry lines for the line starting with `key` (a hash's bytes). */
function search(pack: LoadedIndex, key: Uint8Array): PackLocation | undefined {
  const { bytes } = pack;
  let lo = pack.start;
  let hi = pack.end;
  while (lo < hi) {
    // The start of the line holding the middle byte; lines are short, so this scan is too.
    let line = (lo + hi) >>> 1;
    while (line > lo && bytes[line - 1] !== NEWLINE) line--;
    let cmp = 0;
    for (let i = 0; i < key.length && cmp === 0; i++) cmp = bytes[line + i]! - key[i]!;
    if (cmp === 0 && bytes[line + key.length] === SPACE) {
      return entryAt(pack, line, line + key.length + 1);
    }
    if (cmp < 0) {
      const next = bytes.indexOf(NEWLINE, line);
      lo = next < 0 || next >= hi ? hi : next + 1;
    } else {
      hi = line;
    }
  }
  return undefined;
}

/** Parse `<offset> <length>\n` at `at`, the rest of the entry line starting at `line`. */
function entryAt(pack: LoadedIndex, line: number, at: number): PackLocation {
  const eol = pack.bytes.indexOf(NEWLINE, at);
  const [offset, length] = decoder.decode(pack.bytes.subarray(at, eol)).split(" ").map(Number);
  return location(pack.name, offset, length, `byte ${line}`);
}

/** A pack location from an index entry's numbers, or IntegrityError naming `where`. */
function location(
  pack: string,
  offset: number | undefined,
  length: number | undefined,
  where: string,
): PackLocation {
  if (
    !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) ||
    offset! < PACK_MAGIC.length || length! < 0
  ) {
    throw new IntegrityError(`Pack index ${pack}.idx is corrupt at ${where}`, { pack });
  }
  return { pack, offset: offset!, length: length! };
}

function fillMap(map: Map<Hash, PackLocation>, pack: LoadedIndex): void {
  const text = decoder.decode(pack.bytes.subarray(pack.start, pack.end));
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const a = line.indexOf(" ");
    const hash = line.slice(0, a);
    if (map.has(hash)) continue;
    const b = line.indexOf(" ", a + 1);
    const offset = Number(line.slice(a + 1, b));
    map.set(hash, location(pack.name, offset, Number(line.slice(b + 1)), `object ${hash}`));
  }
}

/** Something that reports bytes as they are ingested (for progress bars). */
export type ProgressFn = (bytes: number) => void;

/** The object store of one tusk store folder. */
export class ObjectStore {
  readonly #layout: Layout;
  readonly #packs: string;
  readonly #tmp: string;
  #index: PackIndexes | null = null;
  #indexLoading: Promise<PackIndexes> | null = null;
  /** Open packs, with their size (an index entry must lie within it). */
  readonly #packFiles = new Map<string, { readonly file: Deno.FsFile; readonly size: number }>();
  readonly #knownDirs = new Set<string>();

  constructor(layout: Layout) {
    this.#layout = layout;
    this.#packs = layout.packs;
    this.#tmp = layout.tmp;
  }

  /** The folder temp files go to. */
  get tmpDir(): string {
    return this.#tmp;
  }

  /** Host path of a loose object. */
  loosePath(hash: Hash): string {
    return this.#layout.loose(hash);
  }

  /** Close cached pack handles. */
  close(): void {
    for (const p of this.#packFiles.values()) p.file.close();
    this.#packFiles.clear();
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
      return [...Deno.readDirSync(this.#packs)].map((e) => Layout.packOf(e.name))
        .filter((p) => p?.file === "index").map((p) => p!.name).sort();
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
  }

  async #loadIndex(index: PackIndexes, pack: string): Promise<void> {
    index.add(pack, await Deno.readFile(this.#layout.packIndex(pack)));
  }

  #packIndex(): Promise<PackIndexes> {
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

  /** True when the object exists, loose or packed. */
  async has(hash: Hash): Promise<boolean> {
    if ((await this.#packIndex()).has(hash)) return true;
    try {
      await Deno.lstat(this.loosePath(hash));
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
  }

  /**
   * The subset of `hashes` the store does not hold yet. Loose objects are found by listing
   * their prefix folders, not by one failed `lstat` per object, so checking a batch of
   * 10,000 new objects costs a few directory reads.
   */
  async missing(hashes: Iterable<Hash>): Promise<Set<Hash>> {
    const index = await this.#packIndex();
    const byPrefix = new Map<string, Hash[]>();
    for (const hash of hashes) {
      if (index.has(hash)) continue;
      const prefix = hash.slice(0, 2);
      let group = byPrefix.get(prefix);
      if (!group) byPrefix.set(prefix, group = []);
      group.push(hash);
    }
    const out = new Set<Hash>();
    let dirs: Set<string> | undefined;
    for (const [prefix, group] of byPrefix) {
      if (group.length === 1) {
        if (!(await this.has(group[0]!))) out.add(group[0]!);
        continue;
      }
      dirs ??= await this.#looseDirs();
      if (!dirs.has(prefix)) {
        for (const hash of group) out.add(hash);
        continue;
      }
      const present = new Set<string>();
      try {
        for await (const e of Deno.readDir(this.#layout.looseDir(prefix))) present.add(e.name);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      for (const hash of group) if (!present.has(hash.slice(2))) out.add(hash);
    }
    return out;
  }

  /** The prefix folders of loose objects that exist. */
  async #looseDirs(): Promise<Set<string>> {
    const dirs = new Set<string>();
    try {
      for await (const e of Deno.readDir(this.#layout.objects)) if (e.isDirectory) dirs.add(e.name);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return dirs;
  }

  /**
   * Read a whole object into memory (trees, commits, small blobs), checked against its hash:
   * a damaged object is refused by name, never returned.
   */
  async read(hash: Hash): Promise<Uint8Array> {
    // A second look after catching up with the packs on disk: an object not loose may be in
    // a pack another process just wrote, and a pack gone may have been repacked by gc.
    for (let second = false;; second = true) {
      const loc = (await this.#packIndex()).get(hash);
      if (loc) {
        const bytes = await this.#readPacked(hash, loc, !second);
        if (bytes) return bytes;
      } else {
        try {
          const bytes = await Deno.readFile(this.loosePath(hash));
          if (await sha256Async(bytes) !== hash) throw this.#corrupt(hash);
          return bytes;
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
          if (second) throw new NotFoundError(`Cannot find object ${hash}`, { object: hash });
        }
      }
      await this.refresh();
    }
  }

  /** The same as `read`: every read is checked. */
  async readVerified(hash: Hash): Promise<Uint8Array> {
    return await this.read(hash);
  }

  #corrupt(hash: Hash): IntegrityError {
    return new IntegrityError(`Object ${hash} is corrupt: its content does not match its hash`, {
      object: hash,
      path: this.loosePath(hash),
    });
  }

  /**
   * A stream of an object's bytes, checked against its hash. An object up to
   * `STREAM_WHOLE` bytes is read and checked before its first byte is given; a larger loose
   * one is hashed as it streams, and the stream errors with IntegrityError at its end when
   * the hash does not match, so a consumer that waits for the end never keeps bad bytes.
   */
  async stream(hash: Hash): Promise<ReadableStream<Uint8Array>> {
    const file = await this.#openLoose(hash);
    let bytes: Uint8Array;
    if (file) {
      const size = (await file.stat()).size;
      if (size > STREAM_WHOLE) return this.#checkedStream(hash, file);
      bytes = await this.#readOpen(hash, file, size);
    } else bytes = await this.read(hash);
    return new ReadableStream({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
  }

  /** The loose file of `hash` opened for reading, or null when it is not loose. */
  async #openLoose(hash: Hash): Promise<Deno.FsFile | null> {
    if ((await this.#packIndex()).has(hash)) return null;
    try {
      return await Deno.open(this.loosePath(hash), { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /** Read all `size` bytes of an open loose file, check them and close it. */
  async #readOpen(hash: Hash, file: Deno.FsFile, size: number): Promise<Uint8Array> {
    const bytes = new Uint8Array(size);
    let off = 0;
    try {
      while (off < size) {
        const n = await file.read(bytes.subarray(off));
        if (n === null) break;
        off += n;
      }
    } finally {
      file.close();
    }
    const got = bytes.subarray(0, off);
    if (await sha256Async(got) !== hash) throw this.#corrupt(hash);
    return got;
  }

  /**
   * Stream an open loose file in fresh chunks, hashing each; errors at the end on a mismatch.
   * The next chunk is read while this one is hashed.
   */
  #checkedStream(hash: Hash, file: Deno.FsFile): ReadableStream<Uint8Array> {
    let hasher: Hasher | undefined;
    let open = true;
    const close = () => {
      if (open) file.close();
      open = false;
    };
    const readChunk = async () => {
      const buf = new Uint8Array(STREAM_CHUNK);
      return { buf, n: await file.read(buf) };
    };
    let next: ReturnType<typeof readChunk> | undefined;
    const corrupt = () => this.#corrupt(hash);
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        try {
          hasher ??= await createHasher();
          const { buf, n } = await (next ?? readChunk());
          if (n === null) {
            close();
            if (hasher.hex() === hash) controller.close();
            else controller.error(corrupt());
            return;
          }
          next = readChunk();
          next.catch(() => {});
          const chunk = buf.subarray(0, n);
          hasher.update(chunk);
          controller.enqueue(chunk);
        } catch (err) {
          close();
          throw err;
        }
      },
      cancel: close,
    }, { highWaterMark: 2 });
  }

  /**
   * Copy an object to the host file `dest`, checking its hash on the way: the bytes go to a
   * temp file beside `dest`, renamed to `dest` only once checked. On a mismatch the temp
   * file is removed, whatever was at `dest` is left as it was, and IntegrityError names the
   * object. Returns the number of bytes written.
   */
  async copyTo(hash: Hash, dest: string, options: { mode?: number } = {}): Promise<number> {
    const slash = dest.lastIndexOf("/");
    const tmp = `${dest.slice(0, slash + 1)}.${dest.slice(slash + 1)}.${tempName()}`;
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
        const bytes = src ? null : await this.read(hash);
        if (bytes) {
          await writeAll(out, bytes);
          size = bytes.length;
        } else size = await this.#copyLoose(hash, src!, out);
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
   * Copy an open loose file to `out` while hashing it, then close it: a small file in one
   * read, a large one in chunks, the next read while this chunk is hashed and written.
   * Throws IntegrityError when the hash differs.
   */
  async #copyLoose(hash: Hash, src: Deno.FsFile, out: Deno.FsFile): Promise<number> {
    const size = (await src.stat()).size;
    if (size <= STREAM_WHOLE) {
      const bytes = await this.#readOpen(hash, src, size);
      await writeAll(out, bytes);
      return bytes.length;
    }
    try {
      const hasher = await createHasher();
      // Three buffers in turn: one being read, one being hashed, one being written, so the
      // hash (the slowest part) waits for neither the disk nor the copy.
      const bufs = [0, 1, 2].map(() => new Uint8Array(STREAM_CHUNK));
      let total = 0;
      let reading = src.read(bufs[0]!);
      let writing = Promise.resolve();
      try {
        for (let i = 0;; i = (i + 1) % 3) {
          const n = await reading;
          if (n === null) break;
          // The next buffer's write was started two chunks ago and awaited one chunk ago.
          reading = src.read(bufs[(i + 1) % 3]!);
          const chunk = bufs[i]!.subarray(0, n);
          hasher.update(chunk);
          await writing;
          writing = writeAll(out, chunk);
          total += n;
        }
        await writing;
      } finally {
        reading.catch(() => {});
        writing.catch(() => {});
      }
      if (hasher.hex() !== hash) throw this.#corrupt(hash);
      return total;
    } finally {
      src.close();
    }
  }

  /**
   * Read and check an object from its pack. A pack file that is not there is IntegrityError
   * (its index is), or null when `orNull`, so the caller may look again.
   */
  async #readPacked(hash: Hash, loc: PackLocation, orNull: true): Promise<Uint8Array | null>;
  async #readPacked(hash: Hash, loc: PackLocation, orNull?: boolean): Promise<Uint8Array>;
  async #readPacked(hash: Hash, loc: PackLocation, orNull = false): Promise<Uint8Array | null> {
    let pack = this.#packFiles.get(loc.pack);
    if (!pack) {
      try {
        const file = Deno.openSync(this.#layout.pack(loc.pack), { read: true });
        pack = { file, size: file.statSync().size };
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
        if (orNull) return null;
        throw missingPack(loc.pack, hash);
      }
      this.#packFiles.set(loc.pack, pack);
    }
    if (loc.offset + loc.length > pack.size) {
      throw new IntegrityError(`Pack ${loc.pack} is truncated at object ${hash}`, {
        object: hash,
        pack: loc.pack,
      });
    }
    const f = pack.file;
    const buf = new Uint8Array(loc.length);
    f.seekSync(loc.offset, Deno.SeekMode.Start);
    let off = 0;
    while (off < buf.length) {
      const n = f.readSync(buf.subarray(off));
      if (n === null) {
        throw new IntegrityError(`Pack ${loc.pack} is truncated at object ${hash}`, {
          object: hash,
          pack: loc.pack,
        });
      }
      off += n;
    }
    if (await sha256Async(buf) !== hash) {
      throw new IntegrityError(
        `Object ${hash} in pack ${loc.pack} is corrupt: its content does not match its hash`,
        { pack: loc.pack, object: hash },
      );
    }
    return buf;
  }

  async #ensureDir(dir: string): Promise<void> {
    if (this.#knownDirs.has(dir)) return;
    await Deno.mkdir(dir, { recursive: true });
    this.#knownDirs.add(dir);
  }

  /** Move a finished temp file into place as a loose object (skipped if it exists). */
  async #installLoose(tmp: string, hash: Hash): Promise<void> {
    const dest = this.loosePath(hash);
    const dir = dest.slice(0, dest.lastIndexOf("/"));
    await this.#ensureDir(dir);
    try {
      await Deno.lstat(dest);
      await Deno.remove(tmp);
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    await Deno.rename(tmp, dest);
    await syncDir(dir);
  }

  /** Write one object as a loose file, durably. Returns its hash. */
  async writeLoose(bytes: Uint8Array, hash: Hash = sha256(bytes)): Promise<Hash> {
    if (await this.has(hash)) return hash;
    const tmp = tempPath(this.#tmp);
    try {
      const f = await Deno.open(tmp, { write: true, createNew: true });
      try {
        await writeAll(f, bytes);
        await f.sync();
      } finally {
        f.close();
      }
      await this.#installLoose(tmp, hash);
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      mapWriteError(err, `object ${hash}`);
    }
    return hash;
  }

  /**
   * Stream a host file into a loose object: the copy and the hash run side by side, and the
   * file is checked not to have changed while it was read.
   */
  async writeLargeFile(
    path: string,
    onProgress?: ProgressFn,
  ): Promise<{ hash: Hash; size: number }> {
    const before = await Deno.stat(path);
    const tmp = tempPath(this.#tmp);
    try {
      // The copy is flushed to disk as soon as it is written, while hashing still runs.
      const copying = Deno.copyFile(path, tmp).then(async () => {
        const f = await Deno.open(tmp, { read: true, write: true });
        try {
          await f.sync();
        } finally {
          f.close();
        }
      });
      // Awaited below; until then a failed copy (disk full) must not be an unhandled rejection,
      // which would kill the process with a stack trace and leave the temp file behind.
      copying.catch(() => {});
      const hasher = await createHasher();
      const src = await Deno.open(path, { read: true });
      let size = 0;
      // Two buffers: the next chunk is read while this one is hashed, so the hash (the
      // slowest part) never waits for a read.
      const bufs = [new Uint8Array(4 << 20), new Uint8Array(4 << 20)];
      let reading = src.read(bufs[0]!);
      try {
        for (let i = 0;; i ^= 1) {
          const n = await reading;
          if (n === null) break;
          reading = src.read(bufs[i ^ 1]!);
          hasher.update(bufs[i]!.subarray(0, n));
          size += n;
          onProgress?.(n);
        }
      } finally {
        reading.catch(() => {});
        src.close();
      }
      await copying;
      const after = await Deno.stat(path);
      const copied = await Deno.stat(tmp);
      if (
        after.size !== before.size || after.mtime?.getTime() !== before.mtime?.getTime() ||
        copied.size !== size || size !== before.size
      ) {
        throw new IntegrityError(`File "${path}" changed while it was being read: try again`, {
          path,
        });
      }
      const hash = hasher.hex();
      await this.#installLoose(tmp, hash);
      return { hash, size };
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      if (err instanceof IntegrityError) throw err;
      mapWriteError(err, `a copy of "${path}"`);
    }
  }

  /** Stream any byte stream (e.g. stdin) into a loose object. */
  async writeStream(
    stream: ReadableStream<Uint8Array>,
    onProgress?: ProgressFn,
  ): Promise<{ hash: Hash; size: number }> {
    const tmp = tempPath(this.#tmp);
    try {
      const hasher = await createHasher();
      let size = 0;
      const f = await Deno.open(tmp, { write: true, createNew: true });
      try {
        for await (const chunk of stream) {
          hasher.update(chunk);
          await writeAll(f, chunk);
          size += chunk.length;
          onProgress?.(chunk.length);
        }
        await f.sync();
      } finally {
        f.close();
      }
      const hash = hasher.hex();
      await this.#installLoose(tmp, hash);
      return { hash, size };
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      mapWriteError(err, "standard input");
    }
  }

  /** Start a batch of small objects that will be written together. */
  batch(): ObjectBatch {
    return new ObjectBatch(this);
  }

  /**
   * Write small objects as one pack: pack temp → fsync → rename, then its index the same way,
   * then fsync the folder. The index is written last, so a pack without one is never read.
   */
  async writePack(objects: ReadonlyMap<Hash, Uint8Array>): Promise<void> {
    await this.#ensureDir(this.#packs);
    const name = `pack-${Date.now().toString(36)}-${Deno.pid}-${
      Math.floor(Math.random() * 1e9).toString(36)
    }`;
    const packTmp = tempPath(this.#tmp);
    const idxTmp = tempPath(this.#tmp);
    const enc = new TextEncoder();
    const placed: [Hash, number, number][] = [];
    let idxBytes = new Uint8Array();
    try {
      const f = await Deno.open(packTmp, { write: true, createNew: true });
      try {
        const chunks: Uint8Array[] = [];
        let pending = 0;
        let offset = 0;
        const push = (c: Uint8Array) => {
          chunks.push(c);
          pending += c.length;
          offset += c.length;
        };
        push(enc.encode(PACK_MAGIC));
        for (const [hash, bytes] of objects) {
          push(enc.encode(`${hash} ${bytes.length}\n`));
          placed.push([hash, offset, bytes.length]);
          push(bytes);
          if (pending >= 8 << 20) {
            await writeAll(f, concat(chunks, pending));
            chunks.length = 0;
            pending = 0;
          }
        }
        if (pending) await writeAll(f, concat(chunks, pending));
        await f.sync();
      } finally {
        f.close();
      }
      const lines = placed.map(([hash, off, len]) => `${hash} ${off} ${len}`).sort();
      let idx = `${IDX_MAGIC}\n${lines.join("\n")}\n`;
      idx += `end ${await sha256Async(idx)}\n`;
      idxBytes = enc.encode(idx);
      const g = await Deno.open(idxTmp, { write: true, createNew: true });
      try {
        await writeAll(g, idxBytes);
        await g.sync();
      } finally {
        g.close();
      }
      await Deno.rename(packTmp, this.#layout.pack(name));
      await Deno.rename(idxTmp, this.#layout.packIndex(name));
    } catch (err) {
      await Deno.remove(packTmp).catch(() => {});
      await Deno.remove(idxTmp).catch(() => {});
      await Deno.remove(this.#layout.pack(name)).catch(() => {});
      mapWriteError(err, "a pack of objects");
    }
    await syncDir(this.#packs);
    this.#index?.add(name, idxBytes);
  }

  /** Every object id in the store, loose and packed, with where it lives. */
  async listAll(): Promise<{ loose: Hash[]; packs: Map<string, Hash[]> }> {
    const loose: Hash[] = [];
    try {
      for await (const d of Deno.readDir(this.#layout.objects)) {
        if (!d.isDirectory || !/^[0-9a-f]{2}$/.test(d.name)) continue;
        for await (const e of Deno.readDir(this.#layout.looseDir(d.name))) {
          if (/^[0-9a-f]{62}$/.test(e.name)) loose.push(d.name + e.name);
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    const packs = new Map<string, Hash[]>();
    for (const name of await this.packNames()) {
      const idx = await parseIndex(await Deno.readFile(this.#layout.packIndex(name)), name);
      packs.set(name, idx.map(([h]) => h));
    }
    return { loose, packs };
  }

  /** Names of packs that have an index. */
  async packNames(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(this.#packs)) {
        const pack = Layout.packOf(e.name);
        if (pack?.file === "index") names.push(pack.name);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return names.sort();
  }

  /**
   * Check one pack end to end: index checksum, every record's header, and every object's
   * hash. Calls `onObject` per object verified.
   */
  async verifyPack(name: string, onObject?: () => void): Promise<void> {
    const idx = await parseIndex(await Deno.readFile(this.#layout.packIndex(name)), name);
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.#layout.pack(name));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw missingPack(name, idx[0]?.[0]);
      throw err;
    }
    const dec = new TextDecoder();
    if (dec.decode(bytes.subarray(0, PACK_MAGIC.length)) !== PACK_MAGIC) {
      throw new IntegrityError(`Pack ${name} has a bad header`, { pack: name });
    }
    for (const [hash, loc] of idx) {
      const header = `${hash} ${loc.length}\n`;
      const hStart = loc.offset - header.length;
      if (hStart < 0 || dec.decode(bytes.subarray(hStart, loc.offset)) !== header) {
        throw new IntegrityError(`Pack ${name} is corrupt at object ${hash}`, {
          pack: name,
          object: hash,
        });
      }
      if (loc.offset + loc.length > bytes.length) {
        throw new IntegrityError(`Pack ${name} is truncated at object ${hash}`, {
          pack: name,
          object: hash,
        });
      }
      if (sha256(bytes.subarray(loc.offset, loc.offset + loc.length)) !== hash) {
        throw new IntegrityError(
          `Object ${hash} in pack ${name} is corrupt: its content does not match its hash`,
          { pack: name, object: hash },
        );
      }
      onObject?.();
    }
  }

  /** Check one loose object by re-hashing its file. */
  async verifyLoose(hash: Hash): Promise<void> {
    const f = await Deno.open(this.loosePath(hash), { read: true });
    const hasher = await createHasher();
    try {
      const buf = new Uint8Array(4 << 20);
      while (true) {
        const n = await f.read(buf);
        if (n === null) break;
        hasher.update(buf.subarray(0, n));
      }
    } finally {
      f.close();
    }
    if (hasher.hex() !== hash) throw this.#corrupt(hash);
  }

  /** Delete a loose object (gc only). */
  async removeLoose(hash: Hash): Promise<number> {
    const p = this.loosePath(hash);
    const st = await Deno.lstat(p);
    await Deno.remove(p);
    return st.size;
  }

  /** Replace packs by one pack holding only `keep` of their objects (gc only). */
  async repack(packs: readonly string[], keep: ReadonlySet<Hash>): Promise<number> {
    const live = new Map<Hash, Uint8Array>();
    let freed = 0;
    for (const name of packs) {
      for (
        const [hash, loc] of await parseIndex(
          await Deno.readFile(this.#layout.packIndex(name)),
          name,
        )
      ) {
        if (keep.has(hash)) {
          if (!live.has(hash)) live.set(hash, await this.#readPacked(hash, loc));
        }
      }
    }
    if (live.size) await this.writePack(live);
    for (const name of packs) {
      this.#packFiles.get(name)?.file.close();
      this.#packFiles.delete(name);
      for (const p of [this.#layout.packIndex(name), this.#layout.pack(name)]) {
        freed += (await Deno.lstat(p)).size;
        await Deno.remove(p);
      }
    }
    await syncDir(this.#packs);
    this.#dropIndex();
    return freed;
  }

  /** Remove pack files that never got an index (a crash mid-write; gc only). */
  async removeOrphanPacks(): Promise<number> {
    let freed = 0;
    const names = new Set(await this.packNames());
    try {
      for await (const e of Deno.readDir(this.#packs)) {
        const pack = Layout.packOf(e.name);
        if (pack?.file === "pack" && !names.has(pack.name)) {
          const p = this.#layout.pack(pack.name);
          freed += (await Deno.lstat(p)).size;
          await Deno.remove(p);
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return freed;
  }

  /** The store root this object store belongs to. */
  get root(): string {
    return this.#layout.root;
  }
}

/** Small objects collected to be written together (as one pack when there are many). */
export class ObjectBatch {
  readonly #store: ObjectStore;
  #pending = new Map<Hash, Uint8Array>();
  #bytes = 0;

  constructor(store: ObjectStore) {
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
    for (const [hash, bytes] of pending) if (absent.has(hash)) fresh.set(hash, bytes);
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

/** A pack whose index is there but whose pack file is not: damage, not a missing object. */
function missingPack(pack: string, object: Hash | undefined): IntegrityError {
  return new IntegrityError(
    `Pack ${pack} is missing: its index ${pack}.idx is there but ${pack}.pack is not${
      object ? ` (it holds object ${object})` : ""
    }`,
    { pack, ...(object ? { object } : {}) },
  );
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Parse a pack index, checking its magic and checksum. */
export async function parseIndex(
  bytes: Uint8Array,
  pack: string,
): Promise<[Hash, PackLocation][]> {
  return (await indexLines(bytes, pack)).map((line) => {
    const a = line.indexOf(" ");
    const b = line.indexOf(" ", a + 1);
    return [line.slice(0, a), {
      pack,
      offset: Number(line.slice(a + 1, b)),
      length: Number(line.slice(b + 1)),
    }];
  });
}

/** The entry lines of a pack index (`<hash> <offset> <length>`), checking magic and checksum. */
async function indexLines(bytes: Uint8Array, pack: string): Promise<string[]> {
  const text = new TextDecoder().decode(bytes);
  const end = text.lastIndexOf("end ");
  const body = end >= 0 ? text.slice(0, end) : "";
  if (
    !text.startsWith(`${IDX_MAGIC}\n`) || end < 0 ||
    text.slice(end) !== `end ${await sha256Async(body)}\n`
  ) {
    throw new IntegrityError(`Pack index ${pack}.idx is corrupt: its checksum does not match`, {
      pack,
    });
  }
  const lines = body.split("\n").slice(1, -1);
  for (let i = 1; i < lines.length; i++) {
    // Lookups bisect the index, so an unsorted one would hide objects.
    if (!(lines[i - 1]! < lines[i]!)) {
      throw new IntegrityError(`Pack index ${pack}.idx is corrupt: its entries are out of order`, {
        pack,
      });
    }
  }
  return lines;
}
