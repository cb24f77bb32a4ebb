/**
 * The files of one job in the store, saved and read as one: its record,
 * `jobs/<pipeline>/<id>.json`, replaced atomically at each save and naming how far its datum
 * log goes, and that log, `<id>.datums`, appended to as the job runs (`_datum_log.ts`) and
 * written anew with its datums alone at a finished job's end. Private to `jobs.ts`.
 */
import { IntegrityError } from "../errors.ts";
import { removeCommand, wrongKindError } from "../store/damage.ts";
import { mapWriteError, syncDir, tempPath, writeAll } from "../store/fs_util.ts";
import type { Store } from "../store/store.ts";
import { JobIndex } from "./job_index.ts";
import { isFinal } from "./states.ts";
import {
  appendDatumLog,
  assertLogFile,
  DamagedLog,
  type DatumLogHead,
  forgetSaved,
  lastSavedHead,
  readDatumLog,
  stampSaved,
} from "./_datum_log.ts";
import { type Header, readHeader, readRecordHead } from "./_record_file.ts";
import { goneWithPipeline } from "./_pipeline_gone.ts";
import { isJobRecord, type JobRecord } from "./job_record.ts";

const utf8 = new TextEncoder();

/** Saves and reads the job records of a store, each with its datum log. */
export class JobFiles {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * The error to throw for `err`, raised using `path` (a `want` under the store): a store
   * entry of the wrong kind on the way is named as damage; `err` otherwise.
   */
  async #damaged(err: unknown, path: string, want: "file" | "folder"): Promise<unknown> {
    return await wrongKindError(err, this.#store.root, path, want);
  }

  /**
   * Save a job record (`durable` fsyncs it): its datums go to its datum log, only those that
   * changed since this process last saved the job appended (see `_datum_log.ts`), then the
   * record itself, the job without its datums and naming how far its log goes, replaces the
   * one before atomically. A new job's id goes into its pipeline's job index first, so the
   * index never lacks a record. A job this process saved before whose pipeline has been
   * deleted since (its record gone with the pipeline's folder) is not saved: nothing is written.
   */
  async save(job: JobRecord, options: { durable?: boolean } = {}): Promise<void> {
    // Its pipeline deleted meanwhile: its records went with it (see `_pipeline_gone.ts`).
    if (await goneWithPipeline(this.#store, job)) return;
    const { layout } = this.#store;
    const dir = layout.jobDir(job.pipeline);
    await Deno.mkdir(dir, { recursive: true }).catch(async (err) => {
      throw await this.#damaged(err, dir, "folder");
    });
    const record = layout.job(job.pipeline, job.id);
    const log = layout.datumLog(job.pipeline, job.id);
    const durable = options.durable === true;
    let base = await lastSavedHead(record, job);
    if (!base) {
      const onDisk = await readHeader(record).catch((err) => {
        if (err instanceof Deno.errors.NotFound) return null;
        // A record that cannot be read names no log: it is written afresh.
        return { head: null };
      });
      if (!onDisk) await new JobIndex(layout, job.pipeline).add([job.id], options);
      base = onDisk?.head ?? null;
    }
    const tmp = durable ? tempPath(layout.tmp) : `${layout.tmp}/${Deno.pid}.job.${job.id}.tmp`;
    // A job that ends with a log of many lines since overwritten (a datum's line as planned,
    // then as it ended: twice a job's datums when all of them run) gets a log of its datums
    // alone, written beside it and renamed over it just before its record: what the jobs
    // planned from it read. A crash between the two renames leaves a log that is not the one
    // its record names: damaged, never read otherwise.
    const compact = durable && isFinal(job.state) && base !== null && job.datums.length > 0 &&
        base.lines > base.count + 1 + base.count / COMPACT_SHARE
      ? tempPath(layout.tmp)
      : null;
    try {
      await assertLogFile(log);
      const head = compact
        ? await appendDatumLog(compact, job, null, true, layout.tmp)
        : await appendDatumLog(log, job, base, durable, layout.tmp);
      const { datums: _, ...rest } = job;
      const bytes = utf8.encode(JSON.stringify({ ...rest, datumLog: head }));
      const f = await Deno.open(tmp, { write: true, create: true, truncate: true });
      try {
        await writeAll(f, bytes);
        if (durable) await f.syncData();
      } finally {
        f.close();
      }
      if (compact) await Deno.rename(compact, log);
      await Deno.rename(tmp, record);
      await stampSaved(record, job);
    } catch (err) {
      forgetSaved(job);
      await Deno.remove(tmp).catch(() => {});
      if (compact) await Deno.remove(compact).catch(() => {});
      if (err instanceof DamagedLog) throw this.#damagedRecord(job.pipeline, job.id, true);
      mapWriteError(err, record);
    }
    if (durable) await syncDir(dir);
  }

  /**
   * One job record. A damaged one (not JSON, or not a job record) is an IntegrityError
   * naming its file and the remedy: removing it forgets that job alone, since outputs live
   * in commits and the datum index, and its pipeline runs a new job where its inputs need
   * one.
   */
  async read(pipeline: string, id: string): Promise<JobRecord> {
    const file = this.#store.layout.job(pipeline, id);
    const log = this.#store.layout.datumLog(pipeline, id);
    const damaged = (split: boolean) => this.#damagedRecord(pipeline, id, split);
    const readRecord = async (): Promise<Header> => {
      try {
        return await readHeader(file);
      } catch (err) {
        if (err instanceof SyntaxError) throw damaged(false);
        throw await this.#damaged(err, file, "file");
      }
    };
    let read = await readRecord();
    let rereads = 0;
    while (true) {
      const { record, head } = read;
      if (head === null) {
        if (!isJobRecord(record)) throw damaged(false);
        return record;
      }
      // Checked with its datums still empty: `readDatumLog()` checks each datum it reads.
      if (!isJobRecord(record)) throw damaged(true);
      try {
        record.datums = await readDatumLog(log, head, id);
        return record;
      } catch (err) {
        if (!(err instanceof DamagedLog)) throw await this.#damaged(err, log, "file");
      }
      // A log that is not what the record said may be one a save rewrote (a finished job's)
      // since the record was read, its record about to be replaced too (the two renames are
      // a moment apart): read the record again, a moment later, until it changes.
      do {
        if (++rereads > REREADS) throw damaged(true);
        await new Promise((resolve) => setTimeout(resolve, REREAD_MS * rereads));
        read = await readRecord();
      } while (sameHead(read.head, head));
    }
  }

  /**
   * The error for the damaged record of job `id` of `pipeline`, naming its file (and its
   * datum log, when `split`, with a command that removes it as a file or a folder) and the
   * remedy: removing them forgets that job alone.
   */
  #damagedRecord(pipeline: string, id: string, split: boolean): IntegrityError {
    const file = this.#store.layout.job(pipeline, id);
    const log = this.#store.layout.datumLog(pipeline, id);
    return new IntegrityError(
      `The record of job ${id} of pipeline "${pipeline}" is damaged: remove "${file}"${
        split ? ` and "${log}" (either may be a folder: ${removeCommand([file, log])})` : ""
      } to forget that job (commits and other jobs are untouched; the pipeline runs a new ` +
        "job if its inputs need one)",
      { job: id, pipeline, file },
    );
  }

  /**
   * The record of a final job without its datums (`datums` empty): its file alone, its log
   * unread. A record of the single form (its datums in it) is read from its start alone: it
   * was written with its datums last (`recordPieces()`), so what comes before them is the
   * whole job but for its datums. A record of an unfinished job, or one whose datums are not
   * last (an older version wrote its fields in another order), or that cannot be read so, is
   * read whole, as `read()` reads it (and refused as it is).
   */
  async readHead(pipeline: string, id: string): Promise<JobRecord> {
    const file = this.#store.layout.job(pipeline, id);
    const head = await readRecordHead(file).catch(() => null);
    if (head && !isFinal(head.state)) return await this.read(pipeline, id);
    return head ?? await this.read(pipeline, id);
  }
}

/**
 * A finished job's log is written anew with its datums alone when the lines overwritten in it
 * are more than its datums over this (a quarter of them).
 */
const COMPACT_SHARE = 4;

/** How many times a record is read again when its log is not what it names. */
const REREADS = 3;

/** How long before a record is read again, times the reads so far (ms). */
const REREAD_MS = 5;

/** True when `a` and `b` name the same extent of a datum log. */
function sameHead(a: DatumLogHead | null, b: DatumLogHead): boolean {
  return a !== null && a.count === b.count && a.lines === b.lines && a.bytes === b.bytes;
}
