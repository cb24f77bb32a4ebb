/**
 * A remote in a folder (a mounted disk, a network share): each key is a file under it. A
 * write goes to `tmp/` first, is fsynced and renamed into place, so a reader never sees half
 * a file; `create()` links the finished temp file to its key, which fails when the key
 * exists: the one atomic test-and-set a folder offers without a lock, which two pushes
 * (two processes, two machines on one share) decide on.
 */
import { RemoteError } from "../errors.ts";
import { mapWriteError, syncDir, tempName } from "../store/fs_util.ts";
import type { RemoteBackend, RemoteKey } from "./backend.ts";

/** The folder of a remote's temp files (its name never collides with a key's). */
const TMP = "tmp";

/** A remote in a folder. */
export class FolderBackend implements RemoteBackend {
  readonly url: string;
  readonly #root: string;
  #requests = 0;
  readonly #made = new Set<string>();

  constructor(root: string) {
    this.#root = root;
    this.url = root;
  }

  get requests(): number {
    return this.#requests;
  }

  #path(key: string): string {
    return `${this.#root}/${key}`;
  }

  /**
   * The path of `key` when it is a regular file, null when there is none. Anything else (a
   * link to a device, a FIFO, a folder) is refused by name: reading it could hang or never end.
   */
  #file(key: string): string | null {
    const path = this.#path(key);
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    if (!info.isFile) {
      throw new RemoteError(
        `Remote "${this.url}": "${key}" is not a regular file (a device, a pipe or a folder, or a ` +
          "link to one); nothing was changed here",
        { remote: this.url, key, problem: "not-a-file" },
      );
    }
    return path;
  }

  // Reads are synchronous calls: on a local disk they cost a fraction of asynchronous ones,
  // and a remote's reads (log entries, indexes, packs) are made one after another anyway.

  get(key: string): Promise<Uint8Array | null> {
    this.#requests++;
    try {
      const path = this.#file(key);
      return Promise.resolve(path === null ? null : Deno.readFileSync(path));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return Promise.resolve(null);
      return Promise.reject(err);
    }
  }

  getRange(key: string, offset: number, length: number): Promise<Uint8Array | null> {
    this.#requests++;
    let f: Deno.FsFile;
    try {
      const path = this.#file(key);
      if (path === null) return Promise.resolve(null);
      f = Deno.openSync(path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return Promise.resolve(null);
      return Promise.reject(err);
    }
    try {
      // No more than the file holds: a remote's index may claim any length.
      const size = f.statSync().size;
      f.seekSync(Math.min(offset, size), Deno.SeekMode.Start);
      const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      let off = 0;
      while (off < buf.length) {
        const n = f.readSync(buf.subarray(off));
        if (n === null || n === 0) break;
        off += n;
      }
      return Promise.resolve(buf.subarray(0, off));
    } catch (err) {
      return Promise.reject(err);
    } finally {
      f.close();
    }
  }

  async stream(key: string): Promise<ReadableStream<Uint8Array> | null> {
    this.#requests++;
    const path = this.#file(key);
    if (path === null) return null;
    try {
      return (await Deno.open(path, { read: true })).readable;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
  }

  /** A finished, fsynced temp file that `fill` wrote. */
  async #temp(fill: (f: Deno.FsFile) => Promise<void>): Promise<string> {
    const dir = this.#path(TMP);
    await this.#mkdir(dir);
    const tmp = `${dir}/${tempName()}`;
    try {
      const f = await Deno.open(tmp, { write: true, createNew: true });
      try {
        await fill(f);
        await f.sync();
      } finally {
        f.close();
      }
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      mapWriteError(err, `the remote "${this.url}"`);
    }
    return tmp;
  }

  async #mkdir(dir: string): Promise<void> {
    if (this.#made.has(dir)) return;
    await Deno.mkdir(dir, { recursive: true });
    this.#made.add(dir);
  }

  async #place(tmp: string, key: string, exclusive: boolean): Promise<boolean> {
    const dest = this.#path(key);
    const dir = dest.slice(0, dest.lastIndexOf("/"));
    try {
      await this.#mkdir(dir);
      if (exclusive) {
        try {
          await Deno.link(tmp, dest);
        } catch (err) {
          if (err instanceof Deno.errors.AlreadyExists) return false;
          throw err;
        }
      } else {
        await Deno.rename(tmp, dest);
      }
      await syncDir(dir);
      return true;
    } catch (err) {
      mapWriteError(err, `the remote "${this.url}"`);
    } finally {
      await Deno.remove(tmp).catch(() => {});
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.#requests++;
    const tmp = await this.#temp(async (f) => {
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
    });
    await this.#place(tmp, key, false);
  }

  async putFile(key: string, path: string, _size: number): Promise<void> {
    this.#requests++;
    const dir = this.#path(TMP);
    await this.#mkdir(dir);
    const tmp = `${dir}/${tempName()}`;
    try {
      await Deno.copyFile(path, tmp);
      const f = await Deno.open(tmp, { read: true, write: true });
      try {
        await f.sync();
      } finally {
        f.close();
      }
    } catch (err) {
      await Deno.remove(tmp).catch(() => {});
      mapWriteError(err, `the remote "${this.url}"`);
    }
    await this.#place(tmp, key, false);
  }

  async create(key: string, bytes: Uint8Array): Promise<boolean> {
    this.#requests++;
    const tmp = await this.#temp(async (f) => {
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
    });
    return await this.#place(tmp, key, true);
  }

  list(prefix: string): Promise<RemoteKey[]> {
    this.#requests++;
    const out: RemoteKey[] = [];
    const walk = (dir: string, rel: string) => {
      let entries: Deno.DirEntry[];
      try {
        entries = [...Deno.readDirSync(dir)];
      } catch (err) {
        if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
          return;
        }
        throw err;
      }
      for (const e of entries) {
        const key = `${rel}${e.name}`;
        if (rel === "" && e.name === TMP) continue;
        if (e.isDirectory) walk(`${dir}/${e.name}`, `${key}/`);
        else if (e.isFile) out.push({ key, size: Deno.statSync(`${dir}/${e.name}`).size });
      }
    };
    try {
      walk(prefix ? this.#path(prefix.replace(/\/$/, "")) : this.#root, prefix);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve(out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)));
  }

  close(): void {}
}
