/** What the commands that make commits share: running the jobs those commits triggered. */
import type { Store } from "../lib/pfs/store.ts";
import { mayTrigger } from "../lib/pfs/jobs.ts";
import type { CliContext } from "./context.ts";

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
  // Loaded only now, by a specifier Deno does not read ahead: a commit that triggers
  // nothing loads no job-running code.
  const { runTriggeredJobs } = await import(
    new URL("./_run_triggered.ts", import.meta.url).href
  ) as typeof import("./_run_triggered.ts");
  await runTriggeredJobs(cli, store);
}
