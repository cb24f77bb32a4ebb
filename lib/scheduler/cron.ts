/**
 * Cron inputs: the next tick of a spec (`@every 2s` or a cron expression through croner),
 * the tick commit itself — a file named after the tick time committed to the cron repo,
 * replacing earlier ticks when `overwrite` is set, as Pachyderm does — and the timers that
 * fire ticks on time.
 */
import { Cron } from "croner";
import type { CommitInfo, Store } from "../store/store.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import { type CronInput, inputLeaves } from "../pipeline/spec/input.ts";
import { parseCronSpec } from "../pipeline/spec/units.ts";
import type { Clock, TimerId } from "./clock.ts";

/** The first tick strictly after `after`. */
export function nextTick(spec: string, after: Date, start?: Date): Date {
  const s = parseCronSpec(spec, "cron.spec");
  if (s.kind === "every") {
    const origin = (start ?? new Date(0)).getTime();
    const n = Math.floor((after.getTime() - origin) / s.everyMs) + 1;
    return new Date(origin + n * s.everyMs);
  }
  const next = new Cron(s.pattern, { paused: true }).nextRun(after);
  if (!next) return new Date(8.64e15);
  return next;
}

/** Commit one tick file to the cron input's repo. */
export async function commitTick(store: Store, input: CronInput, tick: Date): Promise<CommitInfo> {
  const name = tick.toISOString().replace(/\.\d{3}Z$/, "Z");
  return await store.transact(async (tx) => {
    return await tx.commit(input.repo, "master", async (parent) => {
      const bytes = new TextEncoder().encode(`${name}\n`);
      const hash = await tx.batch.add(bytes);
      const edits = [{ op: "put" as const, path: [name], hash, size: bytes.length }];
      const base = input.overwrite || !parent ? EMPTY_TREE : parent.commit.tree;
      const r = await store.editTree(base, edits, tx.batch);
      return { tree: r.hash, size: r.size };
    }, { message: `Cron tick ${name}`, origin: "user" });
  });
}

/** The longest delay a timer takes (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What a cron timer does when it fires: tick `input` of `pipeline` for time `at`. */
export type FireTick = (pipeline: Pipeline, input: CronInput, at: Date) => void;

/**
 * The timers of cron inputs on a clock: one per live cron input, set for its next tick.
 * Re-armed at each look of the scheduler, so a long job holds up no cron pipeline's ticks.
 */
export class CronTimers {
  readonly #clock: Clock;
  readonly #fire: FireTick;
  readonly #timers = new Map<string, TimerId>();
  readonly #due = new Map<string, number>();

  constructor(clock: Clock, fire: FireTick) {
    this.#clock = clock;
    this.#fire = fire;
  }

  /**
   * Set a timer for the next tick of every cron input of `pipelines` (stopped ones left
   * out) that has none; cancel the timers of inputs no longer there.
   */
  arm(pipelines: readonly Pipeline[]): void {
    const live = new Set<string>();
    for (const p of pipelines) {
      if (p.stopped) continue;
      for (const input of inputLeaves(p.parsed.input, "cron")) {
        const key = `${p.name}/${input.name}`;
        live.add(key);
        if (this.#timers.has(key)) continue;
        const start = input.start ? new Date(input.start) : undefined;
        const next = nextTick(input.spec, new Date(this.#clock.now()), start);
        this.#due.set(key, next.getTime());
        this.#set(key, p, input, next);
      }
    }
    for (const [key, t] of this.#timers) {
      if (!live.has(key)) {
        this.#clock.clearTimeout(t);
        this.#timers.delete(key);
      }
    }
  }

  /**
   * Set the timer of `key` for tick `next`. A tick further off than the longest timer is
   * waited for in several timers: one that fires before the tick is due sets the next.
   */
  #set(key: string, p: Pipeline, input: CronInput, next: Date): void {
    const delay = Math.max(0, next.getTime() - this.#clock.now());
    this.#timers.set(
      key,
      this.#clock.setTimeout(() => {
        if (this.#clock.now() < next.getTime()) return this.#set(key, p, input, next);
        this.#timers.delete(key);
        this.#fire(p, input, next);
      }, Math.min(delay, MAX_TIMER_MS)),
    );
  }

  /** When each cron input ticks next (ms since epoch), by `pipeline/input`. */
  get schedule(): ReadonlyMap<string, number> {
    return this.#due;
  }

  /** Cancel every timer. */
  clear(): void {
    for (const t of this.#timers.values()) this.#clock.clearTimeout(t);
    this.#timers.clear();
  }
}
