/**
 * Cutting a job's run short: a stop (asked for with `tusk stop job`, or the scheduler
 * shutting down), its jobTimeout, or an error of its own run that stops every other datum.
 * One signal ends every stage of the job; the job and its datums then say which it was.
 */

/** The one abort of a job's run, and why it came. */
export class JobAbort {
  readonly #controller = new AbortController();
  readonly #stops: readonly AbortSignal[];
  #stopped = false;
  #broken: { readonly error: unknown } | null = null;

  /** Abort as a stop when any of `stops` aborts (or has already). */
  constructor(stops: readonly (AbortSignal | undefined)[]) {
    this.#stops = stops.filter((s): s is AbortSignal => s !== undefined);
    for (const s of this.#stops) {
      if (s.aborted) this.stop();
      else s.addEventListener("abort", this.#onStop);
    }
  }

  readonly #onStop = () => this.stop();

  /** Aborted when the run is cut short: every stage of the job is ended. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The job was asked to stop. */
  stop(): void {
    this.#stopped = true;
    this.#controller.abort();
  }

  /** The job ran past its jobTimeout. */
  timeout(): void {
    this.#controller.abort();
  }

  /** A datum's run threw `error`: the job stops, and fails with the first such error. */
  fail(error: unknown): void {
    this.#broken ??= { error };
    this.#controller.abort();
  }

  /** The first error a datum's run threw, if one did. */
  get broken(): { readonly error: unknown } | null {
    return this.#broken;
  }

  /** True when the job was asked to stop (rather than timing out). */
  get stopped(): boolean {
    return this.#stopped || this.#stops.some((s) => s.aborted);
  }

  /** Why a datum the abort cut short did not finish. */
  datumMessage(): string {
    if (this.#broken) return "Stopped: the job failed";
    return this.stopped ? "Job was stopped" : "Job exceeded its jobTimeout";
  }

  /** Stop listening to the stop signals. */
  dispose(): void {
    for (const s of this.#stops) s.removeEventListener("abort", this.#onStop);
  }
}
