/** `tusk completions <shell>` and `tusk __complete`, which its scripts call for names. */
import * as lib from "../lib/mod.ts";
import type { CliContext } from "./context.ts";

/** `tusk completions bash|zsh|fish`: print the completion script of the command tree. */
export async function completions(
  cli: CliContext,
  [shell]: [lib.CompletionShell],
): Promise<void> {
  cli.outExact(lib.completionScript(shell, await cli.commandTree()));
}

/** `tusk __complete <what> [arg]`: names for completion scripts, silent on any failure. */
export async function complete(
  cli: CliContext,
  [what, arg]: [string, string | undefined],
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const names = await Promise.race([
      cli.store().then((store) => lib.completionNames(store, what, arg)),
      new Promise<string[]>((resolve) => timer = setTimeout(() => resolve([]), 2000)),
    ]);
    if (names.length > 0) cli.out(names.join("\n") + "\n");
  } catch {
    // Completion stays silent: no store, or a store it cannot read, offers no names.
  } finally {
    clearTimeout(timer);
  }
}
