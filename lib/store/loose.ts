/**
 * Loose objects: one file per object (`objects/ab/cdef…`), named by the SHA-256 of its
 * bytes, written once (temp → fsync → rename; an existing object is never overwritten, unless
 * its size shows it damaged) and checked against its name on every read. Large files and
 * streams are copied and hashed side by side.
 */
import { IntegrityError, NotFoundError } from "../errors.ts";
import { damagedEntry, wrongKindError } from "./damage.ts";
import { createHasher, type Hash, sha256Async } from "./hash.ts";
import { mapWriteError, syncDir, tempPath, touch, writeAll, writeNewFile } from "./fs_util.ts";
import type { Layout } from "./layout.ts";
import { corruptObject, type OpenObject } from "./read_check.ts";

/** Something that reports bytes as they are ingested (for progress bars). */
export type ProgressFn = (bytes: number) => void;

/** The loose objects of one store folder. */
export class LooseObjects {
  readonly #layout: Layout;
  readonly #knownDirs = new Set<string>();

  constructor(layout: Layout) {
    this.#layout = layout;
  }

  /** Host path of a loose object. */
  path(hash: Hash): string {
    return this.#layout.loose(hash);
  }

  /**
   * The error to throw for `err`, raised using the file of `hash` (or its prefix folder):
   * the damaged-entry error when one of them has the wrong kind, `err` otherwise.
   */
  async #damaged(err: unknown, hash: Hash): Promise<unknown> {
    return await wrongKindError(err, this.#layout.root, this.path(hash), "file");
  }

  /** True when the object is loose. */
  async has(hash: Hash): Promise<boolean> {
    return await this.size(hash) !== null;
  }

  /** The size of a loose object's file, or null when there is none. */
  async size(hash: Hash): Promise<number | null> {
    try {
      return (await Deno.lstat(this.path(hash))).size;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw await this.#damaged(err, hash);
    }
  }

  /**
   * The subset of `hashes` that are not loose. They are found by listing their prefix
   * folders, not by one failed `lstat` per object, so checking a batch of 10,000 new
   * objects costs a few directory reads.
   */
  async missing(hashes: Iterable<Hash>): Promise<Set<Hash>> {
    const byPrefix = new Map<string, Hash[]>();
    for (const hash of hashes) {
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
      dirs ??= await this.#prefixes();
      if (!dirs.has(prefix)) {
        for (const hash of group) out.add(hash);
        continue;
      }
      const present = new Set<string>();
      try {
        for await (const e of Deno.readDir(this.#layout.looseDir(prefix))) present.add(e.name);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw await this.#damaged(err, group[0]!);
      }
      for (const hash of group) if (!present.has(hash.slice(2))) out.add(hash);
    }
    return out;
  }

  /** The prefix folders of loose objects that exist. */
  async #prefixes(): Promise<Set<string>> {
    const dirs = new Set<string>();
    try {
      for await (const e of Deno.readDir(this.#layout.objects)) if (e.isDirectory) dirs.add(e.name);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return dirs;
  }

  /** Every loose object's id; a prefix folder that is a file is IntegrityError naming it. */
  async list(): Promise<Hash[]> {
    const loose: Hash[] = [];
    try {
      for await (const d of Deno.readDir(this.#layout.objects)) {
        if (!/^[0-9a-f]{2}$/.test(d.name)) continue;
        if (!d.isDirectory && !(await Deno.stat(this.#layout.looseDir(d.name))).isDirectory) {
          // A file where a prefix folder belongs: its objects are lost, not merely absent.
          throw damagedEntry(this.#layout.looseDir(d.name), "folder");
        }
        for await (const e of Deno.readDir(this.#layout.looseDir(d.name))) {
          if (/^[0-9a-f]{62}$/.test(e.name)) loose.push(d.name + e.name);
        }
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return loose;
  }

  /** A loose object's bytes, checked against its hash; null when it is not loose. */
  async read(hash: Hash): Promise<Uint8Array | null> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.path(hash));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw await this.#damaged(err, hash);
    }
    if (await sha256Async(bytes) !== hash) throw corruptObject(hash, this.path(hash));
    return bytes;
  }

  /** A loose object's file opened for reading, or null when it is not loose. */
  async open(hash: Hash): Promise<OpenObject | null> {
    const path = this.path(hash);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw await this.#damaged(err, hash);
    }
    const info = await file.stat();
    // A folder opens for reading too, and fails only at the first read.
    if (info.isDirectory) {
      file.close();
      throw await this.#damaged(new Deno.errors.IsADirectory(path), hash);
    }
    return { hash, path, file, size: info.size };
  }

  /** Refresh a loose object's modification time (see `ObjectStore.freshen()`). */
  async touch(hash: Hash): Promise<void> {
    await touch(this.path(hash));
  }

  /** Write one object durably (the caller knows it is not there yet). */
  async write(bytes: Uint8Array, hash: Hash): Promise<Hash> {
    const tmp = tempPath(this.#layout.tmp);
    try {
      await writeNewFile(tmp, bytes);
      await this.#install(tmp, hash);
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
  async writeFile(path: string, onProgress?: ProgressFn): Promise<{ hash: Hash; size: number }> {
    const before = await Deno.stat(path);
    const tmp = tempPath(this.#layout.tmp);
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
      await this.#install(tmp, hash);
      return { hash, size };
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      if (err instanceof IntegrityError) throw err;
      mapWriteError(err, `a copy of "${path}"`);
    }
  }

  /**
   * Stream any byte stream (e.g. stdin) into a loose object. With `expect`, bytes that do not
   * hash to it are never installed: the temp file is removed and `mismatch()` thrown.
   */
  async writeStream(
    stream: ReadableStream<Uint8Array>,
    onProgress?: ProgressFn,
    check?: { readonly expect: Hash; readonly mismatch: () => Error },
  ): Promise<{ hash: Hash; size: number }> {
    const tmp = tempPath(this.#layout.tmp);
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
      if (check && hash !== check.expect) throw check.mismatch();
      await this.#install(tmp, hash);
      return { hash, size };
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      mapWriteError(err, "standard input");
    }
  }

  /**
   * Move a finished temp file into place as a loose object. One that exists is kept, its
   * time refreshed (see `ObjectStore.freshen()`), unless its size shows it damaged: then
   * the new bytes replace it, so writing the data again heals a truncated object.
   */
  async #install(tmp: string, hash: Hash): Promise<void> {
    const dest = this.path(hash);
    const dir = dest.slice(0, dest.lastIndexOf("/"));
    try {
      if (!this.#knownDirs.has(dir)) {
        await Deno.mkdir(dir, { recursive: true });
        this.#knownDirs.add(dir);
      }
      try {
        const there = await Deno.lstat(dest);
        // A file of another size than these bytes is a damaged copy (cut short or padded):
        // the new, hashed bytes take its place. One of the same size is kept.
        if (!there.isFile || there.size === (await Deno.lstat(tmp)).size) {
          await Deno.remove(tmp);
          await touch(dest);
          return;
        }
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
      await Deno.rename(tmp, dest);
    } catch (err) {
      throw await this.#damaged(err, hash);
    }
    await syncDir(dir);
  }

  /** Check one loose object by re-hashing its file. */
  async verify(hash: Hash): Promise<void> {
    const obj = await this.open(hash);
    if (!obj) throw new NotFoundError(`Cannot find object ${hash}`, { object: hash });
    const f = obj.file;
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
    if (hasher.hex() !== hash) throw corruptObject(hash, this.path(hash));
  }

  /** Delete a loose object (gc only); returns the bytes freed. */
  async remove(hash: Hash): Promise<number> {
    const p = this.path(hash);
    try {
      const st = await Deno.lstat(p);
      if (st.isDirectory) throw new Deno.errors.IsADirectory(p);
      await Deno.remove(p);
      return st.size;
    } catch (err) {
      throw await this.#damaged(err, hash);
    }
  }
}
