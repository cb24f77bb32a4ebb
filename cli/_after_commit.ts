/** What the commands that make commits share: running the jobs those commits triggered. */
import type { Store } from "../lib/pfs/store.ts";
import { mayTrigger } from "../lib/pfs/jobs.ts";
import type { CliContext } from "./context.ts";

type JobCode = typeof import("./_run_triggered.ts");
let jobCode: Promise<JobCode> | undefined;

/**
 * The code that runs triggered jobs, loaded once, by a specifier Deno does not read ahead:
 * a commit that triggers nothing loads none of it.
 */
function loadJobCode(): Promise<JobCode> {
  return jobCode ??= import(new URL("./_run_triggered.ts", import.meta.url).href);
}

/**
 * Start finding the sandbox of the jobs a command is about to trigger (a trial run of Deno
 * inside bwrap: tens of milliseconds in a process of its own), and loading the code that
 * runs them, while the command does its own work (its waits on the disk and on the
 * sandbox): `afterCommit()` then finds both ready. Nothing unless `wait` and a pipeline may
 * trigger (`always`: the command makes one).
 */
export async function sandboxAhead(
  cli: CliContext,
  store: Store,
  options: { wait: boolean; always?: boolean },
): Promise<void> {
  if (!options.wait || (!options.always && !(await mayTrigger(store)))) return;
  // Their failures, if any, are afterCommit's to report.
  cli.sandbox().catch(() => {});
  loadJobCode().catch(() => {});
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
  const { runTriggeredJobs } = await loadJobCode();
  await runTriggeredJobs(cli, store);
}
