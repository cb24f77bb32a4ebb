/**
 * A fake clock and a fake file watcher for the scheduler's unit tests: time moves only
 * when a test advances it (firing the timers due on the way), and file-system events come
 * only when a test emits them. Everything else stays real: the store, the stages.
 */
import type { Clock, TimerId } from "../../lib/scheduler/clock.ts";
import type { Watch, Watcher, WatchEvent } from "../../lib/scheduler/watch.ts";
import type { EventBus, EventType, TuskEvent } from "../../lib/scheduler/events.ts";

/** Let pending promise callbacks and I/O completions run: one real macrotask. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A clock whose time moves only by `advance()`. */
export class FakeClock implements Clock {
  #now: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerId {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as number);
  }

  /** Delays of the pending timers from now (ms), soonest first. */
  pending(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /**
   * Move time on by `ms`, firing each timer due on the way at its own time, in order (one
   * that a fired timer sets runs too, if it falls due), letting the callbacks settle between.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    while (true) {
      let due: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) {
        if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry;
      }
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.#now = due[1].at;
      due[1].fn();
      await settle();
    }
    this.#now = end;
  }
}

/** A watcher that yields the events a test emits, until it is closed. */
class FakeWatcher implements Watcher {
  readonly path: string;
  readonly recursive: boolean;
  #queue: WatchEvent[] = [];
  #waiting: ((r: IteratorResult<WatchEvent>) => void) | null = null;
  closed = false;

  constructor(path: string, recursive: boolean) {
    this.path = path;
    this.recursive = recursive;
  }

  push(event: WatchEvent): void {
    if (this.closed) return;
    const w = this.#waiting;
    this.#waiting = null;
    if (w) w({ value: event, done: false });
    else this.#queue.push(event);
  }

  close(): void {
    this.closed = true;
    const w = this.#waiting;
    this.#waiting = null;
    w?.({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchEvent> {
    return {
      next: () => {
        const e = this.#queue.shift();
        if (e) return Promise.resolve({ value: e, done: false });
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => this.#waiting = resolve);
      },
    };
  }
}

/** The file watcher of a test: it sees only what `emit()` says happened. */
export class FakeWatch {
  readonly #watchers: FakeWatcher[] = [];

  /** The `watch` option of a scheduler. */
  readonly watch: Watch = (path, options) => {
    const w = new FakeWatcher(path, options.recursive);
    this.#watchers.push(w);
    return w;
  };

  /** Folders watched now. */
  get watched(): string[] {
    return this.#watchers.filter((w) => !w.closed).map((w) => w.path);
  }

  /** Say that `kind` happened to `path`: every open watcher of a folder holding it hears. */
  emit(kind: string, path: string): void {
    for (const w of this.#watchers) {
      const dir = path.slice(0, path.lastIndexOf("/"));
      if (dir === w.path || (w.recursive && path.startsWith(`${w.path}/`))) {
        w.push({ kind, paths: [path] });
      }
    }
  }
}

/**
 * The first event of `type` on `bus` that `match` accepts, from now on; rejects after
 * `ms` of real time (a safety net: tests never assert on time).
 */
export function nextEvent<K extends EventType>(
  bus: EventBus,
  type: K,
  match: (e: Extract<TuskEvent, { type: K }>) => boolean = () => true,
  ms = 60_000,
): Promise<Extract<TuskEvent, { type: K }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`No ${type} event came`));
    }, ms);
    const off = bus.on((e) => {
      if (e.type !== type) return;
      const ev = e as Extract<TuskEvent, { type: K }>;
      if (!match(ev)) return;
      clearTimeout(timer);
      off();
      resolve(ev);
    });
  });
}
