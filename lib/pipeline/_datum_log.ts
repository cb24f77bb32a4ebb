/**
 * A job's datums, kept apart from its record: `jobs/<pipeline>/<id>.datums`, JSON lines,
 * only ever appended to (and cut back to what the record names). A line is a reset,
 * `{"count":N,"job":"<id>"}` (job `<id>` now has N datums, none known yet: the id, so that
 * a log renamed in from another job is not read as this one's), or a datum's record,
 * `[i,{…}]` (datum `i` is now this). The record (`<id>.json`) says how far the log goes:
 * `datumLog: {count, lines, bytes}`. What lies past `bytes` is an append a crash cut short,
 * never read and cut off by the next save; a log that ends before `bytes`, or whose lines
 * up to it are not those the record counts, is damaged. So a crash at any instant leaves the
 * job as one of its saves left it, or reported damaged, never another.
 *
 * A save appends only the datums whose changing fields differ from what this process last
 * saved of the same job (a reset and every datum otherwise), so a job of many datums is
 * never encoded whole more than once, nor held as one string. Private to `jobs.ts`.
 */
import { concatBytes, writeAll } from "../store/fs_util.ts";
import { openOwn } from "../store/own_file.ts";
import { type DatumRecord, isDatumRecord, type JobRecord } from "./job_record.ts";

const utf8 = new TextEncoder();

/** What a record in the split form says of its datum log. */
export interface DatumLogHead {
  /** How many datums the job has. */
  readonly count: number;
  /** How many lines of the log are the job's. */
  readonly lines: number;
  /** How many bytes of the log are the job's (up to the end of its last line). */
  readonly bytes: number;
}

/** True when `v` is a datum log's head as a record holds it. */
export function isLogHead(v: unknown): v is DatumLogHead {
  if (typeof v !== "object" || v === null) return false;
  const h = v as Record<string, unknown>;
  return [h.count, h.lines, h.bytes].every((n) => Number.isSafeInteger(n) && (n as number) >= 0);
}

/** What this process last saved of a job's datums. */
interface SavedLog {
  /** The datums saved (the record's array itself). */
  readonly datums: readonly DatumRecord[];
  /** Each datum's changing fields as saved, `MARKS` per datum. */
  readonly marks: unknown[];
  readonly head: DatumLogHead;
  /** The record file's size and modification time once written (to know it is still ours). */
  size: number;
  mtime: number;
}

/** What this process last saved of each job record. */
const savedLogs = new WeakMap<JobRecord, SavedLog>();

/** The fields of a datum record that can change after it is planned. */
const MARKED = [
  "state",
  "tries",
  "durationMs",
  "exitCode",
  "message",
  "logs",
  "outputTree",
  "outputSize",
  "reusedFrom",
] as const satisfies readonly (keyof DatumRecord)[];

/**
 * Every field of a datum record is fixed when it is planned or in `MARKED`: a field added to
 * `DatumRecord` and to neither fails the type check here, rather than a save that leaves out
 * a datum that changed.
 */
const _EVERY_FIELD_MARKED: Record<
  Exclude<keyof DatumRecord, "id" | "hash" | "inputs" | typeof MARKED[number]>,
  never
> = {};

/** How many fields of a datum record can change after it is planned. */
const MARKS = MARKED.length;

/** Put the fields of `d` that can change in `marks` at `at`, in the order of `MARKED`. */
function markOf(d: DatumRecord, marks: unknown[], at: number): void {
  marks[at] = d.state;
  marks[at + 1] = d.tries;
  marks[at + 2] = d.durationMs;
  marks[at + 3] = d.exitCode;
  marks[at + 4] = d.message;
  marks[at + 5] = d.logs;
  marks[at + 6] = d.outputTree;
  marks[at + 7] = d.outputSize;
  marks[at + 8] = d.reusedFrom;
}

/** True when the marked fields of `d` are those `markOf()` put in `marks` at `at`. */
function marked(d: DatumRecord, marks: readonly unknown[], at: number): boolean {
  return marks[at] === d.state && marks[at + 1] === d.tries &&
    marks[at + 2] === d.durationMs && marks[at + 3] === d.exitCode &&
    marks[at + 4] === d.message && marks[at + 5] === d.logs &&
    marks[at + 6] === d.outputTree && marks[at + 7] === d.outputSize &&
    marks[at + 8] === d.reusedFrom;
}

// `markOf()` and `marked()` read the fields `MARKED` names, in its order: checked as the
// module loads, so that a field added to one and not the others fails at once.
{
  const probe = Object.fromEntries(MARKED.map((k, i) => [k, i])) as unknown as DatumRecord;
  const marks: unknown[] = [];
  markOf(probe, marks, 0);
  if (marks.length !== MARKS || marks.some((v, i) => v !== i) || !marked(probe, marks, 0)) {
    throw new Error("markOf() does not read the fields MARKED names");
  }
}

/** How many lines of the log are encoded at once. */
const LINES_PER_WRITE = 100;

/** How many bytes of encoded lines are written at once (at most, and at the end, fewer). */
const WRITE_BYTES = 1 << 20;

/**
 * Append to the log `log` what `job`'s datums became since the save whose head is `base`
 * (the head the record on disk names, or null when it names none): first cut the log back
 * to `base`'s bytes. Returns the log's new head, to be named by the record written next.
 * `durable` fsyncs the log. A log that other names link to is first replaced by a copy of
 * itself made in `tmpDir` (see `own_file.ts`), so the append never changes the other copy.
 */
export async function appendDatumLog(
  log: string,
  job: JobRecord,
  base: DatumLogHead | null,
  durable: boolean,
  tmpDir: string,
): Promise<DatumLogHead> {
  const before = savedLogs.get(job);
  const datums = job.datums;
  // Only what changed since this process saved these datums, when the log is still that
  // save's; every datum after a reset otherwise.
  const incremental = before !== undefined && base !== null && before.datums === datums &&
    before.marks.length === datums.length * MARKS && before.head.bytes === base.bytes &&
    before.head.lines === base.lines && before.head.count === datums.length;
  // The marks of the save before are brought up to date in place (a save every quarter of
  // a second must not make a new array of them: 900,000 entries at 100,000 datums). Should
  // this save fail, the caller forgets them, and the next save writes every datum.
  const marks: unknown[] = incremental ? before.marks : new Array(datums.length * MARKS);
  const from = base?.bytes ?? 0;
  let lines = base?.lines ?? 0;
  let bytes = from;
  if (!incremental && from === 0 && datums.length === 0) {
    return { count: 0, lines: 0, bytes: 0 };
  }
  const f = await openOwn(log, { write: true, create: true }, tmpDir);
  try {
    if ((await f.stat()).size !== from) await f.truncate(from);
    await f.seek(from, Deno.SeekMode.Start);
    // Lines are encoded a few at a time (small strings, short-lived) and written a megabyte
    // at a time (a write call per few lines costs several times more).
    let text = "";
    let pending = 0;
    let parts: Uint8Array[] = [];
    let held = 0;
    const write = async () => {
      await writeAll(f, concatBytes(parts));
      bytes += held;
      parts = [];
      held = 0;
    };
    const flush = async () => {
      const chunk = utf8.encode(text);
      parts.push(chunk);
      held += chunk.length;
      text = "";
      pending = 0;
      if (held >= WRITE_BYTES) await write();
    };
    if (!incremental) {
      text += `{"count":${datums.length},"job":${JSON.stringify(job.id)}}\n`;
      lines++;
    }
    for (let i = 0; i < datums.length; i++) {
      if (incremental && marked(datums[i]!, marks, i * MARKS)) continue;
      markOf(datums[i]!, marks, i * MARKS);
      text += `[${i},${JSON.stringify(datums[i])}]\n`;
      lines++;
      if (++pending >= LINES_PER_WRITE) await flush();
    }
    if (text) await flush();
    if (held > 0) await write();
    if (durable) await f.syncData();
  } finally {
    f.close();
  }
  const head = { count: datums.length, lines, bytes };
  savedLogs.set(job, { datums, marks, head, size: 0, mtime: NaN });
  return head;
}

/**
 * The head this process last saved for `job`, when the record file `record` is still the one
 * it wrote (same size and time): then the record need not be read to know how far its log
 * goes. Null otherwise.
 */
export async function lastSavedHead(record: string, job: JobRecord): Promise<DatumLogHead | null> {
  const before = savedLogs.get(job);
  if (!before) return null;
  const st = await Deno.stat(record).catch(() => null);
  return st && st.size === before.size && st.mtime?.getTime() === before.mtime ? before.head : null;
}

/** Note the size and time of the record file `record` just written for `job`. */
export async function stampSaved(record: string, job: JobRecord): Promise<void> {
  const saved = savedLogs.get(job);
  if (!saved) return;
  const st = await Deno.stat(record);
  saved.size = st.size;
  saved.mtime = st.mtime?.getTime() ?? NaN;
}

/** Forget what was saved of `job` (a save failed part way: the next one writes all). */
export function forgetSaved(job: JobRecord): void {
  savedLogs.delete(job);
}

/** Why a datum log cannot be read as its record says: thrown by `readDatumLog()`. */
export class DamagedLog extends Error {}

/**
 * Throws `DamagedLog` when something other than a regular file is at `log` (a folder, or a
 * link, which is never followed: a save would write through it, out of the store).
 */
export async function assertLogFile(log: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(log);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  if (!info.isFile) throw new DamagedLog("the datum log is not a regular file");
}

/** The most distinct values `readDatumLog()` holds once (past them, each is its own). */
const SHARED_MOST = 4096;

/** How many bytes of a log are read at once. */
const READ_BYTES = 1 << 16;

/**
 * The datums of job `job`'s log `log` as far as `head` goes, a slice at a time (never the
 * whole log as one string). Throws `DamagedLog` when the log is not what `head` says:
 * missing or shorter, not a regular file, other lines, a reset of another job, a datum left
 * unknown.
 */
export async function readDatumLog(
  log: string,
  head: DatumLogHead,
  job: string,
): Promise<DatumRecord[]> {
  if (head.bytes === 0) {
    if (head.count !== 0 || head.lines !== 0) throw new DamagedLog("empty log, datums named");
    return [];
  }
  let f: Deno.FsFile;
  try {
    await assertLogFile(log);
    f = await Deno.open(log);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new DamagedLog("no datum log");
    throw err;
  }
  let datums: (DatumRecord | undefined)[] | null = null;
  let known = 0;
  let lines = 0;
  // The values most datums of a job repeat (their state, input commit, the job reused) are
  // held once, not once per datum as parsing gives them.
  const seen = new Map<string, string>();
  const one = (text: string): string => {
    const held = seen.get(text);
    if (held !== undefined) return held;
    if (seen.size < SHARED_MOST) seen.set(text, text);
    return text;
  };
  const shared = (rec: DatumRecord): DatumRecord => {
    if (typeof rec.state === "string") rec.state = one(rec.state) as DatumRecord["state"];
    if (typeof rec.reusedFrom === "string") rec.reusedFrom = one(rec.reusedFrom);
    if (Array.isArray(rec.inputs)) {
      for (const input of rec.inputs as { name: string; repo: string; commit: string }[]) {
        if (typeof input !== "object" || input === null) continue;
        if (typeof input.name === "string") input.name = one(input.name);
        if (typeof input.repo === "string") input.repo = one(input.repo);
        if (typeof input.commit === "string") input.commit = one(input.commit);
      }
    }
    return rec;
  };
  const take = (v: unknown): void => {
    lines++;
    if (Array.isArray(v)) {
      const [i, rec] = v as [unknown, unknown];
      if (
        datums === null || v.length !== 2 || !Number.isSafeInteger(i) || (i as number) < 0 ||
        (i as number) >= datums.length || !isDatumRecord(rec)
      ) throw new DamagedLog(`line ${lines} is not a datum of the job`);
      if (datums[i as number] === undefined) known++;
      datums[i as number] = shared(rec as DatumRecord);
      return;
    }
    const reset = v as { count?: unknown; job?: unknown } | null;
    const count = reset?.count;
    if (!Number.isSafeInteger(count) || (count as number) < 0) {
      throw new DamagedLog(`line ${lines} is neither a reset nor a datum`);
    }
    // A reset without a job id is one written before resets named their job.
    if (reset?.job !== undefined && reset.job !== job) {
      throw new DamagedLog(`line ${lines} is a reset of another job`);
    }
    datums = new Array(count as number);
    known = 0;
  };
  try {
    if ((await f.stat()).size < head.bytes) throw new DamagedLog("log shorter than its record");
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const buf = new Uint8Array(Math.min(READ_BYTES, head.bytes));
    let left = head.bytes;
    let carry = "";
    while (left > 0) {
      const n = await f.read(buf.subarray(0, Math.min(buf.length, left)));
      if (n === null) throw new DamagedLog("log shorter than its record");
      left -= n;
      let text: string;
      try {
        text = carry + decoder.decode(buf.subarray(0, n), { stream: left > 0 });
      } catch {
        throw new DamagedLog("not UTF-8");
      }
      const end = text.lastIndexOf("\n");
      carry = text.slice(end + 1);
      if (end < 0) continue;
      // Whole lines are parsed as one array: several times quicker than a line at a time.
      let values: unknown[];
      try {
        values = JSON.parse(`[${text.slice(0, end).replaceAll("\n", ",")}]`);
      } catch {
        throw new DamagedLog("a line is not JSON");
      }
      for (const v of values) take(v);
    }
    if (carry !== "") throw new DamagedLog("the log's last line is cut short");
  } finally {
    f.close();
  }
  const got = datums as (DatumRecord | undefined)[] | null;
  if (lines !== head.lines || got === null || got.length !== head.count || known !== got.length) {
    throw new DamagedLog("the log's lines are not those its record counts");
  }
  return got as DatumRecord[];
}
