/**
 * `tusk put file`: the command run most often, so its handler is a file of its own and loads
 * only the put verb (`lib/pfs/put_file.ts`), not the other file verbs.
 */
import { putFile as put } from "../lib/pfs/put_file.ts";
import { formatSize } from "../lib/format/format.ts";
import { afterCommit, sandboxAhead } from "./_after_commit.ts";
import type { CliContext } from "./context.ts";

/** `tusk put file <repo@branch[:/path]>`: files into a new commit, with progress on a terminal. */
export async function putFile(
  cli: CliContext,
  [target]: [string],
  o: {
    file: string[];
    recursive: boolean;
    append: boolean;
    message: string | undefined;
    skipSpecial: boolean;
    wait: boolean;
  },
): Promise<void> {
  const store = await cli.store();
  await sandboxAhead(cli, store, { wait: o.wait });
  const tty = cli.stderr.isTerminal();
  let last = 0;
  const result = await put(store, target, {
    sources: o.file,
    recursive: o.recursive,
    append: o.append,
    skipSpecial: o.skipSpecial,
    cwd: cli.cwd,
    ...(o.message !== undefined ? { message: o.message } : {}),
    ...(tty
      ? {
        onProgress: (done: number, total: number) => {
          const now = Date.now();
          if (total < 16 << 20 || (now - last < 100 && done < total)) return;
          last = now;
          const pct = total ? Math.floor((done / total) * 100) : 100;
          cli.errExact(`\r\x1b[2Kputting ${formatSize(done)} / ${formatSize(total)} (${pct}%)`);
          if (done >= total) cli.errExact("\r\x1b[2K");
        },
      }
      : {}),
  });
  for (const s of result.skipped) {
    cli.err(`tusk: skipped ${JSON.stringify(s)}: not a regular file or folder\n`);
  }
  await afterCommit(cli, store, o.wait);
}
