/**
 * A job record's file as it is read: the split form (the job without its datums, naming its
 * datum log: `_datum_log.ts`) or the single form a version before the datum log wrote (its
 * datums in it, last), whole or up to its datums. Private to `_job_files.ts`.
 */
import { type DatumLogHead, isLogHead } from "./_datum_log.ts";
import { readAt } from "../store/fs_util.ts";
import { isJobRecord, type JobRecord } from "./job_record.ts";

const utf8 = new TextEncoder();

/** A record as its file holds it: the job, and its datum log's head when it has one. */
export interface Header {
  /** The job; its `datums` empty when they are in its log (`head`). */
  readonly record: JobRecord;
  /** How far its datum log goes; null for a record that holds its datums itself. */
  readonly head: DatumLogHead | null;
}

/**
 * The record `text` holds: in the split form (a job naming its `datumLog`), the job with its
 * datums empty and the log's head; in the single form (its datums in it), the job whole.
 * Throws a SyntaxError when it is not JSON, or names its log wrongly.
 */
export function parseHeader(text: string): Header {
  const v = JSON.parse(text) as Record<string, unknown> | null;
  if (typeof v !== "object" || v === null || !("datumLog" in v)) {
    return { record: v as unknown as JobRecord, head: null };
  }
  const { datumLog, ...rest } = v;
  if (!isLogHead(datumLog) || "datums" in rest) throw new SyntaxError("a bad datum log head");
  return { record: { ...rest, datums: [] } as unknown as JobRecord, head: datumLog };
}

/** The record in the file `file` (see `parseHeader()`). */
export async function readHeader(file: string): Promise<Header> {
  return parseHeader(await Deno.readTextFile(file));
}

/** The most bytes of a record in the split form: read whole for its head. */
const SPLIT_MOST = 1 << 16;

/** The key that starts a record's datums (the last field of a record `recordPieces()` wrote). */
const DATUMS_KEY = utf8.encode('"datums":[');

/** The most bytes of a record read for its head: a head is a few kilobytes. */
const HEAD_MOST = 1 << 20;

/**
 * The job in the record file `file` without its datums, when its datums are its last field;
 * else null. A file of at most `SPLIT_MOST` bytes is read whole, and a record of the single
 * form in it given whole; of a larger one, its last two bytes and its start, up to the datums.
 */
export async function readRecordHead(file: string): Promise<JobRecord | null> {
  const f = await Deno.open(file);
  try {
    const size = (await f.stat()).size;
    if (size < 2) return null;
    if (size <= SPLIT_MOST) {
      // Read whole already: of either form, the job is in hand (a single form's with its datums,
      // as reading it whole gives it).
      const { record } = parseHeader(new TextDecoder().decode(await readAt(f, 0, size)));
      return isJobRecord(record) ? record : null;
    }
    const tail = await readAt(f, size - 2, 2);
    // A record whose last field is an array ends so: of a job's fields, only its datums can.
    if (tail[0] !== 0x5d || tail[1] !== 0x7d) return null;
    let bytes: Uint8Array = new Uint8Array(0);
    for (let want = 4096; bytes.length < Math.min(size, HEAD_MOST); want *= 4) {
      bytes = await readAt(f, 0, Math.min(size, want, HEAD_MOST));
      const at = indexOf(bytes, DATUMS_KEY);
      if (at < 0) continue;
      const text = `${new TextDecoder().decode(bytes.subarray(0, at))}"datums":[]}`;
      const record: unknown = JSON.parse(text);
      return isJobRecord(record) ? record : null;
    }
    return null;
  } finally {
    f.close();
  }
}

/** Where `needle` first occurs in `bytes`, or -1. */
function indexOf(bytes: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  for (let i = bytes.indexOf(first); i >= 0; i = bytes.indexOf(first, i + 1)) {
    if (i + needle.length > bytes.length) return -1;
    let k = 1;
    while (k < needle.length && bytes[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
  }
  return -1;
}
