/**
 * A store's own jobs as a push sends them: the finished job records of a pipeline (as their
 * files' bytes) and its datum index entries.
 */
import { type DatumIndexEntry, type JobRecord, JobStore } from "../pipeline/jobs.ts";
import type { PipelineRecord } from "../pipeline/pipelines.ts";
import { isFinal } from "../pipeline/states.ts";
import type { Store } from "../store/store.ts";

/** A finished job record as its file holds it. */
export interface JobFile {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly record: JobRecord;
}

/** The finished jobs of pipeline `p` in `store` (those of this pipeline, not a namesake). */
export async function finishedJobs(store: Store, p: PipelineRecord): Promise<JobFile[]> {
  const out: JobFile[] = [];
  const { jobs } = await new JobStore(store).scan({ pipeline: p.name });
  for (const job of jobs) {
    if (!isFinal(job.state) || job.pipelineSeq !== p.createdSeq) continue;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(store.layout.job(p.name, job.id));
    } catch {
      continue;
    }
    out.push({ id: job.id, bytes, record: job });
  }
  return out;
}

/** The datum index entries pipeline `p` made in `store`. */
export async function datumEntries(store: Store, p: PipelineRecord): Promise<DatumIndexEntry[]> {
  return [...(await new JobStore(store).datumIndexOf(p)).values()];
}
