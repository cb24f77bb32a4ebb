/** The progress a command running jobs shows on stderr, and its warnings of damaged records. */
import { isFinal } from "../lib/pfs/jobs.ts";
import type { TuskEvent } from "../lib/mod.ts";
import type { CliContext } from "./context.ts";
import { warnDamaged } from "./_damaged.ts";

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
