/**
 * Planning a job's run: each datum of the job gets its record, and one of three fates — it
 * is skipped (it succeeded before with the same hash: its output is reused), it runs, or it
 * runs alone because a process running it stopped before (a crash it may have caused).
 * `planJob()` is pure: the datums, the datum index and the noted attempts come in; the plan
 * comes out. `reusableEntries()` first drops the index entries whose output the store no
 * longer holds: such a datum is a cache miss and runs again.
 */
import { type Datum, datumId } from "../pipeline/datums.ts";
import type { DatumIndexEntry, DatumRecord, JobRecord } from "../pipeline/jobs.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import type { Store } from "../store/store.ts";

/** A datum of a job and its record in the job. */
export interface PlannedDatum {
  readonly datum: Datum;
  readonly rec: DatumRecord;
}

/** How a job's datums are to be run. */
export interface JobPlan {
  /** Every datum's record, in the planner's order: the job's `datums`. */
  readonly records: DatumRecord[];
  /** The datums to run (in batches, when the spec batches). */
  readonly toRun: PlannedDatum[];
  /** The datums whose runs were interrupted before: each runs alone, in its own process. */
  readonly interrupted: PlannedDatum[];
  /** How many datums are skipped, their earlier output reused. */
  readonly skipped: number;
}

/**
 * Plan `job`'s run of `datums`: skip those in the pipeline's datum `index` (made by this
 * version or one since `reprocessSince`), unless the spec or the job reprocesses every
 * datum; a datum with noted `attempts` (a resumed job) was interrupted.
 */
export function planJob(
  p: Pipeline,
  job: JobRecord,
  datums: readonly Datum[],
  index: ReadonlyMap<Hash, DatumIndexEntry>,
  attempts: ReadonlyMap<string, number>,
): JobPlan {
  const reprocess = reprocesses(p, job);
  const records: DatumRecord[] = [];
  const toRun: PlannedDatum[] = [];
  const interrupted: PlannedDatum[] = [];
  let skipped = 0;
  for (const d of datums) {
    const rec = datumRecord(p, datumNames(d), { index, attempts, reprocess });
    if (rec.state === "SKIPPED") skipped++;
    else if (rec.tries > 0) interrupted.push({ datum: d, rec });
    else toRun.push({ datum: d, rec });
    records.push(rec);
  }
  return { records, toRun, interrupted, skipped };
}

/** True when `job` of `p` runs every datum, whatever ran before. */
export function reprocesses(p: Pipeline, job: JobRecord): boolean {
  return p.parsed.reprocess === "every_job" || job.reprocess === true;
}

/**
 * The record a job plans for datum `d` (its id, hash and inputs): SKIPPED, reusing an output,
 * when `index` holds one made by this version or one since `reprocessSince` and the job does
 * not `reprocess`; else to run, with the tries `attempts` noted (a datum tried before was
 * interrupted).
 */
export function datumRecord(
  p: Pipeline,
  d: Pick<DatumRecord, "id" | "hash" | "inputs">,
  plan: {
    index: ReadonlyMap<Hash, DatumIndexEntry>;
    attempts: ReadonlyMap<string, number>;
    reprocess: boolean;
  },
): DatumRecord {
  const rec: DatumRecord = {
    id: d.id,
    hash: d.hash,
    state: "STARTING",
    inputs: d.inputs,
    tries: plan.attempts.get(d.id) ?? 0,
    durationMs: 0,
    exitCode: null,
  };
  const prev = plan.reprocess ? undefined : plan.index.get(d.hash);
  if (prev && prev.version >= p.reprocessSince) {
    rec.state = "SKIPPED";
    rec.outputTree = prev.tree;
    rec.outputSize = prev.size;
    rec.reusedFrom = prev.job;
  } else if (rec.tries > 0) {
    rec.message = `Interrupted ${rec.tries} time(s): the process running it stopped during it`;
  }
  return rec;
}

/** The id, hash and inputs of datum `d`, as its record holds them. */
export function datumNames(d: Datum): Pick<DatumRecord, "id" | "hash" | "inputs"> {
  return {
    id: datumId(d),
    hash: d.hash,
    inputs: d.inputs.map((i) => ({ name: i.name, repo: i.repo, commit: i.commit, path: i.path })),
  };
}

/**
 * The entries of `index` for `datums` whose output tree the store still holds. An entry
 * whose tree is gone (a stale cache entry: a gc freed it, or it was damaged) is left out,
 * so its datum runs again rather than failing the job that would reuse it.
 */
export async function reusableEntries(
  store: Store,
  datums: readonly Datum[],
  index: ReadonlyMap<Hash, DatumIndexEntry>,
): Promise<Map<Hash, DatumIndexEntry>> {
  const found: DatumIndexEntry[] = [];
  for (const d of datums) {
    const e = index.get(d.hash);
    if (e) found.push(e);
  }
  // One look for all of them: a job may skip 100,000 datums.
  const gone = await store.objects.missing(
    found.flatMap((e) => (e.tree === EMPTY_TREE ? [] : [e.tree])),
  );
  const kept = new Map<Hash, DatumIndexEntry>();
  for (const e of found) if (!gone.has(e.tree)) kept.set(e.hash, e);
  return kept;
}
