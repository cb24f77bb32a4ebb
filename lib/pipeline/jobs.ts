/**
 * Job and datum records, kept in the store beside the ledger: `jobs/<pipeline>/<id>.json`
 * (one small file per job, replaced atomically at each save, naming how far its datum log
 * goes), `jobs/<pipeline>/<id>.datums` (the job's datums, appended to: see `_datum_log.ts`),
 * `jobs/<pipeline>/jobs.index` (every job id in order, so listings read the newest jobs
 * without listing the folder: see `job_index.ts`) and `jobs/<pipeline>/datums.jsonl` (an
 * append-only index of datums that succeeded: datum hash → output tree, with its mark:
 * `datum_index.ts`), which is what lets a later job skip a datum and reuse its output.
 * The record and its log are saved and read by `_job_files.ts`; the stop and re-run requests
 * beside them are `_job_requests.ts`'s.
 */
import { IntegrityError, InvalidArgumentError, NotFoundError } from "../errors.ts";
import { wrongKindError } from "../store/damage.ts";
import type { Hash } from "../store/hash.ts";
import { writeAll } from "../store/fs_util.ts";
import { openOwn } from "../store/own_file.ts";
import { JobIndex } from "./job_index.ts";
import {
  appendDatumEntries,
  type DatumIndexAfter,
  datumIndexAfter,
  dropDatumEntries,
  markDatumIndex,
  readDatumIndex,
} from "./datum_index.ts";
import { JobFiles } from "./_job_files.ts";
import { JobRequests } from "./_job_requests.ts";
import type { Store } from "../store/store.ts";
import {
  type DamagedJob,
  type DatumIndexEntry,
  type JobRecord,
  type JobScan,
  parseJobRef,
  type RequestKind,
  type RerunRequest,
} from "./job_record.ts";

export type { DatumIndexAfter } from "./datum_index.ts";
export {
  type DamagedJob,
  type DatumIndexEntry,
  type DatumRecord,
  type JobRecord,
  type JobRef,
  type JobScan,
  MIN_JOB_PREFIX,
  newJobId,
  parseJobRef,
  recordPieces,
  type RequestKind,
  type RerunRequest,
} from "./job_record.ts";

const utf8 = new TextEncoder();

/** Reads and writes job records and the datum index of a store. */
export class JobStore {
  readonly #store: Store;
  readonly #files: JobFiles;
  readonly #requests: JobRequests;

  constructor(store: Store) {
    this.#store = store;
    this.#files = new JobFiles(store);
    this.#requests = new JobRequests(store);
  }

  /** The folder of every pipeline's job records, and of the requests beside them. */
  get root(): string {
    return this.#store.layout.jobs;
  }

  #dir(pipeline: string): string {
    return this.#store.layout.jobDir(pipeline);
  }

  /**
   * The error to throw for `err`, raised using `path` (a `want` under the store): a store
   * entry of the wrong kind on the way is named as damage; `err` otherwise.
   */
  async #damaged(err: unknown, path: string, want: "file" | "folder"): Promise<unknown> {
    return await wrongKindError(err, this.#store.root, path, want);
  }

  /** The job index of `pipeline`. */
  index(pipeline: string): JobIndex {
    return new JobIndex(this.#store.layout, pipeline);
  }

  /**
   * Save a job record (`durable` fsyncs it): its datums to its datum log, then the record
   * itself (see `JobFiles.save()`).
   */
  async save(job: JobRecord, options: { durable?: boolean } = {}): Promise<void> {
    await this.#files.save(job, options);
  }

  /**
   * Load one job by its id or a unique prefix of it (see `parseJobRef()`); `pipeline`
   * narrows the search. A prefix that several jobs share is refused, naming them.
   */
  async load(id: string, pipeline?: string): Promise<JobRecord> {
    const ref = parseJobRef(pipeline === undefined ? id : `${pipeline}@${id}`);
    const pipelines = ref.pipeline ? [ref.pipeline] : await this.pipelines();
    const found: { p: string; name: string }[] = [];
    for (const p of pipelines) {
      if (ref.id.length === 32) {
        // A whole id names one record: read it without listing the folder.
        try {
          return await this.#files.read(p, ref.id);
        } catch (err) {
          if (!(err instanceof Deno.errors.NotFound)) throw err;
        }
        continue;
      }
      for (const name of await this.index(p).withPrefix(ref.id)) found.push({ p, name });
    }
    if (found.length > 1) {
      const some = found.slice(0, 5).map((f) => `${f.p}@${f.name}`).join(", ");
      throw new InvalidArgumentError(
        `Job id prefix "${ref.id}" matches ${found.length} jobs (${some}${
          found.length > 5 ? ", …" : ""
        }): give more of the id`,
        { job: id, matches: found.length },
      );
    }
    const hit = found[0];
    if (hit) {
      try {
        return await this.#files.read(hit.p, hit.name);
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    throw new NotFoundError(
      `Cannot find job "${ref.id}"${ref.pipeline ? ` of pipeline "${ref.pipeline}"` : ""}`,
      { job: id },
    );
  }

  /**
   * Ask the scheduler to re-run `job` (the newest of its pipeline, finished) as a new job:
   * a file beside its record, which the scheduler takes at its next pass.
   */
  async requestRerun(job: JobRecord, request: RerunRequest): Promise<void> {
    await this.#requests.requestRerun(job, request);
  }

  /** True while a re-run of `job` is asked for and not yet taken. */
  async rerunRequested(job: JobRecord): Promise<boolean> {
    return await this.#requests.rerunRequested(job);
  }

  /** Take the re-run request of `job`, if any: it is removed, whatever the caller does. */
  async takeRerun(job: JobRecord): Promise<RerunRequest | null> {
    return await this.#requests.takeRerun(job);
  }

  /** Ask the process running `job` to stop it (`tusk stop job`): a file beside its record. */
  async requestStop(job: JobRecord): Promise<void> {
    await this.#requests.requestStop(job);
  }

  /** True while a stop of `job` is asked for (`tusk stop job`) and not yet dealt with. */
  async stopRequested(job: JobRecord): Promise<boolean> {
    return await this.#requests.stopRequested(job);
  }

  /** Forget the stop request of `job`, if any: the job has ended. */
  async clearStop(job: JobRecord): Promise<void> {
    await this.#requests.clearStop(job);
  }

  /**
   * The request a file at `path` (as a file-system event names it) holds: a stop or a
   * re-run of a job, by the job's id; null for any other file.
   */
  requestAt(path: string): { kind: RequestKind; job: string } | null {
    return this.#requests.requestAt(path);
  }

  /** Pipelines that have job records. */
  async pipelines(): Promise<string[]> {
    const out: string[] = [];
    try {
      for await (const e of Deno.readDir(this.root)) {
        if (e.isDirectory) out.push(e.name);
      }
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    return out.sort();
  }

  /** How many jobs `pipeline` has (by its job index: no record is read). */
  async count(pipeline: string): Promise<number> {
    return await this.index(pipeline).count();
  }

  /**
   * The ids of the jobs of one pipeline or all, newest first, read from the job indexes as
   * they are consumed (the pipelines' newest merged): memory bounded however many jobs.
   */
  async *ids(pipeline?: string): AsyncGenerator<{ p: string; id: string }> {
    const walks = (pipeline ? [pipeline] : await this.pipelines()).map((p) => ({
      p,
      walk: this.index(p).newestFirst(),
      head: null as string | null,
    }));
    try {
      for (const w of walks) w.head = (await w.walk.next()).value ?? null;
      while (true) {
        let best: (typeof walks)[number] | null = null;
        for (const w of walks) if (w.head !== null && (!best || w.head > best.head!)) best = w;
        if (!best) return;
        yield { p: best.p, id: best.head! };
        best.head = (await best.walk.next()).value ?? null;
      }
    } finally {
      for (const w of walks) await w.walk.return(undefined);
    }
  }

  /**
   * The ids of the records in the job folders of one pipeline or all, newest first: found by
   * listing the folders, not through the job indexes, which are neither read nor repaired.
   */
  async *#folderIds(pipeline?: string): AsyncGenerator<{ p: string; id: string }> {
    const all: { p: string; id: string }[] = [];
    for (const p of pipeline ? [pipeline] : await this.pipelines()) {
      for (const id of await this.index(p).records()) all.push({ p, id });
    }
    yield* all.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  }

  /**
   * Jobs newest first, of one pipeline or all, read as they are consumed, a few records
   * ahead (never more than `limit` in all). A damaged record is handed to `onDamaged` and
   * skipped; without it, its IntegrityError ends the walk. A job the index names whose
   * record is gone (removed, or a crash kept it from being written) is skipped.
   */
  async *records(
    options: {
      pipeline?: string;
      onDamaged?: (damaged: DamagedJob) => void;
      /** The most readable records the caller takes (reads ahead stop there). */
      limit?: number;
      /**
       * Read each final job's record without its datums (`datums` empty), for a caller that
       * looks only at the job (its state, trigger, inputs); an unfinished job is read whole.
       */
      heads?: boolean;
    } & ByFolder = {},
  ): AsyncGenerator<JobRecord> {
    const ids = options.byFolder ? this.#folderIds(options.pipeline) : this.ids(options.pipeline);
    type Read = { record: JobRecord } | { err: unknown };
    const pending: { p: string; id: string; read: Promise<Read> }[] = [];
    let idsDone = false;
    let yielded = 0;
    try {
      while (true) {
        const want = Math.min(READ_AHEAD, (options.limit ?? Infinity) - yielded);
        while (!idsDone && pending.length < Math.max(1, want)) {
          const next = await ids.next();
          if (next.done) {
            idsDone = true;
            break;
          }
          const { p, id } = next.value;
          const read = (options.heads ? this.#files.readHead(p, id) : this.#files.read(p, id)).then(
            (record) => ({ record }),
            (err) => ({ err }),
          );
          pending.push({ p, id, read });
        }
        const head = pending.shift();
        if (!head) return;
        const got = await head.read;
        if ("record" in got) {
          yielded++;
          yield got.record;
          continue;
        }
        const err = got.err;
        if (err instanceof Deno.errors.NotFound) continue;
        if (!(err instanceof IntegrityError) || !options.onDamaged) throw err;
        const { p, id } = head;
        options.onDamaged({ pipeline: p, id, file: this.#store.layout.job(p, id), error: err });
      }
    } finally {
      await ids.return(undefined);
    }
  }

  /**
   * Jobs newest first, of one pipeline or all; at most `limit`. A damaged record fails the
   * listing (its IntegrityError); `scan()` sets such records aside instead.
   */
  async list(
    options: { pipeline?: string; limit?: number } & ByFolder = {},
  ): Promise<JobRecord[]> {
    const out: JobRecord[] = [];
    const how = { ...pick(options), ...limitOf(options), ...byFolderOf(options) };
    for await (const job of this.records(how)) {
      out.push(job);
      if (options.limit && out.length >= options.limit) break;
    }
    return out;
  }

  /**
   * Jobs newest first, as `list()` gives them, with every damaged record set aside in
   * `damaged` rather than thrown: one bad record holds up no listing. `limit` counts the
   * readable records; the damaged ones met before the limit is reached are all reported.
   */
  async scan(
    options: { pipeline?: string; limit?: number; heads?: boolean } & ByFolder = {},
  ): Promise<JobScan> {
    const jobs: JobRecord[] = [];
    const damaged: DamagedJob[] = [];
    const onDamaged = (d: DamagedJob) => damaged.push(d);
    const how = {
      ...pick(options),
      ...limitOf(options),
      ...byFolderOf(options),
      ...(options.heads ? { heads: true } : {}),
      onDamaged,
    };
    for await (const job of this.records(how)) {
      jobs.push(job);
      if (options.limit && jobs.length >= options.limit) break;
    }
    return { jobs, damaged };
  }

  /** The newest job of a pipeline, if any. */
  async latest(pipeline: string): Promise<JobRecord | null> {
    return (await this.list({ pipeline, limit: 1 }))[0] ?? null;
  }

  /** The datum index of a pipeline: datum hash → its latest successful output. */
  async datumIndex(pipeline: string): Promise<Map<Hash, DatumIndexEntry>> {
    return await readDatumIndex(
      this.#store.layout,
      pipeline,
      (err, path) => this.#damaged(err, path, "file"),
    );
  }

  /**
   * The datum index entries one pipeline made: those of an earlier pipeline of the same
   * name (deleted since) are left out.
   */
  async datumIndexOf(
    p: { readonly name: string; readonly createdSeq?: number },
  ): Promise<Map<Hash, DatumIndexEntry>> {
    const index = await this.datumIndex(p.name);
    for (const [hash, e] of index) if (e.pipelineSeq !== p.createdSeq) index.delete(hash);
    return index;
  }

  /** Note how far the datum index of `pipeline` goes as job `id` ends (see `datum_index.ts`). */
  async markDatumIndex(pipeline: string, id: string): Promise<void> {
    await markDatumIndex(this.#store.layout, pipeline, id);
  }

  /**
   * The datum index of `p` as it stands now, told apart from what it held when job `id`
   * ended; null when it must be read whole (see `datum_index.ts`).
   */
  async datumIndexAfter(
    p: { readonly name: string; readonly createdSeq?: number },
    id: string,
  ): Promise<DatumIndexAfter | null> {
    return await datumIndexAfter(this.#store.layout, p, id);
  }

  /**
   * Note that runs of `keys` (datum ids, or a step of the job such as "finish") of job `id`
   * are starting, so that a run which takes this process down with it still counts against
   * its tries when the job resumes. The line is written, not fsynced: a process that dies
   * leaves it in the page cache, and only a crash of the whole machine can lose one (which
   * costs one extra try). A file other names link to is first replaced by a copy of itself
   * (see `own_file.ts`).
   */
  async noteAttempts(pipeline: string, id: string, keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await Deno.mkdir(this.#dir(pipeline), { recursive: true });
    const { layout } = this.#store;
    const f = await openOwn(
      layout.attempts(pipeline, id),
      { append: true, create: true },
      layout.tmp,
    );
    try {
      await writeAll(f, utf8.encode(keys.map((k) => k + "\n").join("")));
    } finally {
      f.close();
    }
  }

  /**
   * Take back one noted run of each of `keys` of job `id`: those runs were ended by the
   * process running them as it stopped on a signal (Ctrl-C, SIGTERM), not by anything the
   * run did, so they count no try. A line `-<key>` is appended after the run's own.
   */
  async takeBackAttempts(pipeline: string, id: string, keys: readonly string[]): Promise<void> {
    await this.noteAttempts(pipeline, id, keys.map((k) => `-${k}`));
  }

  /** How many runs of each key `noteAttempts()` noted for job `id` and were not taken back. */
  async attempts(pipeline: string, id: string): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    let text = "";
    try {
      text = await Deno.readTextFile(this.#store.layout.attempts(pipeline, id));
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    for (const line of text.split("\n")) {
      if (!line) continue;
      const back = line.startsWith("-");
      const key = back ? line.slice(1) : line;
      const n = (counts.get(key) ?? 0) + (back ? -1 : 1);
      if (n > 0) counts.set(key, n);
      else counts.delete(key);
    }
    return counts;
  }

  /** Forget the noted runs of job `id` (its datums are run afresh). */
  async clearAttempts(pipeline: string, id: string): Promise<void> {
    await Deno.remove(this.#store.layout.attempts(pipeline, id)).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }

  /** Append datum index entries and fsync them. */
  async appendDatums(pipeline: string, entries: readonly DatumIndexEntry[]): Promise<void> {
    await appendDatumEntries(
      this.#store.layout,
      pipeline,
      entries,
      (err, path) => this.#damaged(err, path, "file"),
    );
  }

  /**
   * Drop every datum index entry of `pipeline` for the datum hashes `datums` (stale entries
   * whose output is gone: those datums run again), rewriting the index atomically.
   */
  async dropDatums(pipeline: string, datums: ReadonlySet<Hash>): Promise<void> {
    await dropDatumEntries(
      this.#store.layout,
      pipeline,
      datums,
      (err, path) => this.#damaged(err, path, "file"),
    );
  }

  /** Remove a pipeline's job records (after the pipeline is deleted). */
  async removePipeline(pipeline: string): Promise<void> {
    await Deno.remove(this.#dir(pipeline), { recursive: true }).catch(() => {});
  }
}

/** Job records read ahead of the one a listing takes. */
const READ_AHEAD = 16;

/** `{ limit }` of `options`, when given (0 is no limit). */
function limitOf(options: { limit?: number }): { limit?: number } {
  return options.limit ? { limit: options.limit } : {};
}

/**
 * How a listing finds its jobs: through the job indexes (the default: no folder is listed),
 * or `byFolder`, by listing the job folders, for a check or a collection that must see every
 * record whatever the indexes say and change none of them (`verify`, `gc`).
 */
export interface ByFolder {
  byFolder?: boolean;
}

/** `{ byFolder }` of `options`, when set. */
function byFolderOf(options: ByFolder): ByFolder {
  return options.byFolder ? { byFolder: true } : {};
}

/** `{ pipeline }` of `options`, when given. */
function pick(options: { pipeline?: string }): { pipeline?: string } {
  return options.pipeline ? { pipeline: options.pipeline } : {};
}
