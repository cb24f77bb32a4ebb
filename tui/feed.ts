/**
 * Where the dashboard's events come from. When this process runs the scheduler, its bus
 * (after replaying the journal's history, so the list starts with what happened before);
 * when another process holds the lease, the journal `events.jsonl`, replayed and then
 * tailed through `readJournal`. A feed delivers batches and says which of the two it is.
 *
 * The journal is read in pieces of at most `REPLAY_CHUNK_BYTES`, and the next piece is read
 * only once the listener has taken the last one (when it returns a promise, once that
 * settles), so replaying a long history holds one piece of it in memory at a time. The
 * history replayed is the journal's current segment (`journalStart()`): a rotated journal
 * bounds it, whatever the store's age; older jobs come from the snapshot's job records.
 */
import { journalStart, LeaseHeldError, readJournal, type TuskEvent } from "../lib/mod.ts";
import type { FeedItem, ReplayProgress, SchedulerNotice } from "./view.ts";

/**
 * Takes one batch. It may return a promise to hold the feed back: the next piece of the
 * journal is read once it settles (events from the bus still come as they happen).
 */
export type FeedListener = (items: readonly FeedItem[]) => void | Promise<void>;

/** Calls `listener` with batches of events until the returned function is called. */
export type Subscribe = (listener: FeedListener) => () => void;

/** The part of an `EventBus` a feed needs. */
export interface BusLike {
  on(listener: (event: TuskEvent) => void): () => void;
}

/** Reads the journal from a byte offset (`readJournal`, or a stand-in in tests). */
export type JournalReader = typeof readJournal;

/** Where a replay of the journal starts (`journalStart`, or a stand-in in tests). */
export type JournalStart = typeof journalStart;

/** How often a tailed journal is read, in milliseconds. */
export const TAIL_INTERVAL_MS = 100;

/** The most bytes of the journal read (and so held as events) at once. */
export const REPLAY_CHUNK_BYTES = 256 * 1024;

function notice(state: string): SchedulerNotice {
  return { type: "tui:scheduler", time: new Date().toISOString(), state };
}

function progress(read: number, size: number, done: boolean): ReplayProgress {
  return { type: "tui:replay", time: new Date().toISOString(), read, size, done };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Options of the journal readers below. */
interface ReadOptions {
  readonly read: JournalReader;
  readonly start: JournalStart;
  readonly chunkBytes: number;
}

/**
 * Read `path` from `offset` every `intervalMs`, handing on what was appended; a read that
 * stops at `chunkBytes` is followed by the next one at once. With `replaying`, the reads up
 * to the end of the journal carry replay progress.
 */
function tail(
  path: string,
  offset: number | null,
  listener: FeedListener,
  options: ReadOptions & { intervalMs: number; replaying: boolean },
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failing = false;
  let replaying = options.replaying;
  /** Where the replay began: progress counts from it. */
  let from = 0;
  const tick = async () => {
    if (offset === null) {
      try {
        offset = from = await options.start(path);
      } catch {
        offset = 0;
      }
    }
    let more = true;
    while (more && !stopped) more = await readOnce();
    if (!stopped) timer = setTimeout(tick, options.intervalMs);
  };
  /** One read, handed on; true when the journal has more to read at once. */
  const readOnce = async (): Promise<boolean> => {
    let more = false;
    let items: FeedItem[] = [];
    try {
      const r = await options.read(path, offset!, { maxBytes: options.chunkBytes });
      offset = r.offset;
      more = r.more;
      items = r.events;
      if (replaying) {
        items.push(progress(r.offset - from, r.size - from, !r.more));
        replaying = r.more;
      }
      failing = false;
    } catch (err) {
      if (!failing) items.push(notice(`cannot read the event journal: ${describe(err)}`));
      if (replaying) items.push(progress(offset! - from, offset! - from, true));
      replaying = false;
      failing = true;
    }
    if (!stopped && items.length) await listener(items);
    return more;
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Replay the journal at `path` (its current segment), then tail it (another process runs
 * the scheduler).
 */
export function journalFeed(
  path: string,
  options: {
    intervalMs?: number;
    read?: JournalReader;
    start?: JournalStart;
    state?: string;
    chunkBytes?: number;
  } = {},
): Subscribe {
  return (listener) => {
    void listener([notice(options.state ?? "attached: following the event journal")]);
    return tail(path, null, listener, {
      intervalMs: options.intervalMs ?? TAIL_INTERVAL_MS,
      read: options.read ?? readJournal,
      start: options.start ?? journalStart,
      chunkBytes: options.chunkBytes ?? REPLAY_CHUNK_BYTES,
      replaying: true,
    });
  };
}

/**
 * Bus events that came while the journal was being replayed. The bus journals each event
 * before delivering it, so the replay reads most of them too: those are noted as the
 * replay passes them, and only the rest are handed on after it.
 */
class LiveDuringReplay {
  readonly #events: TuskEvent[] = [];
  /** JSON of buffered events the replay has not passed yet, with their counts. */
  readonly #unseen = new Map<string, number>();
  /** JSON of buffered events the replay passed, with their counts. */
  readonly #seen = new Map<string, number>();
  #since: string | null = null;

  add(event: TuskEvent): void {
    this.#events.push(event);
    bump(this.#unseen, JSON.stringify(event), 1);
    this.#since ??= event.time;
  }

  /** Note the events of one replayed piece of the journal. */
  replayed(events: readonly TuskEvent[]): void {
    if (this.#since === null || this.#unseen.size === 0) return;
    for (const e of events) {
      if (e.time < this.#since) continue;
      const key = JSON.stringify(e);
      if (!this.#unseen.has(key)) continue;
      bump(this.#unseen, key, -1);
      bump(this.#seen, key, 1);
    }
  }

  /** The buffered events the replay did not read, in order. */
  rest(): TuskEvent[] {
    if (this.#seen.size === 0) return this.#events;
    return this.#events.filter((e) => {
      const key = JSON.stringify(e);
      if (!this.#seen.has(key)) return true;
      bump(this.#seen, key, -1);
      return false;
    });
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

/** Options of `schedulerFeed()`. */
export interface SchedulerFeedOptions {
  /** The bus of the scheduler this process serves. */
  readonly bus: BusLike;
  /** `Scheduler.serve()`: a `LeaseHeldError` from it switches the feed to the journal. */
  readonly serving: Promise<unknown>;
  /**
   * Resolves with the pid of another process found holding the lease while `serving` waits
   * for it (`serve()`'s `onHeld`): the feed switches to the journal, as for a
   * `LeaseHeldError`.
   */
  readonly held?: Promise<number>;
  /**
   * Resolves once this process took the lease over after `held` (`serve()`'s `onServing`):
   * the feed says so and goes on following the journal, where this process's events go.
   */
  readonly tookOver?: Promise<void>;
  /** Path of the store's `events.jsonl`. */
  readonly journal: string;
  readonly pid?: number;
  readonly intervalMs?: number;
  readonly read?: JournalReader;
  readonly start?: JournalStart;
  /** The most bytes of the journal read at once (default `REPLAY_CHUNK_BYTES`). */
  readonly chunkBytes?: number;
}

/**
 * The scheduler this process serves: the journal's history, then its bus, live. If it
 * could not take the lease, the journal instead, tailed from where the history ended.
 */
export function schedulerFeed(options: SchedulerFeedOptions): Subscribe {
  const reading: ReadOptions = {
    read: options.read ?? readJournal,
    start: options.start ?? journalStart,
    chunkBytes: options.chunkBytes ?? REPLAY_CHUNK_BYTES,
  };
  const pid = options.pid ?? Deno.pid;
  // Handled here at once: serve() may fail before anyone subscribes.
  options.serving.catch(() => {});
  return (listener) => {
    let stopped = false;
    let live: LiveDuringReplay | null = new LiveDuringReplay();
    let offBus: (() => void) | null = options.bus.on((e) => {
      if (stopped) return;
      if (live) live.add(e);
      else void listener([e]);
    });
    let stopTail: (() => void) | null = null;
    void listener([notice(`running in this process (pid ${pid})`)]);

    // The history, piece by piece; the last piece also carries the live events it did not
    // contain, and from then on the bus's events go straight to the listener.
    const replayed = (async (): Promise<number> => {
      let from = 0;
      try {
        from = await reading.start(options.journal);
      } catch {
        // read from the beginning: the read below says what is wrong
      }
      let offset = from;
      while (true) {
        let batch: FeedItem[] = [];
        let done = true;
        try {
          const r = await reading.read(options.journal, offset, { maxBytes: reading.chunkBytes });
          offset = r.offset;
          live?.replayed(r.events);
          batch = r.events;
          done = !r.more;
          const missed = done ? live?.rest() ?? [] : [];
          for (const e of missed) batch.push(e);
          batch.push(progress(r.offset - from, r.size - from, done));
        } catch (err) {
          batch.push(notice(`cannot read the event journal: ${describe(err)}`));
          for (const e of live?.rest() ?? []) batch.push(e);
          batch.push(progress(offset - from, offset - from, true));
        }
        if (stopped) return offset;
        if (done) live = null;
        await listener(batch);
        if (done || stopped) return offset;
      }
    })();

    /** Follow the journal from where the history ended: `holder` runs the scheduler. */
    let attached = false;
    const attach = async (holder: number) => {
      if (attached) {
        void listener([notice(`attached to pid ${holder}: following its event journal`)]);
        return;
      }
      attached = true;
      offBus?.();
      offBus = null;
      const offset = await replayed;
      if (stopped) return;
      void listener([notice(`attached to pid ${holder}: following its event journal`)]);
      stopTail = tail(options.journal, offset, listener, {
        ...reading,
        intervalMs: options.intervalMs ?? TAIL_INTERVAL_MS,
        replaying: false,
      });
      // The holder went and this process took over: its own events reach the journal too.
      void options.tookOver?.then(() => {
        if (stopped) return;
        void listener([
          notice(`running in this process (pid ${pid}): took over from pid ${holder}`),
        ]);
      });
    };
    void options.held?.then(async (holder) => {
      if (!stopped) await attach(holder);
    });
    options.serving.then(
      () => {
        if (!stopped) void listener([notice("stopped")]);
      },
      async (err) => {
        if (stopped) return;
        if (!(err instanceof LeaseHeldError)) {
          void listener([notice(`failed: ${describe(err)}`)]);
          return;
        }
        await attach((err.data as { pid?: number }).pid ?? 0);
      },
    );
    return () => {
      stopped = true;
      offBus?.();
      offBus = null;
      stopTail?.();
    };
  };
}
