/** The warning for a damaged job record that a listing skipped. */
import type { CliContext } from "./context.ts";

/**
 * A listing's `onDamaged`: warn on stderr that the record was skipped, with its error's
 * message (which names the file and what to do).
 */
export function warnDamaged(cli: CliContext): (d: { error: Error }) => void {
  return (d) => cli.err(`tusk: warning: skipped a job record: ${d.error.message}\n`);
}
