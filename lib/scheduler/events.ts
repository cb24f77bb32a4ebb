/**
 * The scheduler's typed events and their journal. Every event is delivered in-process to
 * subscribers and appended as one JSON line to `events.jsonl` in the store, so a dashboard
 * in another process (or started later) can replay what it missed and follow what comes.
 */

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
    state: string;
    reason?: string;
    progress: Progress;
  };
  "datum:started": { job: string; pipeline: string; datum: string; inputs: readonly string[] };
  "datum:finished": {
    job: string;
    pipeline: string;
    datum: string;
    state: string;
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
}

/** Names of all events. */
export type EventType = keyof EventMap;

/** One event: its type, time and payload. */
export type TuskEvent = {
  [K in EventType]: { readonly type: K; readonly time: string } & Readonly<EventMap[K]>;
}[EventType];

/** A subscriber. */
export type Listener = (event: TuskEvent) => void;

/** In-process event bus that also journals every event. */
export class EventBus {
  readonly #listeners = new Set<Listener>();
  readonly #journal: string | null;
  readonly #clock: () => Date;
  #file: Deno.FsFile | null = null;

  constructor(options: { journal?: string; clock?: () => Date } = {}) {
    this.#journal = options.journal ?? null;
    this.#clock = options.clock ?? (() => new Date());
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
      try {
        this.#file ??= Deno.openSync(this.#journal, { append: true, create: true });
        this.#file.writeSync(new TextEncoder().encode(JSON.stringify(event) + "\n"));
      } catch {
        // The journal is a convenience for other processes; a full disk must not stop jobs.
      }
    }
    for (const l of this.#listeners) l(event);
  }

  /** Close the journal file. */
  close(): void {
    this.#file?.close();
    this.#file = null;
  }
}

/** Read journal events from byte `offset`; returns them and the offset to continue from. */
export async function readJournal(
  path: string,
  offset = 0,
): Promise<{ events: TuskEvent[]; offset: number }> {
  let f: Deno.FsFile;
  try {
    f = await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return { events: [], offset };
    throw err;
  }
  try {
    const size = (await f.stat()).size;
    if (size <= offset) return { events: [], offset: size < offset ? 0 : offset };
    await f.seek(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - offset);
    let got = 0;
    while (got < buf.length) {
      const n = await f.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    const lastNl = buf.subarray(0, got).lastIndexOf(10);
    if (lastNl < 0) return { events: [], offset };
    const text = new TextDecoder().decode(buf.subarray(0, lastNl));
    const events: TuskEvent[] = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as TuskEvent);
      } catch {
        // skip a damaged line
      }
    }
    return { events, offset: offset + lastNl + 1 };
  } finally {
    f.close();
  }
}
