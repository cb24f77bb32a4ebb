/**
 * A store's own jobs as a push sends them: the finished job records of a pipeline (each one
 * JSON text, its datums in it, whether the store keeps them in the record's file or in its
 * datum log) and its datum index entries.
 */
import {
  type DamagedJob,
  type DatumIndexEntry,
  type JobRecord,
  JobStore,
  recordPieces,
} from "../pipeline/jobs.ts";
import type { PipelineRecord } from "../pipeline/pipelines.ts";
import { isFinal } from "../pipeline/states.ts";
import type { Store } from "../store/store.ts";
import { concatBytes } from "../store/fs_util.ts";

/** A finished job record, and its JSON text as it travels. */
export interface JobFile {
  readonly id: string;
  readonly bytes: Uint8Array;
  readonly record: JobRecord;
}

/**
 * The finished jobs of pipeline `p` in `store` (those of this pipeline, not a namesake); a
 * damaged record is left out and handed to `onDamaged`.
 */
export async function finishedJobs(
  store: Store,
  p: PipelineRecord,
  onDamaged?: (d: DamagedJob) => void,
): Promise<JobFile[]> {
  const out: JobFile[] = [];
  const { jobs, damaged } = await new JobStore(store).scan({ pipeline: p.name });
  if (onDamaged) { for (const d of damaged) onDamaged(d); }
  for (const job of jobs) {
    if (!isFinal(job.state) || job.pipelineSeq !== p.createdSeq) continue;
    out.push({ id: job.id, bytes: recordBytes(job), record: job });
  }
  return out;
}

/** The datum index entries pipeline `p` made in `store`. */
export async function datumEntries(store: Store, p: PipelineRecord): Promise<DatumIndexEntry[]> {
  return [...(await new JobStore(store).datumIndexOf(p)).values()];
}

/** The JSON text of `job` (its datums in it), as one file of the single form holds it. */
function recordBytes(job: JobRecord): Uint8Array {
  const utf8 = new TextEncoder();
  return concatBytes([...recordPieces(job)].map((piece) => utf8.encode(piece)));
}
