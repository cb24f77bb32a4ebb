/**
 * Requests to the scheduler from any process: stop a job (`stopJob()`, `tusk stop job`) or
 * re-run one (`rerunJob()`, the dashboard's `r`). Each is a file beside the job's record,
 * seen by the scheduler's file watcher the moment it appears: a stop becomes the abort of
 * the running job, a re-run a look for due work. A request made while no scheduler runs
 * the job waits in its file: a job follows its stop request from when it starts, and
 * re-runs are taken at every look. Re-scans check the running jobs' stops again, should the
 * watcher drop an event or fail to start.
 */
import type { JobRecord, JobStore } from "../pipeline/jobs.ts";
import { closeWatcher, follow, type Watch, type Watcher } from "./watch.ts";

/** Event kinds that say a file appeared or changed (not that it went, or was read). */
const ARRIVED = new Set(["create", "modify", "rename", "any", "other"]);

/** The requests of one store's jobs, as they arrive. */
export class JobRequests {
  readonly #jobs: JobStore;
  readonly #watcher: Watcher | null;
  /** The jobs being followed, by id: their records, and the stop a request aborts. */
  readonly #running = new Map<string, { job: JobRecord; stop: AbortController }>();

  private constructor(jobs: JobStore, watcher: Watcher | null, onRerun: () => void) {
    this.#jobs = jobs;
    this.#watcher = watcher;
    if (watcher) {
      follow(watcher, (event) => {
        if (!ARRIVED.has(event.kind)) return;
        for (const path of event.paths) {
          const request = jobs.requestAt(path);
          if (request?.kind === "stop") this.#running.get(request.job)?.stop.abort();
          else if (request?.kind === "rerun") onRerun();
        }
      });
    }
  }

  /**
   * Watch `jobs`' requests with `watch`; `onRerun` is called when a re-run is asked for.
   * Where the watcher cannot start, requests are seen at re-scans (`recheck()`) only.
   */
  static async open(jobs: JobStore, watch: Watch, onRerun: () => void): Promise<JobRequests> {
    let watcher: Watcher | null = null;
    try {
      await Deno.mkdir(jobs.root, { recursive: true });
      watcher = watch(jobs.root, { recursive: true });
    } catch {
      // No watcher (say, the system's limit on them is reached): re-scans still look.
    }
    return new JobRequests(jobs, watcher, onRerun);
  }

  /**
   * Follow `job`'s stop requests while it runs: the signal returned aborts when one is made,
   * or at once when one was made before.
   */
  async follow(job: JobRecord): Promise<AbortSignal> {
    const stop = new AbortController();
    this.#running.set(job.id, { job, stop });
    if (await this.#jobs.stopRequested(job)) stop.abort();
    return stop.signal;
  }

  /** Stop following `job`, which has ended: its stop request, if any, is removed. */
  async release(job: JobRecord): Promise<void> {
    this.#running.delete(job.id);
    await this.#jobs.clearStop(job);
  }

  /** Look for the running jobs' stop requests now (a re-scan: an event may have been lost). */
  async recheck(): Promise<void> {
    for (const { job, stop } of this.#running.values()) {
      if (!stop.signal.aborted && await this.#jobs.stopRequested(job)) stop.abort();
    }
  }

  /** Stop watching. */
  close(): void {
    if (this.#watcher) closeWatcher(this.#watcher);
  }
}
