/**
 * The scheduler: finds pipelines whose inputs moved and runs their jobs, resumes jobs a
 * crash interrupted, fires cron inputs, and — as a daemon (`tusk up`) — watches the store
 * (plus a periodic re-scan, since file events can be dropped) so a commit made by another
 * process starts its job within milliseconds. Stop and re-run requests arrive through the
 * same watcher (`requests.ts`). Its side effects come in through its options: the clock and
 * its timers, the file watcher and the process spawner, each the system's by default.
 */
import { LeaseHeldError } from "../errors.ts";
import { Layout } from "../store/layout.ts";
import type { Store } from "../store/store.ts";
import type { StoreState } from "../store/state.ts";
import { type JobRecord, JobStore } from "../pipeline/jobs.ts";
import { isFinal } from "../pipeline/states.ts";
import { dependencyOrder, type Pipeline, pipelinesOf } from "../pipeline/pipelines.ts";
import { type CronInput, inputLeaves } from "../pipeline/spec/input.ts";
import { currentTrigger } from "../pipeline/trigger.ts";
import type { SandboxMode } from "../runner/detect.ts";
import type { Spawner } from "../runner/run_stage.ts";
import { type Clock, sleep, systemClock, type TimerId } from "./clock.ts";
import { commitTick, CronTimers } from "./cron.ts";
import { EventBus } from "./events.ts";
import { createJob, type JobContext } from "./job_state.ts";
import { acquireLease, type Lease, leaseHolder } from "./lease.ts";
import { JobRequests } from "./requests.ts";
import { runJob } from "./run_job.ts";
import { closeWatcher, follow, type Watch, watchFs } from "./watch.ts";

/** Options of a scheduler. */
export interface SchedulerOptions {
  /** How stages are sandboxed, or its promise (see `JobContext.sandbox`). */
  readonly sandbox: SandboxMode | Promise<SandboxMode>;
  readonly bus?: EventBus;
  readonly cores?: number;
  /** The most datums one batched process is given (default: `BATCH_DATUMS`). */
  readonly batchDatums?: number;
  /**
   * The process is shutting down (Ctrl-C, SIGTERM, the dashboard's `q`): nothing more starts,
   * running jobs end their stages at once and are left unfinished, to resume; the runs so
   * ended count no try.
   */
  readonly signal?: AbortSignal;
  /** Memory cap of stages whose spec sets none (default: a quarter of RAM). */
  readonly defaultMemoryBytes?: number;
  /**
   * The time and the timers of everything the scheduler does on time: cron ticks, re-scans,
   * job timeouts, the times in job records, the lease and events (default: the system's).
   */
  readonly clock?: Clock;
  /** Watches the store for commits and requests of other processes (default: `Deno.watchFs`). */
  readonly watch?: Watch;
  /** Starts the stages' processes (default: `new Deno.Command(…).spawn()`). */
  readonly spawn?: Spawner;
}

/** How often a `runPending()` with jobs running looks for new due jobs unprompted. */
const RESCAN_MS = 1000;

/** How often a `serve()` waiting for the lease looks whether its holder is gone. */
const LEASE_POLL_MS = 250;

/** Options of `Scheduler.serve()`. */
export interface ServeOptions {
  /** How often to look for due jobs unprompted (default 1 s). */
  readonly rescanMs?: number;
  /** Called after each look, once nothing is due. */
  readonly onIdle?: () => void;
  /** Called with the error of a look that failed (the next look tries again). */
  readonly onError?: (err: unknown) => void;
  /**
   * Another live process holds the lease (its pid): wait for it to go and take over,
   * rather than throw `LeaseHeldError`.
   */
  readonly onHeld?: (pid: number) => void;
  /** How often a wait for the lease looks whether its holder is gone (default 250 ms). */
  readonly leasePollMs?: number;
  /** Called once this process holds the lease and serves. */
  readonly onServing?: () => void;
}

/** Runs jobs for one store. */
export class Scheduler {
  readonly store: Store;
  readonly bus: EventBus;
  readonly jobs: JobStore;
  readonly #ctx: JobContext;
  readonly #clock: Clock;
  readonly #watch: Watch;
  readonly #cron: CronTimers;
  #ledgerSeq = -1;
  /** The requests `serve()` watches while it runs. */
  #requests: JobRequests | null = null;

  constructor(store: Store, options: SchedulerOptions) {
    const clock = options.clock ?? systemClock;
    this.store = store;
    this.bus = options.bus ??
      new EventBus({ journal: store.layout.events, clock: () => new Date(clock.now()) });
    this.jobs = new JobStore(store);
    this.#clock = clock;
    this.#watch = options.watch ?? watchFs;
    this.#ctx = {
      store,
      jobs: this.jobs,
      bus: this.bus,
      sandbox: options.sandbox,
      cores: options.cores ?? navigator.hardwareConcurrency ?? 2,
      clock,
      ...(options.batchDatums ? { batchDatums: options.batchDatums } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.defaultMemoryBytes ? { defaultMemoryBytes: options.defaultMemoryBytes } : {}),
      ...(options.spawn ? { spawn: options.spawn } : {}),
    };
    this.#cron = new CronTimers(clock, (p, input, at) => {
      // A tick that cannot be committed (e.g. the cron repo was deleted) is skipped; the
      // re-scan re-arms the timer for the next one.
      this.#tickInput(p.name, input, at).catch(() => {}).then(() => this.#poke?.());
    });
  }

  /** Wakes a running `runPending()` to look for due jobs now (set while one runs). */
  #nudge: (() => void) | null = null;

  /**
   * Run every job that is due until none is and none runs: unfinished jobs first (resumed),
   * then one job per pipeline whose inputs moved since its last job (or whose newest job a
   * re-run was asked for). Pipelines run side by side, so a long job holds up no other
   * pipeline's; one pipeline runs one job at a time, in order, and a pipeline waits while a
   * pipeline upstream of it runs (its input is about to move). While jobs run it looks again
   * when one ends, when `nudge()` is called (the daemon's watcher), when a re-run is asked
   * for and every `rescanMs`, so commits made meanwhile start their jobs; a running job
   * stops when a stop of it is asked for. A damaged job record is skipped (see
   * `#newestJob()`). A pipeline whose job cannot even record how it ended (say, the disk is
   * full) is left alone while the others run; once all have ended, the first such error is
   * thrown. Returns the jobs it ran.
   */
  async runPending(
    options: {
      rescanMs?: number;
      /** Called before each look (the daemon re-arms cron timers). */
      onScan?: () => Promise<void>;
    } = {},
  ): Promise<JobRecord[]> {
    const ran: JobRecord[] = [];
    const running = new Map<string, Promise<void>>();
    /** Pipelines whose job could not even record how it ended: left alone until next time. */
    const broken = new Map<string, unknown>();
    /** The store could not be read at all: nothing more starts. */
    let halted: { error: unknown } | null = null;
    let wake: (() => void) | null = null;
    /** Something changed since the last look began: look again before waiting. */
    let again = false;
    const nudge = () => {
      again = true;
      const w = wake;
      wake = null;
      w?.();
    };
    /** The requests of `serve()`, or, without it, this run's own (opened with its first job). */
    let own: JobRequests | null = null;
    const requests = async () =>
      this.#requests ?? (own ??= await JobRequests.open(this.jobs, this.#watch, nudge));
    /** The job `p` is due to run now, if any. */
    const dueJob = async (state: StoreState, p: Pipeline): Promise<JobRecord | null> => {
      const latest = await this.#newestJob(p.name);
      if (latest && !isFinal(latest.state)) return latest;
      // A re-run asked for the newest job is taken now, and honoured while it still holds.
      const rerun = latest ? await this.jobs.takeRerun(latest) : null;
      if (p.stopped) return null;
      const t = currentTrigger(state, p);
      if (!t) return null;
      if (latest?.trigger !== t.trigger) return await createJob(this.#ctx, p, t);
      if (!rerun) return null;
      return await createJob(this.#ctx, p, t, { rerunOf: latest.id, reprocess: rerun.reprocess });
    };
    const startDue = async () => {
      await options.onScan?.();
      await this.#emitLedgerEvents();
      await (this.#requests ?? own)?.recheck();
      const state = await this.store.state();
      const pipelines = dependencyOrder(await pipelinesOf(state));
      const names = new Set(pipelines.map((p) => p.name));
      /** Pipelines running or waiting on one upstream: those below them wait too. */
      const busy = new Set(running.keys());
      for (const p of pipelines) {
        if (this.#ctx.signal?.aborted) return;
        if (busy.has(p.name) || broken.has(p.name)) continue;
        if (inputLeaves(p.parsed.input).some((i) => names.has(i.repo) && busy.has(i.repo))) {
          busy.add(p.name);
          continue;
        }
        let job: JobRecord | null;
        try {
          job = await dueJob(state, p);
        } catch (err) {
          // One pipeline's trouble (a damaged record, a full disk) holds up no other.
          broken.set(p.name, err);
          continue;
        }
        if (job === null) continue;
        busy.add(p.name);
        const run = this.#runFollowed(p, job, await requests()).then(
          (done) => void ran.push(done),
          (error) => void broken.set(p.name, error),
        ).finally(() => {
          running.delete(p.name);
          nudge();
        });
        running.set(p.name, run);
      }
    };
    this.#nudge = nudge;
    try {
      while (true) {
        again = false;
        if (!this.#ctx.signal?.aborted && halted === null) {
          try {
            await startDue();
          } catch (error) {
            // The store itself cannot be read: start nothing more; the jobs running end first.
            halted = { error };
          }
        }
        if (running.size === 0) break;
        if (again) continue;
        const timer = this.#clock.setTimeout(nudge, options.rescanMs ?? RESCAN_MS);
        await new Promise<void>((resolve) => wake = resolve);
        this.#clock.clearTimeout(timer);
      }
    } finally {
      this.#nudge = null;
      (own as JobRequests | null)?.close();
    }
    if (halted !== null) throw (halted as { error: unknown }).error;
    await this.#emitLedgerEvents();
    const [first] = broken.values();
    if (first !== undefined) throw first;
    return ran;
  }

  /**
   * The newest readable job of `pipeline`. A damaged record newer than it is skipped, as if
   * it had been removed (its outputs live in commits and the datum index), and reported
   * once (`job:damaged`, naming its file and the remedy): one bad record holds up nothing.
   */
  async #newestJob(pipeline: string): Promise<JobRecord | null> {
    // A finished job is read without its datums: only its trigger and state matter here.
    const { jobs: [newest], damaged } = await this.jobs.scan({ pipeline, limit: 1, heads: true });
    for (const d of damaged) {
      if (this.#reported.has(d.file)) continue;
      this.#reported.add(d.file);
      const { id: job, pipeline: name, file } = d;
      this.bus.emit("job:damaged", { job, pipeline: name, file, message: d.error.message });
    }
    return newest ?? null;
  }

  /** The damaged job records already reported (their files). */
  readonly #reported = new Set<string>();

  /** Run `job` of `p`, stopping it when `requests` see a stop of it asked for. */
  async #runFollowed(p: Pipeline, job: JobRecord, requests: JobRequests): Promise<JobRecord> {
    const stop = await requests.follow(job);
    try {
      return await runJob(this.#ctx, p, job, { stop });
    } finally {
      await requests.release(job);
    }
  }

  /** Make a running `runPending()` look for due jobs now (a commit was seen). */
  nudge(): void {
    this.#nudge?.();
  }

  /** Turn ledger entries made since the last look into commit/branch events. */
  async #emitLedgerEvents(): Promise<void> {
    const state = await this.store.state();
    if (this.#ledgerSeq < 0) {
      this.#ledgerSeq = state.ledger.seq;
      return;
    }
    if (state.ledger.seq === this.#ledgerSeq) return;
    for await (const { entry } of this.store.ledgerSince(this.#ledgerSeq + 1)) {
      for (const c of entry.changes) {
        if (c.type === "branch:move") {
          this.bus.emit("branch:moved", { repo: c.repo, branch: c.branch, from: c.from, to: c.to });
        }
      }
    }
    this.#ledgerSeq = state.ledger.seq;
  }

  /** Commit a tick to every cron input of `pipeline` now (`tusk run cron`). */
  async tick(pipeline: Pipeline, at = new Date(this.#clock.now())): Promise<void> {
    for (const input of inputLeaves(pipeline.parsed.input, "cron")) {
      await this.#tickInput(pipeline.name, input, at);
    }
  }

  async #tickInput(pipeline: string, input: CronInput, at: Date): Promise<void> {
    await commitTick(this.store, input, at);
    this.bus.emit("cron:tick", {
      pipeline,
      input: input.name,
      repo: input.repo,
      tick: at.toISOString(),
    });
  }

  /**
   * Serve until `signal` aborts: hold the lease as a daemon, run what is due, then react to
   * store changes and requests (the watcher, and a re-scan every `rescanMs`) and fire cron
   * ticks on time. Events that come while it looks are taken together in one more look.
   * When another live process holds the lease it throws `LeaseHeldError` — or, with
   * `onHeld`, says so (once per holder) and waits for the holder to go, looking every
   * `leasePollMs` (signal 0), then takes the lease and serves: a scheduler that dies is
   * taken over, and the jobs it left are resumed. `onServing` is called once it serves.
   */
  async serve(signal: AbortSignal, options: ServeOptions = {}): Promise<void> {
    const lease = await this.#takeLease(signal, options);
    if (!lease) return;
    options.onServing?.();
    let wake: (() => void) | null = null;
    let dirty = true;
    const poke = () => {
      dirty = true;
      wake?.();
      this.nudge();
    };
    this.#poke = poke;
    const rescanMs = options.rescanMs ?? RESCAN_MS;
    let rescan: TimerId;
    const armRescan = () => {
      rescan = this.#clock.setTimeout(() => {
        armRescan();
        poke();
      }, rescanMs);
    };
    let changes: ReturnType<Watch> | null = null;
    const onAbort = () => {
      if (changes) closeWatcher(changes);
      poke();
    };
    signal.addEventListener("abort", onAbort);
    try {
      changes = this.#watch(this.store.root, { recursive: false });
      follow(changes, (ev) => {
        if (ev.paths.some((p) => Layout.changesState(p))) poke();
      });
      this.#requests = await JobRequests.open(this.jobs, this.#watch, poke);
      armRescan();
      while (!signal.aborted) {
        if (dirty) {
          // Let the events already queued (a burst from one write) arrive first: they are
          // then all taken by this one look rather than by a look each.
          await new Promise((resolve) => setTimeout(resolve, 0));
          if (signal.aborted) break;
          dirty = false;
          // Cron is re-armed on every look, so a long job holds up no cron pipeline's ticks.
          try {
            await this.runPending({
              ...(options.rescanMs ? { rescanMs: options.rescanMs } : {}),
              onScan: async () => {
                dirty = false;
                this.#cron.arm(await pipelinesOf(await this.store.state()));
              },
            });
          } catch (err) {
            // Every other pipeline has had its turn; the troubled one is tried at the next scan.
            options.onError?.(err);
          }
          options.onIdle?.();
        }
        if (signal.aborted || dirty) continue;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = null;
      }
    } finally {
      this.#poke = null;
      this.#clock.clearTimeout(rescan);
      this.#cron.clear();
      this.#requests?.close();
      this.#requests = null;
      signal.removeEventListener("abort", onAbort);
      if (changes) closeWatcher(changes);
      await lease.release();
    }
  }

  #poke: (() => void) | null = null;

  /**
   * The daemon's lease, taken as `serve()` says: null when `signal` aborts while another
   * process holds it.
   */
  async #takeLease(signal: AbortSignal, options: ServeOptions): Promise<Lease | null> {
    let told: number | null = null;
    /** The holder seen at the last look: while it lives, looking costs a read, not a lock. */
    let holder: number | null = null;
    while (!signal.aborted) {
      if (holder === null) {
        const lease = await acquireLease(this.store, "daemon", this.#clock);
        if (lease) return lease;
      }
      const pid = (await leaseHolder(this.store))?.pid ?? 0;
      holder = pid === 0 || pid === Deno.pid ? null : pid;
      if (holder === null) continue;
      if (!options.onHeld) throw new LeaseHeldError(pid);
      if (pid !== told && pid !== 0) {
        told = pid;
        options.onHeld(pid);
      }
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#clock.clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        };
        const timer = this.#clock.setTimeout(done, options.leasePollMs ?? LEASE_POLL_MS);
        signal.addEventListener("abort", done);
      });
    }
    return null;
  }

  /**
   * Look for due work now rather than at the next re-scan, e.g. after a re-run was asked
   * for (`rerunJob()`). Does nothing unless `serve()` runs.
   */
  wake(): void {
    this.#poke?.();
  }

  /** When each cron input ticks next (ms since epoch), by `pipeline/input`. */
  get cronSchedule(): ReadonlyMap<string, number> {
    return this.#cron.schedule;
  }
}

/**
 * Run the jobs a command's commits triggered, in this process — unless a daemon scheduler
 * holds the lease (it will run them). Waits while another command holds it, so no commit
 * is left without its job. With `signal` aborted, it stops as `SchedulerOptions.signal`
 * says: the jobs it returns may be unfinished.
 */
export async function runInline(
  store: Store,
  options: SchedulerOptions & { pollMs?: number },
): Promise<{ ran: JobRecord[]; daemon: number | null }> {
  const clock = options.clock ?? systemClock;
  while (true) {
    if (options.signal?.aborted) return { ran: [], daemon: null };
    const holder = await leaseHolder(store);
    if (holder?.mode === "daemon") return { ran: [], daemon: holder.pid };
    let lease: Lease | null = null;
    if (!holder) lease = await acquireLease(store, "inline", clock);
    if (!lease) {
      await sleep(clock, options.pollMs ?? 50);
      continue;
    }
    try {
      const s = new Scheduler(store, options);
      const ran = await s.runPending();
      s.bus.close();
      return { ran, daemon: null };
    } finally {
      await lease.release();
    }
  }
}
