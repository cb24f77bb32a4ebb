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
 * On a store without pipelines this loads no pipeline code.
 */
export async function afterCommit(cli: CliContext, store: Store, wait: boolean): Promise<void> {
  if (!wait || !(await mayTrigger(store))) return;
  const { runTriggered } = await cli.lib();
  const { mode, reason } = await cli.sandbox();
  const tty = cli.stderr.isTerminal();
  if (mode === "deno" && tty) cli.err(`tusk: ${reason}\n`);
  const onEvent = jobProgress(cli);
  const { ran, daemon } = await runTriggered(store, {
    sandbox: mode,
    ...(onEvent ? { onEvent } : {}),
  });
  if (daemon !== null && tty) {
    cli.err(`tusk: the scheduler (pid ${daemon}) runs the triggered jobs\n`);
  }
  for (const j of ran) {
    if (j.state !== "SUCCESS") {
      cli.err(`tusk: job ${j.id} of pipeline ${j.pipeline} ended ${j.state}: ${j.reason ?? ""}\n`);
    }
  }
}
