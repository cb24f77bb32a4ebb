/**
 * The scheduler's typed events and their journal. Every event is delivered in-process to
 * subscribers and appended as one JSON line to `events.jsonl` in the store, so a dashboard
 * in another process (or started later) can replay what it missed and follow what comes.
 * The journal is rotated so that it stays bounded (`journal.ts`).
 */
import { type DatumState, isFinal, type JobState } from "../pipeline/states.ts";
import {
  JournalWriter,
  type JournalWriterOptions,
  readJournalLines,
  type ReadJournalOptions,
} from "./journal.ts";

export { journalEnd, journalStart, type ReadJournalOptions } from "./journal.ts";

/** Progress counts of a job. */
export interface Progress {
  readonly total: number;
  readonly processed: number;
  readonly skipped: number;
  readonly failed: number;
  readonly recovered: number;
}

/** Event payloads by type. */
export interface EventMap {
  "job:created": { job: string; pipeline: string; version: number; inputs: readonly string[] };
  "job:state": {
    job: string;
    pipeline: string;
    state: JobState;
    reason?: string;
    progress: Progress;
  };
  "datum:started": { job: string; pipeline: string; datum: string; inputs: readonly string[] };
  "datum:finished": {
    job: string;
    pipeline: string;
    datum: string;
    state: DatumState;
    durationMs: number;
    message?: string;
  };
  "stage:log": {
    job: string;
    pipeline: string;
    datum: string;
    stream: "stdout" | "stderr";
    line: string;
  };
  "commit:created": { repo: string; branch: string; commit: string; origin: string };
  "branch:moved": { repo: string; branch: string; from: string | null; to: string | null };
  "cron:tick": { pipeline: string; input: string; repo: string; tick: string };
  /**
   * A job record the scheduler could not read (empty, torn, not a job) and skipped: `file`
   * is the record, `message` says what is wrong and the remedy (removing `file`). Sent once
   * per record by a scheduler.
   */
  "job:damaged": { job: string; pipeline: string; file: string; message: string };
}

/** Names of all events. */
export type EventType = keyof EventMap;

/** One event: its type, time and payload. */
export type TuskEvent = {
  [K in EventType]: { readonly type: K; readonly time: string } & Readonly<EventMap[K]>;
}[EventType];

/** A subscriber. */
export type Listener = (event: TuskEvent) => void;

/** The most journal bytes the `stage:log` lines of one datum of a job take (see `EventBus`). */
export const DATUM_JOURNAL_BYTES = 1024 ** 2;

/** The last line journaled for a datum whose log lines passed `DATUM_JOURNAL_BYTES`. */
export const JOURNAL_LOG_MARKER =
  "[… later lines of this datum are left out of the event journal (1 MiB per datum): tusk logs shows them once it ends]";

/**
 * In-process event bus that also journals every event. Subscribers get every event; the
 * journal gets each datum's `stage:log` lines (of one job) up to `maxDatumLogBytes`, then one
 * `JOURNAL_LOG_MARKER` line, so a chatty stage cannot bloat it (the datum's own logs, capped
 * apart, keep what was printed).
 */
export class EventBus {
  readonly #listeners = new Set<Listener>();
  readonly #journal: JournalWriter | null;
  readonly #clock: () => Date;
  readonly #maxDatumLogBytes: number;
  /** Journal bytes of log lines by job and datum, for the datums running; -1 once over. */
  readonly #logBytes = new Map<string, number>();

  constructor(
    options: {
      journal?: string;
      clock?: () => Date;
      maxDatumLogBytes?: number;
      /** How the journal rotates (segment size, segments kept). */
      rotation?: Omit<JournalWriterOptions, "clock">;
    } = {},
  ) {
    this.#clock = options.clock ?? (() => new Date());
    this.#journal = options.journal
      ? new JournalWriter(options.journal, { ...options.rotation, clock: this.#clock })
      : null;
    this.#maxDatumLogBytes = options.maxDatumLogBytes ?? DATUM_JOURNAL_BYTES;
  }

  /** Subscribe; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Emit an event to every subscriber and the journal. */
  emit<K extends EventType>(type: K, payload: EventMap[K]): void {
    const event = { type, time: this.#clock().toISOString(), ...payload } as unknown as TuskEvent;
    if (this.#journal) {
      const line = this.#journalLine(event);
      try {
        if (line !== null) this.#journal.append(line);
      } catch {
        // The journal is a convenience for other processes; a full disk must not stop jobs.
      }
    }
    for (const l of this.#listeners) l(event);
  }

  /** The bytes `event` adds to the journal, or null for a log line past its datum's budget. */
  #journalLine(event: TuskEvent): Uint8Array | null {
    const encode = (e: TuskEvent) => new TextEncoder().encode(JSON.stringify(e) + "\n");
    if (event.type === "datum:finished") this.#logBytes.delete(`${event.job}\0${event.datum}`);
    if (event.type === "job:state" && isFinal(event.state)) {
      for (const key of this.#logBytes.keys()) {
        if (key.startsWith(`${event.job}\0`)) this.#logBytes.delete(key);
      }
    }
    if (event.type !== "stage:log") return encode(event);
    const key = `${event.job}\0${event.datum}`;
    const used = this.#logBytes.get(key) ?? 0;
    if (used < 0) return null;
    const line = encode(event);
    if (used + line.length <= this.#maxDatumLogBytes) {
      this.#logBytes.set(key, used + line.length);
      return line;
    }
    this.#logBytes.set(key, -1);
    return encode({ ...event, line: JOURNAL_LOG_MARKER });
  }

  /** Close the journal file. */
  close(): void {
    this.#journal?.close();
  }
}

/** What one `readJournal()` call read. */
export interface JournalChunk {
  /** The events of the complete lines read; damaged lines are skipped. */
  readonly events: TuskEvent[];
  /** Where the next read starts: just after the last complete line read. */
  readonly offset: number;
  /** Where the journal ends, when it was read (its current segment's start plus size). */
  readonly size: number;
  /** True when the read stopped before the end: read again at once for more. */
  readonly more: boolean;
}

/**
 * Read journal events from offset `offset`, across rotations (see `journal.ts`); returns
 * them and the offset to continue from. A partial last line (being written) is left for the
 * next read.
 */
export async function readJournal(
  path: string,
  offset = 0,
  options: ReadJournalOptions = {},
): Promise<JournalChunk> {
  const r = await readJournalLines(path, offset, options);
  return { ...r, events: r.events as TuskEvent[] };
}
