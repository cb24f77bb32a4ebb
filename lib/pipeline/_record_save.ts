/**
 * Saving a job record again without encoding it all again: what a save wrote (where each
 * piece of datums lies in the file, and each datum's changing fields), so that the next save
 * copies the pieces whose datums did not change from that file. Private to `jobs.ts`.
 */
import { writeAll } from "../store/fs_util.ts";
import { type DatumRecord, DATUMS_PER_PIECE, type JobRecord, recordPieces } from "./job_record.ts";

const utf8 = new TextEncoder();

/** What a save of a job record wrote: where each piece of its datums lies, and what each was. */
export interface SavedPieces {
  /** The datums saved (the record's array itself). */
  readonly datums: readonly DatumRecord[];
  /** Byte offset in the file of each piece of datums, then of the end of the last. */
  readonly offsets: number[];
  /** Each datum's changing fields as saved, `MARKS` per datum. */
  readonly marks: unknown[];
  /** The file's size and modification time once written (to know it is still the one). */
  size: number;
  mtime: number;
}

/** What this process last saved of each job record. */
export const savedPieces = new WeakMap<JobRecord, SavedPieces>();

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
 * `DatumRecord` and to neither fails the type check here, rather than a save that copies a
 * piece whose datums changed.
 */
const _EVERY_FIELD_MARKED: Record<
  Exclude<keyof DatumRecord, "id" | "hash" | "inputs" | typeof MARKED[number]>,
  never
> = {};

/** How many fields of a datum record can change after it is planned. */
const MARKS = MARKED.length;

/**
 * Put the fields of `d` that can change after it is planned in `marks` at `at`, in the
 * order of `MARKED` (each read by name: a loop over the names is a slower, generic read).
 */
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

/** True when every datum of `piece` is as `before` saved it. */
function unchanged(before: SavedPieces, datums: readonly DatumRecord[], piece: number): boolean {
  const end = Math.min(datums.length, (piece + 1) * DATUMS_PER_PIECE);
  for (let i = piece * DATUMS_PER_PIECE; i < end; i++) {
    if (!marked(datums[i]!, before.marks, i * MARKS)) return false;
  }
  return true;
}

/**
 * Write `job`'s record to `f` as `recordPieces()` gives it, copying from `old` (the file of
 * the save `before`) the pieces of datums unchanged since. Returns what was written.
 */
export async function writePieces(
  f: Deno.FsFile,
  job: JobRecord,
  before: SavedPieces | null,
  old: Deno.FsFile | null,
): Promise<SavedPieces> {
  const pieces = Math.ceil(job.datums.length / DATUMS_PER_PIECE);
  const marks: unknown[] = new Array(job.datums.length * MARKS);
  for (let i = 0; i < job.datums.length; i++) markOf(job.datums[i]!, marks, i * MARKS);
  const reuse = before !== null && old !== null && before.marks.length === marks.length &&
    before.offsets.length === pieces + 1;
  const offsets: number[] = [];
  let at = 0;
  /** The piece about to be written: -1 for the head, `pieces` for the end. */
  let piece = -1;
  for (const text of recordPieces(job, (n) => reuse && unchanged(before, job.datums, n))) {
    if (piece >= 0) offsets.push(at);
    let bytes: Uint8Array;
    if (text !== null) bytes = utf8.encode(text);
    else {
      const from = before!.offsets[piece]!;
      bytes = new Uint8Array(before!.offsets[piece + 1]! - from);
      await old!.seek(from, Deno.SeekMode.Start);
      for (let got = 0; got < bytes.length;) {
        const n = await old!.read(bytes.subarray(got));
        if (n === null) throw new Error(`The record of job ${job.id} changed while it was saved`);
        got += n;
      }
    }
    await writeAll(f, bytes);
    at += bytes.length;
    piece++;
  }
  // The last offset is the end's ("]}"): the end of the last piece of datums.
  return { datums: job.datums, offsets, marks, size: 0, mtime: NaN };
}

/**
 * The file `record` opened for reading when it is the one `before` wrote for `job` (same
 * datums, size and time); null otherwise, when the next save writes every piece.
 */
export async function lastSaved(
  record: string,
  job: JobRecord,
  before: SavedPieces | undefined,
): Promise<Deno.FsFile | null> {
  if (!before || before.datums !== job.datums) return null;
  const old = await Deno.open(record).catch(() => null);
  const st = await old?.stat();
  if (st && st.size === before.size && st.mtime?.getTime() === before.mtime) return old;
  old?.close();
  return null;
}

/** `saved` with the size and time of the file `record` it was written as. */
export async function stamped(saved: SavedPieces, record: string): Promise<SavedPieces> {
  const st = await Deno.stat(record);
  saved.size = st.size;
  saved.mtime = st.mtime?.getTime() ?? NaN;
  return saved;
}
