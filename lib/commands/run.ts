/**
 * Running jobs from a command when no scheduler daemon does: the jobs a command's commits
 * triggered (`runTriggered`), and a cron pipeline's tick now (`runCron`).
 */
import { InvalidArgumentError } from "../errors.ts";
import type { JobRecord } from "../pipeline/jobs.ts";
import { pipelineOf, pipelinesOf, runsHostProgram } from "../pipeline/pipelines.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { machineMemoryBytes, type SandboxMode } from "../runner/detect.ts";
import { hostSystem } from "../runner/host_stage.ts";
import { EventBus, type Listener } from "../scheduler/events.ts";
import { runInline, Scheduler } from "../scheduler/scheduler.ts";
import type { Store } from "../store/store.ts";
import { journalPath } from "./journal.ts";

/** Options of `runTriggered()`. */
export interface RunTriggeredOptions {
  /**
   * How stages are sandboxed, or its promise: the sandbox's trial then runs while the lease
   * is taken and the jobs are made and planned, each job waiting for it only before it
   * checks its program and starts its stages.
   */
  readonly sandbox: SandboxMode | Promise<SandboxMode>;
  /** Called with every event of the jobs run (which the journal records too). */
  readonly onEvent?: Listener;
  /**
   * The command is stopping (a signal): the jobs running are cut short and left to resume,
   * counting no try, and are returned unfinished (see `SchedulerOptions.signal`).
   */
  readonly signal?: AbortSignal;
  /** The most datums one batched process is given (default: `BATCH_DATUMS`). */
  readonly batchDatums?: number;
}

/** What `runTriggered()` did. */
export interface TriggeredRun {
  /** The jobs run here, finished. */
  readonly ran: readonly JobRecord[];
  /** The pid of the scheduler daemon that runs them instead, or null. */
  readonly daemon: number | null;
}

/**
 * Run the jobs that commits to `store` triggered, in this process, and wait for them —
 * unless a scheduler daemon holds the store: it runs them, and none runs here.
 */
export async function runTriggered(
  store: Store,
  options: RunTriggeredOptions,
): Promise<TriggeredRun> {
  // Each job awaits the sandbox's verdict; a failure there fails the jobs, saying why.
  if (options.sandbox instanceof Promise) options.sandbox.catch(() => {});
  // The host probes the jobs will want, started while the lease is taken and jobs planned.
  machineMemoryBytes().catch(() => {});
  if (
    options.sandbox !== "deno" && (await pipelinesOf(await store.state())).some(runsHostProgram)
  ) {
    hostSystem().catch(() => {});
  }
  const bus = new EventBus({ journal: journalPath(store) });
  if (options.onEvent) bus.on(options.onEvent);
  try {
    return await runInline(store, {
      sandbox: options.sandbox,
      bus,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.batchDatums ? { batchDatums: options.batchDatums } : {}),
    });
  } finally {
    bus.close();
  }
}

/**
 * Commit a tick to every cron input of pipeline `name` now; its job is then due. A pipeline
 * without a cron input is refused (`InvalidArgumentError`), naming those that have one.
 */
export async function runCron(
  store: Store,
  name: string,
  options: { sandbox: SandboxMode },
): Promise<void> {
  const state = await store.state();
  const p = await pipelineOf(state, name);
  if (inputLeaves(p.parsed.input, "cron").length === 0) {
    const cron = (await pipelinesOf(state)).filter((x) =>
      inputLeaves(x.parsed.input, "cron").length > 0
    )
      .map((x) => `"${x.name}"`);
    throw new InvalidArgumentError(
      `Pipeline "${name}" has no cron input, so "tusk run cron" has nothing to tick (${
        cron.length === 0 ? "no pipeline here has one" : `pipelines with one: ${cron.join(", ")}`
      })`,
      { pipeline: name },
    );
  }
  const s = new Scheduler(store, { sandbox: options.sandbox });
  try {
    await s.tick(p);
  } finally {
    s.bus.close();
  }
}
