/**
 * Stopping a command that runs jobs with Ctrl-C (SIGINT) or SIGTERM: the signal is the user
 * stopping the command, not a crash of the datum it was running. The first one cuts the jobs
 * short — their stages end, they are left to resume and the runs so ended count no try —
 * and the command then exits 130 (143 for SIGTERM) saying so. A second one ends the process
 * at once, as the signal would have.
 */
import { InterruptedError } from "../lib/pfs/store.ts";

type Stop = "SIGINT" | "SIGTERM";

/**
 * Run `work` with a signal that SIGINT and SIGTERM abort (its reason an `InterruptedError`);
 * once `work` has wound down after one, that error is thrown.
 */
export async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  let caught: InterruptedError | null = null;
  const on = (signal: Stop) => () => {
    if (caught) Deno.exit(signal === "SIGINT" ? 130 : 143);
    caught = new InterruptedError(signal);
    ac.abort(caught);
  };
  const onInt = on("SIGINT");
  const onTerm = on("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    const value = await work(ac.signal);
    if (caught) throw caught;
    return value;
  } catch (err) {
    throw caught ?? err;
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}
