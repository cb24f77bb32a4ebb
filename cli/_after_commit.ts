/** What the commands that make commits share: running the jobs those commits triggered. */
import { mayTrigger, type Store } from "../lib/pfs.ts";
import type { TuskEvent } from "../lib/mod.ts";
import type { CliContext } from "./context.ts";

/**
 * The progress line of jobs run in this process, on stderr when it is a terminal (else
 * undefined): `job 01a2… model: 1 + 0 / 1 SUCCESS`.
 */
export function jobProgress(cli: CliContext): ((e: TuskEvent) => void) | undefined {
  if (!cli.stderr.isTerminal()) return undefined;
  return (e) => {
    if (e.type !== "job:state") return;
    const p = e.progress;
    cli.errExact("\r\x1b[2K");
    cli.err(
      `job ${
        e.job.slice(0, 12)
      } ${e.pipeline}: ${p.processed} + ${p.skipped} / ${p.total} ${e.state}`,
    );
    if (["SUCCESS", "FAILURE", "KILLED", "UNRUNNABLE"].includes(e.state)) cli.err("\n");
  };
}

/**
 * After a command made commits: run the jobs they triggered, unless `wait` is false (its
 * `--no-wait`), with their progress on stderr when it is a terminal, and say which failed.
 * The commits have landed whatever happens to their jobs, so trouble running them (a
 * damaged job record, a full disk) is a warning, not a failure of the command: a script
 * that retried it would commit twice (`put-file` appends). On a store without pipelines
 * this loads no pipeline code.
 */
export async function afterCommit(cli: CliContext, store: Store, wait: boolean): Promise<void> {
  if (!wait || !(await mayTrigger(store))) return;
  const { runTriggered, TuskError } = await cli.lib();
  const { mode, reason } = await cli.sandbox();
  const tty = cli.stderr.isTerminal();
  if (mode === "deno" && tty) cli.err(`tusk: ${reason}\n`);
  const onEvent = jobProgress(cli);
  let result: Awaited<ReturnType<typeof runTriggered>>;
  try {
    result = await runTriggered(store, { sandbox: mode, ...(onEvent ? { onEvent } : {}) });
  } catch (e) {
    if (e instanceof Deno.errors.BrokenPipe) throw e;
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
