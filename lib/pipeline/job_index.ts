/**
 * The index of one pipeline's jobs, `jobs/<pipeline>/jobs.index`: every job id, ascending,
 * one fixed-width line each (32 hex digits and a newline, 33 bytes). Job ids start with
 * their creation time in milliseconds, so the index is in time order and its end holds the
 * newest jobs: `list job -n 20` reads its last lines, a job id prefix is found by binary
 * search, and the number of jobs is its size over 33, whatever the number of jobs.
 *
 * Consistency after a crash, without a scan: a job's id is added (under the index's lock)
 * before its record is first written, so the index never lacks a record it should name. A
 * crash between the two leaves an id with no record, which readers skip as they skip a
 * record removed; a crash during the append leaves a partial last line, which readers
 * ignore and the next writer cuts off. An index that is missing (a store from before it,
 * or removed), not a regular file (a link, say, which would hide or redirect it), empty
 * while the folder holds a record (a file truncated by hand or by a failing disk: checked
 * only while the index holds no line, so at no cost once it does), or damaged (not whole
 * lines of hex, or out of order) is rebuilt under the lock from the records in the folder
 * together with every well-formed line it still holds, so a rebuild racing a writer loses
 * no id. `checkJobIndex()` (`tusk verify`) compares the index with the records and
 * changes nothing.
 */
import { IntegrityError } from "../errors.ts";
import { wrongKindError } from "../store/damage.ts";
import { lockFile, writeFileAtomic } from "../store/fs_util.ts";
import { Layout } from "../store/layout.ts";
import { openOwn } from "../store/own_file.ts";

/** Bytes of one index line: a 32-hex job id and a newline. */
export const JOB_INDEX_LINE = 33;

/** Index lines read at once when walking it from the end. */
const CHUNK_LINES = 2048;

const NEWLINE = 10;
const ID = /^[0-9a-f]{32}$/;
const latin1 = new TextDecoder("latin1");
const ascii = new TextEncoder();

/** The id of the index line at `at` in `bytes`, or null when it is not a well-formed line. */
function lineAt(bytes: Uint8Array, at: number): string | null {
  if (bytes[at + 32] !== NEWLINE) return null;
  const id = latin1.decode(bytes.subarray(at, at + 32));
  return ID.test(id) ? id : null;
}

/** The bytes of `ids` as index lines. */
function encode(ids: readonly string[]): Uint8Array {
  return ascii.encode(ids.map((id) => id + "\n").join(""));
}

/**
 * A whole job index holding `ids` (any order): what a new store made in one go (a clone)
 * writes beside the records.
 */
export function encodeJobIndex(ids: readonly string[]): Uint8Array {
  for (const id of ids) {
    if (!ID.test(id)) throw new TypeError(`Cannot index job id "${id}": not 32 hex digits`);
  }
  return encode([...new Set(ids)].sort());
}

/** The index of `pipeline`'s jobs found damaged while read: the caller rebuilds it. */
class DamagedIndex extends Error {}

/** Reads and writes the job index of one pipeline (see the module's doc). */
export class JobIndex {
  readonly #layout: Layout;
  readonly #pipeline: string;
  readonly #tmp: string;

  constructor(layout: Layout, pipeline: string) {
    this.#layout = layout;
    this.#pipeline = pipeline;
    this.#tmp = layout.tmp;
  }

  /** The index file. */
  get path(): string {
    return this.#layout.jobIndex(this.#pipeline);
  }

  /**
   * Add `ids` (new jobs, before their records are written). Ids newer than the last are
   * appended; an older one (a job pulled from a remote, a clock stepped back) is merged in
   * and the index rewritten atomically. `durable` fsyncs the change.
   */
  async add(ids: readonly string[], options: { durable?: boolean } = {}): Promise<void> {
    await this.#named(() => this.#add(ids, options));
  }

  async #add(ids: readonly string[], options: { durable?: boolean }): Promise<void> {
    for (const id of ids) {
      if (!ID.test(id)) throw new TypeError(`Cannot index job id "${id}": not 32 hex digits`);
    }
    if (ids.length === 0) return;
    const sorted = [...new Set(ids)].sort();
    await this.#locked(async () => {
      const { health, size } = await this.#health();
      if (health !== "ok") return await this.#rebuild(sorted);
      if (await this.#append(sorted, size, options.durable ?? false)) return;
      const have = await this.#readAll();
      if (have === null) return await this.#rebuild(sorted);
      const known = new Set(have);
      const fresh = sorted.filter((id) => !known.has(id));
      if (fresh.length === 0) return;
      await writeFileAtomic(this.path, encode([...have, ...fresh].sort()), this.#tmp);
    });
  }

  /**
   * Append `sorted` when all are newer than the last id (a partial line a crash left is no
   * job's: it is cut off first); false when they are not, or the index is missing or its
   * last line damaged (the caller merges or rebuilds). `size` is the index's, as `#health()`
   * found it under the same lock. An index other names link to is first replaced by a copy
   * of itself (see `own_file.ts`).
   */
  async #append(sorted: readonly string[], size: number, durable: boolean): Promise<boolean> {
    let f: Deno.FsFile;
    try {
      f = await openOwn(this.path, { read: true, write: true }, this.#tmp);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
    try {
      const whole = size - (size % JOB_INDEX_LINE);
      if (whole > 0) {
        const buf = new Uint8Array(JOB_INDEX_LINE);
        await f.seek(whole - JOB_INDEX_LINE, Deno.SeekMode.Start);
        await readFull(f, buf);
        const last = lineAt(buf, 0);
        if (last === null || sorted[0]! <= last) return false;
      }
      if (whole !== size) await f.truncate(whole);
      await f.seek(whole, Deno.SeekMode.Start);
      const bytes = encode(sorted);
      for (let off = 0; off < bytes.length;) off += await f.write(bytes.subarray(off));
      if (durable) await f.syncData();
      return true;
    } finally {
      f.close();
    }
  }

  /** How many ids the index holds (a partial last line is not one). */
  async count(): Promise<number> {
    return await this.#named(() => this.#count());
  }

  async #count(): Promise<number> {
    await this.#ensure();
    try {
      return Math.floor((await Deno.stat(this.path)).size / JOB_INDEX_LINE);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return 0;
      throw err;
    }
  }

  /**
   * Every id, newest first, read from the end of the index in pieces (memory bounded
   * however many jobs). Each piece is checked (whole lines of ids, in order) before any of
   * it is handed on; a damaged index met on the way is rebuilt and the walk goes on below
   * the last id handed on. (Damage a crash cannot leave, such as a line moved, is found
   * where it is read, and by `checkJobIndex()`.)
   */
  async *newestFirst(): AsyncGenerator<string> {
    await this.#named(() => this.#ensure());
    let below: string | null = null;
    for (let round = 0;; round++) {
      try {
        for await (const id of this.#walk(below)) {
          below = id;
          yield id;
        }
        return;
      } catch (err) {
        if (!(err instanceof DamagedIndex) || round > 0) {
          throw await wrongKindError(err, this.#layout.root, this.path, "file");
        }
        await this.#named(() => this.#locked(() => this.#rebuild([])));
      }
    }
  }

  /** Ids below `below` (all when null), newest first. */
  async *#walk(below: string | null): AsyncGenerator<string> {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(this.path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return;
      throw err;
    }
    try {
      const size = (await f.stat()).size;
      let end = size - (size % JOB_INDEX_LINE);
      let newer: string | null = null;
      while (end > 0) {
        const start = Math.max(0, end - CHUNK_LINES * JOB_INDEX_LINE);
        const buf = new Uint8Array(end - start);
        await f.seek(start, Deno.SeekMode.Start);
        await readFull(f, buf);
        // The whole piece is checked before any of it is handed on.
        const ids: string[] = [];
        for (let at = buf.length - JOB_INDEX_LINE; at >= 0; at -= JOB_INDEX_LINE) {
          const id = lineAt(buf, at);
          if (id === null || (newer !== null && id >= newer)) throw new DamagedIndex();
          newer = id;
          ids.push(id);
        }
        for (const id of ids) if (below === null || id < below) yield id;
        end = start;
      }
    } finally {
      f.close();
    }
  }

  /** The ids that begin with `prefix`, ascending: a binary search, not a walk. */
  async withPrefix(prefix: string): Promise<string[]> {
    return await this.#named(() => this.#withPrefix(prefix));
  }

  async #withPrefix(prefix: string): Promise<string[]> {
    await this.#ensure();
    for (let round = 0;; round++) {
      try {
        return await this.#search(prefix);
      } catch (err) {
        if (!(err instanceof DamagedIndex) || round > 0) throw err;
        await this.#locked(() => this.#rebuild([]));
      }
    }
  }

  async #search(prefix: string): Promise<string[]> {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(this.path, { read: true });
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
    try {
      const lines = Math.floor((await f.stat()).size / JOB_INDEX_LINE);
      const buf = new Uint8Array(JOB_INDEX_LINE);
      const at = async (i: number): Promise<string> => {
        await f.seek(i * JOB_INDEX_LINE, Deno.SeekMode.Start);
        await readFull(f, buf);
        const id = lineAt(buf, 0);
        if (id === null) throw new DamagedIndex();
        return id;
      };
      // The first line not below `prefix`, then on while the lines begin with it.
      let lo = 0;
      let hi = lines;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((await at(mid)) < prefix) lo = mid + 1;
        else hi = mid;
      }
      const out: string[] = [];
      for (let i = lo; i < lines; i++) {
        const id = await at(i);
        if (!id.startsWith(prefix)) break;
        if (out.length && id <= out[out.length - 1]!) throw new DamagedIndex();
        out.push(id);
      }
      return out;
    } finally {
      f.close();
    }
  }

  /** Every id, ascending, or null when the index is damaged (or missing). */
  async #readAll(): Promise<string[] | null> {
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    const out: string[] = [];
    const whole = bytes.length - (bytes.length % JOB_INDEX_LINE);
    for (let at = 0; at < whole; at += JOB_INDEX_LINE) {
      const id = lineAt(bytes, at);
      if (id === null || (out.length && id <= out[out.length - 1]!)) return null;
      out.push(id);
    }
    return out;
  }

  /**
   * Every well-formed line of the index, in any order (what a rebuild keeps of it). Only a
   * regular file is read: a link is not followed (to a device it could be read forever).
   */
  async #salvage(): Promise<string[]> {
    let bytes: Uint8Array;
    try {
      if (!(await Deno.lstat(this.path)).isFile) return [];
      bytes = await Deno.readFile(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return [];
      throw err;
    }
    // Lines are found by their ends, so one torn line shifts nothing after it.
    const out: string[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== NEWLINE) continue;
      if (i - start === 32) {
        const id = latin1.decode(bytes.subarray(start, i));
        if (ID.test(id)) out.push(id);
      }
      start = i + 1;
    }
    return out;
  }

  /** The job ids of the records in the pipeline's folder. */
  records(): Promise<string[]> {
    try {
      return Promise.resolve(this.#recordIds(false));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The job ids of the records in the pipeline's folder, only the first found with `first`.
   * One synchronous listing: async iteration costs a round trip per entry.
   */
  #recordIds(first: boolean): string[] {
    const out: string[] = [];
    try {
      for (const e of Deno.readDirSync(this.#layout.jobDir(this.#pipeline))) {
        const id = Layout.jobOf(e.name);
        if (id === null || !ID.test(id)) continue;
        out.push(id);
        if (first) break;
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return out;
  }

  /** Rewrite the index from the records, what it still holds, and `more` (under the lock). */
  async #rebuild(more: readonly string[]): Promise<void> {
    const ids = new Set([...await this.records(), ...await this.#salvage(), ...more]);
    await writeFileAtomic(this.path, encode([...ids].sort()), this.#tmp);
  }

  /**
   * Whether the index can be read as it is: "ok", with its size; "missing" (no entry at its
   * path); or "damaged": not a regular file, or holding no line while the folder holds a
   * record (the folder is listed only then, so a pipeline's index with a job in it costs one
   * `lstat`).
   */
  async #health(): Promise<{ health: "ok" | "missing" | "damaged"; size: number }> {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(this.path);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { health: "missing", size: 0 };
      throw err;
    }
    if (!info.isFile) return { health: "damaged", size: 0 };
    const damaged = info.size < JOB_INDEX_LINE && this.#recordIds(true).length > 0;
    return { health: damaged ? "damaged" : "ok", size: info.size };
  }

  /**
   * Build the index when it is missing (a store from before it, or removed), and rebuild it
   * when it is not a regular file or is empty while records exist (see `#health()`).
   */
  async #ensure(): Promise<void> {
    const { health } = await this.#health();
    if (health === "ok") return;
    if (health === "missing") {
      try {
        await Deno.lstat(this.#layout.jobDir(this.#pipeline));
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) return;
        throw err;
      }
    }
    await this.#locked(async () => {
      if ((await this.#health()).health !== "ok") await this.#rebuild([]);
    });
  }

  /** Rebuild the index from the records and what it holds (the repair of a damaged index). */
  async rebuild(): Promise<void> {
    await this.#named(() => this.#locked(() => this.#rebuild([])));
  }

  /** Run `fn`; an entry of the wrong kind on the index's way is named as damage. */
  async #named<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw await wrongKindError(err, this.#layout.root, this.path, "file");
    }
  }

  /**
   * Run `fn` holding the index's lock, in the pipeline's folder: made when the lock cannot be
   * opened for want of it (so a write to a folder that is there makes no `mkdir`).
   */
  async #locked<T>(fn: () => Promise<T>): Promise<T> {
    const path = this.#layout.jobIndexLock(this.#pipeline);
    let lock: Deno.FsFile;
    try {
      lock = await lockFile(path, true);
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      await Deno.mkdir(this.#layout.jobDir(this.#pipeline), { recursive: true });
      lock = await lockFile(path, true);
    }
    try {
      return await fn();
    } finally {
      lock.close();
    }
  }
}

/** Read `buf.length` bytes from `f`'s position; fewer only at the end of the file. */
async function readFull(f: Deno.FsFile, buf: Uint8Array): Promise<void> {
  let got = 0;
  while (got < buf.length) {
    const n = await f.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  if (got < buf.length) throw new DamagedIndex();
}

/** What `checkJobIndex()` found wrong: a record the index does not name, or damage. */
export function jobIndexError(
  layout: Layout,
  pipeline: string,
  problem: { job?: string; damaged?: "lines" | "kind" },
): IntegrityError {
  const file = layout.jobIndex(pipeline);
  const repair = `remove "${file}": tusk rebuilds it from the job records`;
  const listing = `(a listing such as "tusk list job -p ${pipeline}" also rebuilds it)`;
  const what = problem.damaged === "kind"
    ? `is damaged (not a regular file): ${repair} ${listing}`
    : problem.damaged === "lines"
    ? `is damaged (not whole lines of job ids in order): ${repair} ${listing}`
    : `does not name job ${problem.job}, whose record is in the store (listings would miss ` +
      `it): ${repair}`;
  return new IntegrityError(`The job index of pipeline "${pipeline}" ${what}`, {
    pipeline,
    file,
    problem: "job-index",
    repair,
    ...(problem.job ? { job: problem.job } : {}),
    ...(problem.damaged ? { damage: problem.damaged } : {}),
  });
}

/**
 * Check the job index of `pipeline` against its records: it must be a regular file of
 * whole lines in order naming every record. An id with no record is allowed (a job whose
 * record a crash kept from being written, or that was removed): listings skip it. Nothing
 * is changed: the damage is reported, and repaired by removing the index or by the next
 * listing that meets it.
 */
export async function checkJobIndex(layout: Layout, pipeline: string): Promise<void> {
  const index = new JobIndex(layout, pipeline);
  const records = await index.records();
  try {
    if (!(await Deno.lstat(index.path)).isFile) {
      throw jobIndexError(layout, pipeline, { damaged: "kind" });
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    // No index yet: the next listing builds it from the records.
    return;
  }
  const bytes = await Deno.readFile(index.path);
  const named = new Set<string>();
  let prev = "";
  const whole = bytes.length - (bytes.length % JOB_INDEX_LINE);
  for (let at = 0; at < whole; at += JOB_INDEX_LINE) {
    const id = lineAt(bytes, at);
    if (id === null || id <= prev) throw jobIndexError(layout, pipeline, { damaged: "lines" });
    named.add(id);
    prev = id;
  }
  for (const id of records.sort()) {
    if (!named.has(id)) throw jobIndexError(layout, pipeline, { job: id });
  }
}
