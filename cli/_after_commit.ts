/** What the commands that make commits share: running the jobs those commits triggered. */
import { InterruptedError, type Store } from "../lib/pfs/store.ts";
import { isFinal, mayTrigger } from "../lib/pfs/jobs.ts";
import type { TuskEvent } from "../lib/mod.ts";
import type { CliContext } from "./context.ts";
import { warnDamaged } from "./_damaged.ts";
import { interruptible } from "./_interrupt.ts";

/**
 * What a command running jobs says of their events on stderr: a warning for each damaged job
 * record the scheduler skipped (naming its file and the remedy), and, when stderr is a
 * terminal, the progress line of each job: `job 01a2… model: 1 + 0 / 1 SUCCESS`.
 */
export function jobProgress(cli: CliContext): (e: TuskEvent) => void {
  const tty = cli.stderr.isTerminal();
  const damaged = warnDamaged(cli);
  return (e) => {
    if (e.type === "job:damaged") {
      if (tty) cli.errExact("\r\x1b[2K");
      return damaged({ error: new Error(e.message) });
    }
    if (e.type !== "job:state" || !tty) return;
    const p = e.progress;
    cli.errExact("\r\x1b[2K");
    cli.err(
      `job ${
        e.job.slice(0, 12)
      } ${e.pipeline}: ${p.processed} + ${p.skipped} / ${p.total} ${e.state}`,
    );
    if (isFinal(e.state)) cli.err("\n");
  };
}

/**
 * Start finding the sandbox of the jobs a command is about to trigger (a trial run of Deno
 * inside bwrap: tens of milliseconds in a process of its own) while the command does its own
 * work; `afterCommit()` then finds the answer waiting in `cli.sandbox()`. Nothing unless
 * `wait` and a pipeline may trigger (`always`: the command makes one).
 */
export async function sandboxAhead(
  cli: CliContext,
  store: Store,
  options: { wait: boolean; always?: boolean },
): Promise<void> {
  if (!options.wait || (!options.always && !(await mayTrigger(store)))) return;
  // Its failure, if any, is afterCommit's to report.
  cli.sandbox().catch(() => {});
}

/**
 * After a command made commits: run the jobs they triggered, unless `wait` is false (its
 * `--no-wait`), with their progress on stderr when it is a terminal, and say which failed.
 * The commits have landed whatever happens to their jobs, so trouble running them (a
 * damaged job record, a full disk) is a warning, not a failure of the command: a script
 * that retried it would commit twice (`put-file` appends). Ctrl-C or SIGTERM while they run
 * leaves them to resume (see `interruptible()`). On a store without pipelines this loads no
 * pipeline code.
 */
export async function afterCommit(cli: CliContext, store: Store, wait: boolean): Promise<void> {
  if (!wait || !(await mayTrigger(store))) return;
  const { runTriggered, TuskError } = await cli.run();
  const { mode, reason } = await cli.sandbox();
  const tty = cli.stderr.isTerminal();
  if (mode === "deno" && tty) cli.err(`tusk: ${reason}\n`);
  const batchDatums = await cli.batchDatums();
  const onEvent = jobProgress(cli);
  let result: Awaited<ReturnType<typeof runTriggered>>;
  try {
    result = await interruptible((signal) =>
      runTriggered(store, {
        sandbox: mode,
        onEvent,
        signal,
        ...(batchDatums ? { batchDatums } : {}),
      })
    );
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe || e instanceof InterruptedError) throw e;
    const why = e instanceof TuskError
      ? e.message
      : `internal error (a bug; please report it): ${e instanceof Error ? e.stack : String(e)}`;
    cli.err(`tusk: warning: the commit was made, but its jobs could not all run: ${why}\n`);
    return;
  }
  const { ran, daemon } = result;
  if (daemon !== null && tty) {
    cli.err(`tusk: the scheduler (pid ${daemon}) runs the triggered jobs\n`);
  }
  for (const j of ran) {
    if (j.state !== "SUCCESS") {
      cli.err(`tusk: job ${j.id} of pipeline ${j.pipeline} ended ${j.state}: ${j.reason ?? ""}\n`);
    }
  }
}
