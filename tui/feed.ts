/**
 * Where the dashboard's events come from. When this process runs the scheduler, its bus
 * (after replaying the journal's history, so the list starts with what happened before);
 * when another process holds the lease, the journal `events.jsonl`, replayed and then
 * tailed through `readJournal`. A feed delivers batches and says which of the two it is.
 */
import { LeaseHeldError, readJournal, type TuskEvent } from "../lib/mod.ts";
import type { FeedItem, SchedulerNotice } from "./state.ts";

/** Calls `listener` with batches of events until the returned function is called. */
export type Subscribe = (listener: (items: readonly FeedItem[]) => void) => () => void;

/** The part of an `EventBus` a feed needs. */
export interface BusLike {
  on(listener: (event: TuskEvent) => void): () => void;
}

/** Reads the journal from a byte offset (`readJournal`, or a stand-in in tests). */
export type JournalReader = typeof readJournal;

/** How often a tailed journal is read, in milliseconds. */
export const TAIL_INTERVAL_MS = 100;

function notice(state: string): SchedulerNotice {
  return { type: "tui:scheduler", time: new Date().toISOString(), state };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Read `path` from `offset` every `intervalMs`, handing on what was appended. */
function tail(
  path: string,
  offset: number,
  listener: (items: readonly FeedItem[]) => void,
  options: { intervalMs: number; read: JournalReader },
): () => void {
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let failing = false;
  const tick = async () => {
    try {
      const r = await options.read(path, offset);
      offset = r.offset;
      if (!stopped && r.events.length) listener(r.events);
      failing = false;
    } catch (err) {
      if (!stopped && !failing) {
        listener([notice(`cannot read the event journal: ${describe(err)}`)]);
      }
      failing = true;
    }
    if (!stopped) timer = setTimeout(tick, options.intervalMs);
  };
  void tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/** Replay the journal at `path`, then tail it (another process runs the scheduler). */
export function journalFeed(
  path: string,
  options: { intervalMs?: number; read?: JournalReader; state?: string } = {},
): Subscribe {
  return (listener) => {
    listener([notice(options.state ?? "attached: following the event journal")]);
    return tail(path, 0, listener, {
      intervalMs: options.intervalMs ?? TAIL_INTERVAL_MS,
      read: options.read ?? readJournal,
    });
  };
}

/** Options of `schedulerFeed()`. */
export interface SchedulerFeedOptions {
  /** The bus of the scheduler this process serves. */
  readonly bus: BusLike;
  /** `Scheduler.serve()`: a `LeaseHeldError` from it switches the feed to the journal. */
  readonly serving: Promise<unknown>;
  /** Path of the store's `events.jsonl`. */
  readonly journal: string;
  readonly pid?: number;
  readonly intervalMs?: number;
  readonly read?: JournalReader;
}

/**
 * The scheduler this process serves: the journal's history, then its bus, live. If it
 * could not take the lease, the journal instead, tailed from where the history ended.
 */
export function schedulerFeed(options: SchedulerFeedOptions): Subscribe {
  const read = options.read ?? readJournal;
  const pid = options.pid ?? Deno.pid;
  // Handled here at once: serve() may fail before anyone subscribes.
  options.serving.catch(() => {});
  return (listener) => {
    let stopped = false;
    let buffer: TuskEvent[] | null = [];
    let offBus: (() => void) | null = options.bus.on((e) => {
      if (stopped) return;
      if (buffer) buffer.push(e);
      else listener([e]);
    });
    let stopTail: (() => void) | null = null;
    listener([notice(`running in this process (pid ${pid})`)]);

    const replayed = (async (): Promise<number> => {
      let history: TuskEvent[] = [];
      let offset = 0;
      try {
        ({ events: history, offset } = await read(options.journal, 0));
      } catch (err) {
        listener([notice(`cannot read the event journal: ${describe(err)}`)]);
      }
      const live = buffer ?? [];
      buffer = null;
      if (stopped) return offset;
      // Live events the bus delivered while the journal was read are also at its end.
      let overlap = 0;
      const first = live[0];
      if (first) {
        const key = JSON.stringify(first);
        for (let i = history.length - 1; i >= 0 && history[i]!.time >= first.time; i--) {
          if (JSON.stringify(history[i]) === key) {
            overlap = history.length - i;
            break;
          }
        }
      }
      const batch: FeedItem[] = history;
      for (const e of live.slice(overlap)) batch.push(e);
      if (batch.length) listener(batch);
      return offset;
    })();

    options.serving.then(
      () => {
        if (!stopped) listener([notice("stopped")]);
      },
      async (err) => {
        if (stopped) return;
        if (!(err instanceof LeaseHeldError)) {
          listener([notice(`failed: ${describe(err)}`)]);
          return;
        }
        offBus?.();
        offBus = null;
        const offset = await replayed;
        if (stopped) return;
        const holder = (err.data as { pid?: number }).pid ?? 0;
        listener([notice(`attached to pid ${holder}: following its event journal`)]);
        stopTail = tail(options.journal, offset, listener, {
          intervalMs: options.intervalMs ?? TAIL_INTERVAL_MS,
          read,
        });
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
