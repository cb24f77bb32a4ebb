/**
 * Cutting a job's run short: a stop (asked for with `tusk stop job`), the process running it
 * shutting down (Ctrl-C, SIGTERM, `q` on the dashboard), its jobTimeout, or an error of its
 * own run that stops every other datum. One signal ends every stage of the job; the job and
 * its datums then say which it was. A shutdown is no verdict on the job: it is left to
 * resume, and the runs it ended count no try.
 */

/** What cuts a job's run short from outside. */
export interface JobAbortSources {
  /** A stop of this job was asked for: it ends KILLED. */
  readonly stop?: AbortSignal | undefined;
  /** The process running it is shutting down: the job is left to resume. */
  readonly shutdown?: AbortSignal | undefined;
}

/** The one abort of a job's run, and why it came. */
export class JobAbort {
  readonly #controller = new AbortController();
  readonly #sources: JobAbortSources;
  #stopped = false;
  #interrupted = false;
  #broken: { readonly error: unknown } | null = null;

  /** Abort when either source aborts (or has already). */
  constructor(sources: JobAbortSources) {
    this.#sources = sources;
    const { stop, shutdown } = sources;
    if (stop?.aborted) this.stop();
    else stop?.addEventListener("abort", this.#onStop);
    if (shutdown?.aborted) this.#interrupt();
    else shutdown?.addEventListener("abort", this.#onShutdown);
  }

  readonly #onStop = () => this.stop();
  readonly #onShutdown = () => this.#interrupt();

  /** Aborted when the run is cut short: every stage of the job is ended. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The job was asked to stop. */
  stop(): void {
    this.#stopped = true;
    this.#controller.abort();
  }

  /** The process running the job is shutting down (unless the run was already cut short). */
  #interrupt(): void {
    if (!this.signal.aborted) this.#interrupted = true;
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
    return this.#stopped;
  }

  /**
   * True when the run was cut short only by its process shutting down: the job is left to
   * resume, and the runs the abort ended count no try.
   */
  get interrupted(): boolean {
    return this.#interrupted && this.#broken === null;
  }

  /** Why a datum the abort cut short did not finish. */
  datumMessage(): string {
    if (this.#broken) return "Stopped: the job failed";
    if (this.#interrupted) return "Interrupted: the process running the job stopped";
    return this.stopped ? "Job was stopped" : "Job exceeded its jobTimeout";
  }

  /** Stop listening to the stop and shutdown signals. */
  dispose(): void {
    this.#sources.stop?.removeEventListener("abort", this.#onStop);
    this.#sources.shutdown?.removeEventListener("abort", this.#onShutdown);
  }
}
