/**
 * Whether a job being saved went with its pipeline: deleting a pipeline removes its job
 * folder while the process running one of its jobs may still save it, and a save would make
 * the folder again, with a record (and a job index) that a pipeline created later under the
 * name would take for its own: listed as its jobs, its newest job, and the objects its
 * datums name kept from `gc`. Private to `jobs.ts`.
 */
import type { Store } from "../store/store.ts";
import type { JobRecord } from "./job_record.ts";
import { PIPELINE_KIND } from "./kind.ts";

/** The jobs this process has saved (or begun to save). */
const saved = new WeakSet<JobRecord>();

/**
 * True when `job`, which this process saved before, has no record any more and its
 * pipeline is gone: deleted, or deleted and created again since (another `createdSeq`). A
 * job's first save, or one whose record is there, costs one `lstat` at most.
 */
export async function goneWithPipeline(store: Store, job: JobRecord): Promise<boolean> {
  if (!saved.has(job)) {
    saved.add(job);
    return false;
  }
  try {
    await Deno.lstat(store.layout.job(job.pipeline, job.id));
    return false;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) return false;
  }
  const live = (await store.state()).meta[PIPELINE_KIND]?.[job.pipeline]?.value as
    | { createdSeq?: number }
    | undefined;
  return live === undefined || live.createdSeq !== job.pipelineSeq;
}
