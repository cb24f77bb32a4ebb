/**
 * A pipeline's datum index (`datums.jsonl`, append-only: datum hash → output tree, one line
 * per datum that succeeded; the last line of a hash wins), read, appended to and rewritten
 * without some entries; and how far it went when a job ended, and what was appended since: the mark (`datums.mark`) that lets the job planned next from that
 * job read only the index's new lines, never the whole index. The mark holds the index's
 * size then and the SHA-256 of its first `HEAD_BYTES` and of the `TAIL_BYTES` before that
 * size, so marking reads at most those bytes however large the index, and an index cut
 * short, rewritten (`dropDatums()` and gc also remove the mark) or edited at either end is
 * not taken for the one marked. A cache: lost or stale, the next job reads the whole index.
 */
import type { Hash } from "../store/hash.ts";
import { sha256Native } from "../store/hash.ts";
import { concatBytes, readAt, writeAll, writeFileAtomic } from "../store/fs_util.ts";
import { openOwn } from "../store/own_file.ts";
import type { Layout } from "../store/layout.ts";
import type { DatumIndexEntry } from "./job_record.ts";
import { entryProblem, isEntry, parseEntry } from "./datum_index_lines.ts";

export { parseEntry };

/** How many bytes at the index's start the mark hashes. */
const HEAD_BYTES = 4096;

/** Makes the error to throw for `err`, met at `path` (a store entry of the wrong kind). */
export type Damaged = (err: unknown, path: string) => Promise<unknown>;

/** The datum index of `pipeline`: datum hash → its latest successful output. */
export async function readDatumIndex(
  layout: Layout,
  pipeline: string,
  damaged: Damaged,
): Promise<Map<Hash, DatumIndexEntry>> {
  const index = new Map<Hash, DatumIndexEntry>();
  let text = "";
  const path = layout.datumIndex(pipeline);
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw await damaged(err, path);
  }
  // Whole lines are parsed as one array, which is several times quicker than a line at a
  // time; a torn line (a crash) fails that, and the lines are then parsed one by one.
  let entries: DatumIndexEntry[] | null = null;
  if (text.endsWith("\n")) {
    try {
      entries = JSON.parse(`[${text.slice(0, -1).replaceAll("\n", ",")}]`) as DatumIndexEntry[];
    } catch {
      entries = null;
    }
  }
  if (entries?.every(isEntry)) {
    for (const e of entries) index.set(e.hash, e);
    return index;
  }
  // A torn line from a crash, or one that is not an entry (`verify` names it, `gc` drops
  // it): that datum simply runs again.
  for (const line of text.split("\n")) {
    const e = parseEntry(line);
    if (e) index.set(e.hash, e);
  }
  return index;
}

/**
 * The append to each datum index this process is making, by path: appends to one index are
 * made one after another, since one that looks at the index's last byte while another's
 * write is in flight (a write that spans pages is seen in part) would take that line for one
 * a crash tore, and start its own with a newline: an empty line.
 */
const appending = new Map<string, Promise<void>>();

/**
 * Append entries to the datum index of `pipeline` and fsync them, after any append to it
 * this process is making.
 */
export async function appendDatumEntries(
  layout: Layout,
  pipeline: string,
  entries: readonly DatumIndexEntry[],
  damaged: Damaged,
): Promise<void> {
  if (entries.length === 0) return;
  const path = layout.datumIndex(pipeline);
  const before = appending.get(path) ?? Promise.resolve();
  const mine = before.then(() => appendNow(layout, pipeline, entries, damaged));
  const settled = mine.then(() => {}, () => {});
  appending.set(path, settled);
  try {
    await mine;
  } finally {
    if (appending.get(path) === settled) appending.delete(path);
  }
}

/**
 * Append entries to the datum index of `pipeline` and fsync them, at once: to a copy of it
 * first, when other names link to it (see `own_file.ts`).
 */
async function appendNow(
  layout: Layout,
  pipeline: string,
  entries: readonly DatumIndexEntry[],
  damaged: Damaged,
): Promise<void> {
  const path = layout.datumIndex(pipeline);
  let f: Deno.FsFile;
  try {
    await Deno.mkdir(layout.jobDir(pipeline), { recursive: true });
    f = await openOwn(path, { read: true, append: true, create: true }, layout.tmp);
  } catch (err) {
    throw await damaged(err, path);
  }
  try {
    // After a torn last line (a crash mid-append) the entries start on a line of their own.
    const size = (await f.stat()).size;
    const torn = size > 0 && (await readAt(f, size - 1, 1))[0] !== 0x0a;
    const text = entries.map((e) => JSON.stringify(e) + "\n").join("");
    const bytes = new TextEncoder().encode(torn ? `\n${text}` : text);
    await writeAll(f, bytes);
    await f.syncData();
  } finally {
    f.close();
  }
}

/**
 * Drop every entry of the datum index of `pipeline` for the datum hashes `datums`. The index
 * is rewritten atomically; a torn line is dropped with them.
 */
export async function dropDatumEntries(
  layout: Layout,
  pipeline: string,
  datums: ReadonlySet<Hash>,
  damaged: Damaged,
): Promise<void> {
  const path = layout.datumIndex(pipeline);
  // The index is rewritten, not appended to: what a job's mark says of it no longer holds.
  await Deno.remove(layout.datumIndexMark(pipeline)).catch(() => {});
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw await damaged(err, path);
  }
  // A line that is not a whole entry (torn, junk) goes with them.
  const kept = text.split("\n").filter((line) => {
    if (!line || entryProblem(line) !== null) return false;
    return !datums.has((JSON.parse(line) as DatumIndexEntry).hash);
  });
  const bytes = new TextEncoder().encode(kept.map((l) => l + "\n").join(""));
  await writeFileAtomic(path, bytes, layout.tmp);
}

/** How many bytes before the marked size the mark hashes. */
const TAIL_BYTES = 1 << 16;

/** How many bytes of the index are read at once when it is searched. */
const READ_BYTES = 1 << 16;

/** What `markDatumIndex()` notes: the job, and the datum index's size and ends then. */
interface DatumIndexMark {
  readonly job: string;
  readonly size: number;
  /** SHA-256 of the index's first `HEAD_BYTES` and of its `TAIL_BYTES` before `size`. */
  readonly ends: Hash;
}

/** What `datumIndexAfter()` gives: the entries appended since a job ended, and a lookup. */
export interface DatumIndexAfter {
  /** The last entry appended since, per hash: null when it is another pipeline's. */
  readonly since: ReadonlyMap<Hash, DatumIndexEntry | null>;
  /**
   * The entry of each of `hashes` in the whole index, as `datumIndexOf()` gives it, or null:
   * one pass over the index, a slice at a time.
   */
  find(hashes: readonly Hash[]): Promise<Map<Hash, DatumIndexEntry | null>>;
}

/** A pipeline, as the datum index tells pipelines of one name apart. */
type PipelineOf = { readonly name: string; readonly createdSeq?: number };

/** The SHA-256 of the first `HEAD_BYTES` of `f` and of its `TAIL_BYTES` before `size`. */
async function endsOf(f: Deno.FsFile, size: number): Promise<Hash> {
  const head = await readAt(f, 0, Math.min(size, HEAD_BYTES));
  const from = Math.max(0, size - TAIL_BYTES);
  const tail = await readAt(f, from, size - from);
  return await sha256Native(concatBytes([head, tail]));
}

/**
 * Note how far the datum index of `pipeline` goes as job `id` ends, so that the job planned
 * from this one next reads only what was appended since. Written without fsync.
 */
export async function markDatumIndex(layout: Layout, pipeline: string, id: string): Promise<void> {
  let mark: DatumIndexMark;
  const f = await Deno.open(layout.datumIndex(pipeline)).catch((err) => {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  });
  try {
    const size = f ? (await f.stat()).size : 0;
    mark = {
      job: id,
      size,
      ends: f ? await endsOf(f, size) : await sha256Native(new Uint8Array()),
    };
  } finally {
    f?.close();
  }
  await writeFileAtomic(
    layout.datumIndexMark(pipeline),
    new TextEncoder().encode(JSON.stringify(mark)),
    layout.tmp,
    { syncFolder: false },
  );
}

/**
 * The datum index of `p` as it stands now, told apart from what it held when job `id` ended
 * (see `DatumIndexAfter`). Null when the index is not what it was then with lines appended
 * (no mark of that job, or its ends changed: rewritten, edited, cut short): the caller then
 * reads it whole.
 */
export async function datumIndexAfter(
  layout: Layout,
  p: PipelineOf,
  id: string,
): Promise<DatumIndexAfter | null> {
  const path = layout.datumIndex(p.name);
  let mark: DatumIndexMark;
  let f: Deno.FsFile;
  try {
    mark = JSON.parse(await Deno.readTextFile(layout.datumIndexMark(p.name)));
    f = await Deno.open(path);
  } catch {
    return null;
  }
  let added: Uint8Array;
  try {
    const size = (await f.stat()).size;
    if (
      mark?.job !== id || typeof mark.size !== "number" || typeof mark.ends !== "string" ||
      size < mark.size
    ) return null;
    // An append after a torn line would have joined it: then the whole index is read.
    if (mark.size > 0 && (await readAt(f, mark.size - 1, 1))[0] !== 0x0a) return null;
    if (await endsOf(f, mark.size) !== mark.ends) return null;
    added = await readAt(f, mark.size, size - mark.size);
  } finally {
    f.close();
  }
  const since = new Map<Hash, DatumIndexEntry | null>();
  // The mark is where a line began, as every append ends with a newline.
  for (const line of new TextDecoder().decode(added).split("\n")) {
    const e = parseEntry(line);
    if (e) since.set(e.hash, entryOf(e, p));
  }
  const find = async (hashes: readonly Hash[]) => {
    const wanted = new Set(hashes);
    const found = new Map<Hash, DatumIndexEntry | null>(hashes.map((h) => [h, null]));
    if (wanted.size === 0) return found;
    await eachLine(path, (line) => {
      // A line is `{"hash":"<64 hex>",…}`: only the lines of a wanted hash are parsed.
      if (!line.startsWith('{"hash":"') || !wanted.has(line.slice(9, 73))) return;
      const e = parseEntry(line);
      // The last whole line of a hash is its entry; a damaged one is passed over.
      if (e && wanted.has(e.hash)) found.set(e.hash, entryOf(e, p));
    });
    return found;
  };
  return { since, find };
}

/** Call `each` with every line of the file `path`, read a slice at a time. */
async function eachLine(path: string, each: (line: string) => void): Promise<void> {
  const f = await Deno.open(path);
  try {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(READ_BYTES);
    let carry = "";
    while (true) {
      const n = await f.read(buf);
      if (n === null) break;
      const text = carry + decoder.decode(buf.subarray(0, n), { stream: true });
      const lines = text.split("\n");
      carry = lines.pop()!;
      for (const line of lines) each(line);
    }
    carry += decoder.decode();
    if (carry) each(carry);
  } finally {
    f.close();
  }
}

/** `e` when pipeline `p` made it (as `datumIndexOf()` keeps), else null. */
function entryOf(e: DatumIndexEntry, p: { readonly createdSeq?: number }): DatumIndexEntry | null {
  return e.pipelineSeq === p.createdSeq ? e : null;
}
