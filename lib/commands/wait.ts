/**
 * Waiting for jobs: until every pipeline downstream of a commit has finished its job
 * (`wait commit`), or one job has (`wait job`); when no scheduler runs, the due jobs run in
 * this process.
 */
import { NoSchedulerError } from "../errors.ts";
import { parseRef } from "../store/names.ts";
import type { Store } from "../store/store.ts";
import { type JobRecord, JobStore } from "../pipeline/jobs.ts";
import { isFinal } from "../pipeline/states.ts";
import { pipelinesOf } from "../pipeline/pipelines.ts";
import { currentTrigger } from "../pipeline/trigger.ts";
import type { SandboxMode } from "../runner/detect.ts";
import type { Listener } from "../scheduler/events.ts";
import { leaseHolder } from "../scheduler/lease.ts";
import { inspectJob, newestReadable } from "./jobs.ts";
import { downstream } from "./pipelines.ts";
import { runTriggered } from "./run.ts";

/** True when every pipeline downstream of `repo` has a finished job for its current inputs. */
export async function settled(
  store: Store,
  repo: string,
): Promise<{ done: boolean; jobs: JobRecord[]; waiting: string[] }> {
  const state = await store.state();
  store.repoOf(state, repo);
  const jobs = new JobStore(store);
  const out: JobRecord[] = [];
  const waiting: string[] = [];
  for (const p of downstream(await pipelinesOf(state), repo)) {
    if (p.stopped) continue;
    const t = currentTrigger(state, p);
    if (!t) continue;
    const latest = await newestReadable(jobs, p.name);
    if (!latest || latest.trigger !== t.trigger || !isFinal(latest.state)) waiting.push(p.name);
    else out.push(latest);
  }
  return { done: waiting.length === 0, jobs: out, waiting };
}

/** Options of `waitCommit()` and `waitJob()`. */
export interface WaitOptions {
  /**
   * Run the due jobs in this process, in this sandbox, whenever no scheduler holds the
   * store (as `put file` does). Without it, a wait that no scheduler serves is refused
   * (`NoSchedulerError`) rather than left to hang.
   */
  readonly sandbox?: SandboxMode;
  /** Called with every event of the jobs run here. */
  readonly onEvent?: Listener;
  /** How often to look while a scheduler runs the jobs (ms). */
  readonly pollMs?: number;
  /**
   * Ends the wait (throwing its abort reason); jobs running here are cut short and left to
   * resume, counting no try (see `RunTriggeredOptions.signal`).
   */
  readonly signal?: AbortSignal;
}

/**
 * Wait until `done()` gives a value. While a scheduler (a daemon, or another command
 * running its own jobs) holds the store, look every `pollMs`; when none does, run the due
 * jobs here (with `options.sandbox`) and look again. `stuck()` is the error for a wait
 * nothing would end: no sandbox was given, or running the due jobs here changed nothing.
 */
async function waitFor<T>(
  store: Store,
  options: WaitOptions,
  done: () => Promise<T | null>,
  stuck: (ranHere: boolean) => NoSchedulerError,
): Promise<T> {
  /** The ledger position when this process last ran the due jobs. */
  let ranAt: number | null = null;
  while (true) {
    options.signal?.throwIfAborted();
    const value = await done();
    if (value !== null) return value;
    if ((await leaseHolder(store)) !== null) {
      ranAt = null;
      await new Promise((r) => setTimeout(r, options.pollMs ?? 50));
      continue;
    }
    if (options.sandbox === undefined) throw stuck(false);
    const seq = (await store.state()).ledger.seq;
    if (ranAt === seq) throw stuck(true);
    ranAt = seq;
    await runTriggered(store, {
      sandbox: options.sandbox,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  }
}

/**
 * Wait until every pipeline downstream of the repo of `refText` has a finished job for its
 * current inputs (`wait commit`); returns those jobs. When no scheduler runs, the due jobs
 * run here (see `WaitOptions.sandbox`).
 */
export async function waitCommit(
  store: Store,
  refText: string,
  options: WaitOptions = {},
): Promise<JobRecord[]> {
  const { repo } = parseRef(refText);
  let waiting: string[] = [];
  return await waitFor(store, options, async () => {
    const s = await settled(store, repo);
    waiting = s.waiting;
    return s.done ? s.jobs : null;
  }, (ranHere) => {
    const which = pipelineList(waiting);
    return new NoSchedulerError(
      ranHere
        ? `Cannot wait for ${refText}: running the due jobs here did not finish those of ` +
          `${which}, and no scheduler is running ("tusk list job" and "tusk plan" say why)`
        : `Cannot wait for ${refText}: no scheduler is running to run the jobs of ${which}; ` +
          'start one with "tusk up --headless"',
      { ref: refText, pipelines: waiting },
    );
  });
}

/** `pipeline "a"`, `pipelines "a", "b"`. */
function pipelineList(names: readonly string[]): string {
  return `${names.length === 1 ? "pipeline" : "pipelines"} ${
    names.map((n) => `"${n}"`).join(", ")
  }`;
}

/**
 * Wait until the job `id` (an id or unique prefix) has finished (`wait job`). When no
 * scheduler runs, the due jobs run here (see `WaitOptions.sandbox`); a job that would still
 * not finish (not its pipeline's newest, or its pipeline deleted) is `NoSchedulerError`.
 */
export async function waitJob(
  store: Store,
  id: string,
  options: WaitOptions = {},
): Promise<JobRecord> {
  let job: JobRecord | undefined;
  return await waitFor(store, options, async () => {
    job = await inspectJob(store, id);
    return isFinal(job.state) ? job : null;
  }, (ranHere) => {
    const j = job!;
    return new NoSchedulerError(
      ranHere
        ? `Job ${j.id} of pipeline "${j.pipeline}" is ${j.state}, and nothing will finish it: ` +
          "no scheduler is running, and running the due jobs here did not (a scheduler resumes " +
          "only the newest job of a pipeline that still exists)"
        : `Job ${j.id} of pipeline "${j.pipeline}" is ${j.state} and no scheduler is running ` +
          'to finish it: start one with "tusk up --headless"',
      { job: j.id, pipeline: j.pipeline, state: j.state },
    );
  });
}
