/**
 * Running the jobs a command's commits triggered, with their progress on stderr: what
 * `afterCommit()` loads once a commit may have triggered a job.
 */
import { InterruptedError, type Store, TuskError } from "../lib/pfs/store.ts";
import { runTriggered } from "../lib/pps/run.ts";
import type { CliContext } from "./context.ts";
import { interruptible } from "./_interrupt.ts";
import { jobProgress } from "./_job_progress.ts";

/** Run the triggered jobs as `afterCommit()` says, saying which failed. */
export async function runTriggeredJobs(cli: CliContext, store: Store): Promise<void> {
  const tty = cli.stderr.isTerminal();
  const choice = cli.sandbox();
  const said = choice.then(({ mode, reason }) => {
    if (mode === "deno" && tty) cli.err(`tusk: ${reason}\n`);
    return mode;
  });
  // Not awaited where no job is due: its failure, if any, is thrown below.
  said.catch(() => {});
  // Asked for bwrap, a sandbox that does not work fails the command before any job starts;
  // on auto the trial's verdict is awaited by each job once planned (see `runTriggered()`).
  const sandbox = await cli.sandboxRequest() === "auto" ? said : await said;
  const batchDatums = await cli.batchDatums();
  const onEvent = jobProgress(cli);
  let result: Awaited<ReturnType<typeof runTriggered>>;
  try {
    result = await interruptible((signal) =>
      runTriggered(store, {
        sandbox,
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
  await choice;
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
