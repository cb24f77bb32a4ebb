/**
 * The requests kept beside a job's record, `jobs/<pipeline>/<id>.stop` and `<id>.rerun`
 * (their names are `layout.ts`'s): a stop of a running job, a re-run of a finished one, each
 * asked for by one process and taken by the one running the pipeline. Private to `jobs.ts`.
 */
import { writeFileAtomic } from "../store/fs_util.ts";
import type { Layout } from "../store/layout.ts";
import type { Store } from "../store/store.ts";
import type { JobRecord, RequestKind, RerunRequest } from "./job_record.ts";

/** Where the store keeps a request of kind `kind` for job `id` of `pipeline`. */
function requestFile(layout: Layout, kind: RequestKind, pipeline: string, id: string): string {
  return kind === "stop" ? layout.stopRequest(pipeline, id) : layout.rerunRequest(pipeline, id);
}

/** The last segment of `path`. */
function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

const utf8 = new TextEncoder();

/** Writes, finds and takes the stop and re-run requests of the jobs of a store. */
export class JobRequests {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /**
   * Ask the scheduler to re-run `job` (the newest of its pipeline, finished) as a new job:
   * a file beside its record, which the scheduler takes at its next pass.
   */
  async requestRerun(job: JobRecord, request: RerunRequest): Promise<void> {
    await writeFileAtomic(
      this.#requestFile(job, "rerun"),
      utf8.encode(JSON.stringify(request)),
      this.#store.layout.tmp,
    );
  }

  /** True while a re-run of `job` is asked for and not yet taken. */
  async rerunRequested(job: JobRecord): Promise<boolean> {
    return await this.#requested(job, "rerun");
  }

  /** Take the re-run request of `job`, if any: it is removed, whatever the caller does. */
  async takeRerun(job: JobRecord): Promise<RerunRequest | null> {
    let text: string;
    try {
      text = await Deno.readTextFile(this.#requestFile(job, "rerun"));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return null;
      throw err;
    }
    await Deno.remove(this.#requestFile(job, "rerun")).catch(() => {});
    try {
      return { reprocess: (JSON.parse(text) as RerunRequest).reprocess === true };
    } catch {
      return { reprocess: false };
    }
  }

  /** Ask the process running `job` to stop it (`tusk stop job`): a file beside its record. */
  async requestStop(job: JobRecord): Promise<void> {
    await Deno.writeFile(this.#requestFile(job, "stop"), new Uint8Array());
  }

  /** True while a stop of `job` is asked for (`tusk stop job`) and not yet dealt with. */
  async stopRequested(job: JobRecord): Promise<boolean> {
    return await this.#requested(job, "stop");
  }

  /** Forget the stop request of `job`, if any: the job has ended. */
  async clearStop(job: JobRecord): Promise<void> {
    await Deno.remove(this.#requestFile(job, "stop")).catch(() => {});
  }

  async #requested(job: JobRecord, kind: RequestKind): Promise<boolean> {
    try {
      await Deno.stat(this.#requestFile(job, kind));
      return true;
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return false;
      throw err;
    }
  }

  #requestFile(job: JobRecord, kind: RequestKind): string {
    return requestFile(this.#store.layout, kind, job.pipeline, job.id);
  }

  /**
   * The request a file at `path` (as a file-system event names it) holds: a stop or a
   * re-run of a job, by the job's id; null for any other file.
   */
  requestAt(path: string): { kind: RequestKind; job: string } | null {
    const name = baseName(path);
    const pipeline = baseName(path.slice(0, path.lastIndexOf("/")));
    const dot = name.indexOf(".");
    const job = dot < 0 ? "" : name.slice(0, dot);
    if (!/^[0-9a-f]{32}$/.test(job)) return null;
    for (const kind of ["stop", "rerun"] as const) {
      if (baseName(requestFile(this.#store.layout, kind, pipeline, job)) === name) {
        return { kind, job };
      }
    }
    return null;
  }
}
