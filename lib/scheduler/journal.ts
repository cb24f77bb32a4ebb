/**
 * The event journal on disk: `events.jsonl`, one JSON line per event, rotated so that it
 * never grows without bound. When the current segment passes `JOURNAL_SEGMENT_BYTES`, it
 * becomes `events/<start>.jsonl` and a new `events.jsonl` begins; only the newest
 * `JOURNAL_SEGMENTS_KEPT` older segments are kept.
 *
 * Offsets are global: every segment but a journal's first begins with a header line
 * `{"type":"journal:segment","start":N}`, N being where the segment begins in the journal as
 * if no segment had been removed (its older segment's start plus that segment's size), and
 * older segments are named by their start (16 digits). A reader that holds an offset reads on
 * from it across any rotation: into the older segment it was in, then the next one, then the
 * current. A journal written before rotation existed (no header) starts at 0.
 *
 * Writers (a scheduler, a command running jobs in its own process) append under a shared
 * lock on `events.lock` and check first that their file is still the current segment; a
 * rotation takes the lock exclusively, so no line ever lands in a segment after it was
 * rotated. The current segment is linked into `events/` before the new one is renamed over
 * it: a reader always finds `events.jsonl`, and every byte of its offset's segment.
 */
/** Size past which the current segment of the journal is rotated (bytes). */
export const JOURNAL_SEGMENT_BYTES = 4 * 1024 ** 2;

/** How many older segments of the journal are kept. */
export const JOURNAL_SEGMENTS_KEPT = 4;

/** The type of the header line that begins every segment but the journal's first. */
export const SEGMENT_HEADER = "journal:segment";

/** Digits of an older segment's name (its start). */
const START_DIGITS = 16;
const SEGMENT_NAME = /^(\d{16})\.jsonl$/;
/** The most bytes a header line takes. */
const HEADER_MAX = 256;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Where the files of the journal at `path` are. */
export interface JournalFiles {
  /** The current segment (`events.jsonl`). */
  readonly current: string;
  /** The folder of older segments (`events/`, beside it). */
  readonly older: string;
  /** The lock writers share and a rotation takes alone (`events.lock`, beside it). */
  readonly lock: string;
}

/** The files of the journal whose current segment is `path`. */
export function journalFiles(path: string): JournalFiles {
  const dir = path.slice(0, path.lastIndexOf("/") + 1);
  const base = path.slice(dir.length).replace(/\.jsonl$/, "");
  return { current: path, older: `${dir}${base}`, lock: `${dir}${base}.lock` };
}

/** The path of the older segment that starts at `start`. */
function segmentPath(files: JournalFiles, start: number): string {
  return `${files.older}/${String(start).padStart(START_DIGITS, "0")}.jsonl`;
}

/** The starts of the older segments kept, ascending. */
function olderStarts(files: JournalFiles): number[] {
  const out: number[] = [];
  try {
    for (const e of Deno.readDirSync(files.older)) {
      const m = SEGMENT_NAME.exec(e.name);
      if (m) out.push(Number(m[1]));
    }
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound) && !(err instanceof Deno.errors.NotADirectory)) {
      throw err;
    }
  }
  return out.sort((a, b) => a - b);
}

/** The start a segment's first bytes declare: its header's, or 0 without one. */
function startOf(head: Uint8Array): number {
  const nl = head.indexOf(10);
  if (nl < 0) return 0;
  try {
    const h = JSON.parse(decoder.decode(head.subarray(0, nl))) as {
      type?: unknown;
      start?: unknown;
    };
    if (h.type === SEGMENT_HEADER && Number.isSafeInteger(h.start) && (h.start as number) >= 0) {
      return h.start as number;
    }
  } catch {
    // not a header: a journal from before rotation
  }
  return 0;
}

/** Read up to `buf.length` bytes of `f` at `at`; returns how many. */
async function readAt(f: Deno.FsFile, at: number, buf: Uint8Array): Promise<number> {
  await f.seek(at, Deno.SeekMode.Start);
  let got = 0;
  while (got < buf.length) {
    const n = await f.read(buf.subarray(got));
    if (n === null) break;
    got += n;
  }
  return got;
}

/** Options of `JournalWriter`. */
export interface JournalWriterOptions {
  /** Rotate the current segment past this size (default `JOURNAL_SEGMENT_BYTES`). */
  readonly segmentBytes?: number;
  /** Older segments kept (default `JOURNAL_SEGMENTS_KEPT`). */
  readonly segmentsKept?: number;
  /** The clock of the header lines' times. */
  readonly clock?: () => Date;
}

/** Appends lines to the journal and rotates it (see the module's doc). Synchronous. */
export class JournalWriter {
  readonly #files: JournalFiles;
  readonly #segmentBytes: number;
  readonly #segmentsKept: number;
  readonly #clock: () => Date;
  #file: Deno.FsFile | null = null;
  #ino: number | null = null;
  #lock: Deno.FsFile | null = null;

  constructor(path: string, options: JournalWriterOptions = {}) {
    this.#files = journalFiles(path);
    this.#segmentBytes = options.segmentBytes ?? JOURNAL_SEGMENT_BYTES;
    this.#segmentsKept = options.segmentsKept ?? JOURNAL_SEGMENTS_KEPT;
    this.#clock = options.clock ?? (() => new Date());
  }

  /** Append `bytes` (whole lines) to the current segment, then rotate it if it is full. */
  append(bytes: Uint8Array): void {
    this.#lock ??= Deno.openSync(this.#files.lock, { read: true, write: true, create: true });
    let size: number;
    this.#lock.lockSync(false);
    try {
      const f = this.#current();
      for (let off = 0; off < bytes.length;) off += f.writeSync(bytes.subarray(off));
      size = f.statSync().size;
    } finally {
      this.#lock.unlockSync();
    }
    if (size >= this.#segmentBytes) this.#rotate();
  }

  /** The current segment, opened again when a rotation replaced it (under the lock). */
  #current(): Deno.FsFile {
    let ino: number | null = null;
    try {
      ino = Deno.statSync(this.#files.current).ino;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    }
    if (this.#file && ino === this.#ino) return this.#file;
    this.#file?.close();
    this.#file = Deno.openSync(this.#files.current, { append: true, create: true });
    this.#ino = this.#file.statSync().ino;
    return this.#file;
  }

  /** Make the current segment an older one and begin a new one (under the lock, alone). */
  #rotate(): void {
    const lock = this.#lock!;
    lock.lockSync(true);
    try {
      const cur = Deno.openSync(this.#files.current, { read: true });
      let size: number;
      let start: number;
      try {
        size = cur.statSync().size;
        const head = new Uint8Array(HEADER_MAX);
        const got = cur.readSync(head) ?? 0;
        start = startOf(head.subarray(0, got));
      } finally {
        cur.close();
      }
      // Another writer rotated it first.
      if (size < this.#segmentBytes) return;
      Deno.mkdirSync(this.#files.older, { recursive: true });
      for (const e of Deno.readDirSync(this.#files.older)) {
        // A rotation a crash cut short left its new segment here.
        if (e.name.endsWith(".tmp")) Deno.removeSync(`${this.#files.older}/${e.name}`);
      }
      const older = segmentPath(this.#files, start);
      try {
        Deno.linkSync(this.#files.current, older);
      } catch (err) {
        // Linked by a rotation a crash cut short before the rename below.
        if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
      }
      const tmp = `${this.#files.older}/${Deno.pid}.new.tmp`;
      const header = JSON.stringify({
        type: SEGMENT_HEADER,
        time: this.#clock().toISOString(),
        start: start + size,
      });
      Deno.writeFileSync(tmp, encoder.encode(header + "\n"));
      Deno.renameSync(tmp, this.#files.current);
      const starts = olderStarts(this.#files);
      for (const s of starts.slice(0, Math.max(0, starts.length - this.#segmentsKept))) {
        Deno.removeSync(segmentPath(this.#files, s));
      }
    } finally {
      lock.unlockSync();
    }
  }

  /** Close the journal's files. */
  close(): void {
    this.#file?.close();
    this.#file = null;
    this.#lock?.close();
    this.#lock = null;
  }
}

/** One line of the journal, parsed: an event (`TuskEvent` in events.ts). */
export interface JournalLine {
  readonly type: string;
}

/** What one `readJournalLines()` call read. */
export interface JournalLines {
  /** The events of the complete lines read; damaged lines and headers are skipped. */
  readonly events: JournalLine[];
  /** Where the next read starts: just after the last complete line read. */
  readonly offset: number;
  /** Where the journal ends, when it was read (its current segment's start plus size). */
  readonly size: number;
  /** True when the read stopped before the end: read again at once for more. */
  readonly more: boolean;
}

/** Options of `readJournalLines()`. */
export interface ReadJournalOptions {
  /**
   * Read about this many bytes at most (a positive integer), so a long journal can be
   * replayed in bounded pieces; a single line longer than this is still read whole.
   */
  readonly maxBytes?: number;
}

/** Where the current segment of the journal at `path` begins: where a replay of it starts. */
export async function journalStart(path: string): Promise<number> {
  return await withSegment(path, (start) => Promise.resolve(start));
}

/** Where the journal at `path` ends now: what a reader of what comes next starts from. */
export async function journalEnd(path: string): Promise<number> {
  return await withSegment(path, async (start, f) => start + (await f.stat()).size);
}

/** `fn` of the current segment's start and its open file; 0 when there is no journal yet. */
async function withSegment(
  path: string,
  fn: (start: number, f: Deno.FsFile) => Promise<number>,
): Promise<number> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
  try {
    const head = new Uint8Array(HEADER_MAX);
    return await fn(startOf(head.subarray(0, await readAt(f, 0, head))), f);
  } finally {
    f.close();
  }
}

/**
 * Read journal events from offset `offset`, across rotations; returns them and the offset
 * to continue from. An offset in an older segment reads on in it (then `more` is true);
 * one in a segment no longer kept starts at the oldest kept; one past the end starts the
 * current segment again (the journal was replaced). A partial last line of the current
 * segment (being written) is left for the next read.
 */
export async function readJournalLines(
  path: string,
  offset = 0,
  options: ReadJournalOptions = {},
): Promise<JournalLines> {
  const maxBytes = options.maxBytes ?? Infinity;
  if (!(maxBytes > 0) || (maxBytes !== Infinity && !Number.isSafeInteger(maxBytes))) {
    throw new TypeError(
      `Cannot read the journal "${path}" in pieces of ${maxBytes} bytes: give a positive integer`,
    );
  }
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { events: [], offset, size: 0, more: false };
    throw err;
  }
  let start: number;
  let size: number;
  try {
    const head = new Uint8Array(HEADER_MAX);
    start = startOf(head.subarray(0, await readAt(f, 0, head)));
    size = (await f.stat()).size;
    if (offset >= start) {
      // A journal shorter than the offset was replaced: its current segment again.
      if (offset - start > size) {
        return { events: [], offset: start, size: start + size, more: false };
      }
      const r = await readLines(f, offset - start, size, maxBytes);
      return { events: r.events, offset: start + r.end, size: start + size, more: r.more };
    }
  } finally {
    f.close();
  }
  // In an older segment.
  const files = journalFiles(path);
  const starts = olderStarts(files);
  const next = (s: number) => starts.find((x) => x > s) ?? start;
  const from = [...starts].reverse().find((s) => s <= offset);
  if (from === undefined) {
    // Its segment is no longer kept: on from the oldest that is.
    return { events: [], offset: starts[0] ?? start, size: start + size, more: true };
  }
  let seg: Deno.FsFile;
  try {
    seg = await Deno.open(segmentPath(files, from), { read: true });
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    // Removed since it was listed.
    return { events: [], offset: next(from), size: start + size, more: true };
  }
  try {
    const segSize = (await seg.stat()).size;
    const r = await readLines(seg, offset - from, segSize, maxBytes);
    // An older segment is whole: once read (or left with a torn line), on to the next.
    const done = !r.more;
    return {
      events: r.events,
      offset: done ? next(from) : from + r.end,
      size: start + size,
      more: true,
    };
  } finally {
    seg.close();
  }
}

/**
 * The events of the whole lines of `f` from `local` to `size`, about `maxBytes` of them;
 * `end` is just after the last whole line read, `more` whether lines remain before `size`.
 */
async function readLines(
  f: Deno.FsFile,
  local: number,
  size: number,
  maxBytes: number,
): Promise<{ events: JournalLine[]; end: number; more: boolean }> {
  if (size <= local) return { events: [], end: local, more: false };
  let buf = new Uint8Array(Math.min(size - local, maxBytes));
  let got = 0;
  let lastNl = -1;
  await f.seek(local, Deno.SeekMode.Start);
  while (true) {
    while (got < buf.length) {
      const n = await f.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    lastNl = buf.subarray(0, got).lastIndexOf(10);
    // A line longer than `maxBytes`: read on until it ends.
    if (lastNl >= 0 || got < buf.length || local + got >= size) break;
    const bigger = new Uint8Array(Math.min(size - local, buf.length * 2));
    bigger.set(buf);
    buf = bigger;
  }
  if (lastNl < 0) return { events: [], end: local, more: false };
  const text = decoder.decode(buf.subarray(0, lastNl));
  const events: JournalLine[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const e = JSON.parse(line) as JournalLine;
      if (e.type !== SEGMENT_HEADER) events.push(e);
    } catch {
      // skip a damaged line
    }
  }
  return { events, end: local + lastNl + 1, more: local + got < size };
}
