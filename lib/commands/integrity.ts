/**
 * `verify` and `gc` for the whole of tusk: the store's checks plus what pipelines keep
 * alive outside commits (each datum's output tree and logs, the datum index), and what a job
 * still running has written but named nowhere yet.
 */
import { checkDatumIndex, hasHashes, malformedLines } from "../pipeline/datum_index_lines.ts";
import { checkJobIndex } from "../pipeline/job_index.ts";
import { type DatumIndexEntry, type JobRecord, JobStore } from "../pipeline/jobs.ts";
import { PIPELINE_KIND } from "../pipeline/kind.ts";
import { isFinal } from "../pipeline/states.ts";
import { leaseHolder } from "../scheduler/lease.ts";
import type { Hash } from "../store/hash.ts";
import type { StoreState } from "../store/state.ts";
import type { Store } from "../store/store.ts";
import {
  collectGarbage,
  type ExtraRoot,
  type ExtraRoots,
  type GcReport,
  type VerifyReport,
  verifyStore,
} from "../store/verify.ts";

/**
 * How long before a running job's creation `gc` starts keeping objects: file times come from
 * the kernel's clock, which may lag the job's by a tick, and a clock may step back a little.
 */
const KEEP_MARGIN_MS = 5_000;

/** What drops a stale datum index entry. */
const DROP_STALE = 'run "tusk gc" to drop it (the datum runs again on its pipeline\'s next job)';

/** A datum index entry as an extra root, with the pipeline it belongs to. */
interface IndexRoot extends ExtraRoot {
  readonly pipeline: string;
  readonly entry: DatumIndexEntry;
}

/**
 * What pipelines keep alive outside commits. A damaged job record fails it, unless
 * `skipDamaged` (for a check that reports such records apart, as `doctor` does).
 */
function jobRoots(
  store: Store,
  options: { skipDamaged?: boolean } = {},
): (state: StoreState) => Promise<ExtraRoots> {
  return async (state) => {
    const jobs = new JobStore(store);
    const trees: ExtraRoot[] = [];
    const blobs: ExtraRoot[] = [];
    const unfinished: JobRecord[] = [];
    const live = Object.keys(state.meta[PIPELINE_KIND] ?? {});
    for (const p of live) {
      for (const e of (await jobs.datumIndex(p)).values()) {
        // Not an entry (verify names the line, gc drops it below): no object to keep.
        if (!hasHashes(e)) continue;
        const root: IndexRoot = {
          hash: e.tree,
          what: `the datum index of pipeline "${p}" (datum ${e.hash.slice(0, 32)}, job ${e.job})`,
          cache: { repair: DROP_STALE },
          pipeline: p,
          entry: e,
        };
        trees.push(root);
      }
      // Every record in the folder, whatever the job index says (a damaged index must hide
      // no job's objects from gc), and the index left as it is for verify to report.
      const records = options.skipDamaged
        ? (await jobs.scan({ pipeline: p, byFolder: true })).jobs
        : await jobs.list({ pipeline: p, byFolder: true });
      for (const job of records) {
        if (!isFinal(job.state)) unfinished.push(job);
        for (const d of job.datums) {
          const what = `datum ${d.id} of job ${job.id} of pipeline "${p}"`;
          if (d.logs) blobs.push({ hash: d.logs, what: `the logs of ${what}` });
          if (d.outputTree) trees.push({ hash: d.outputTree, what: `the output of ${what}` });
        }
      }
    }
    // A job runs only in the lease holder's process: with none alive, an unfinished record
    // is one a crash left, which resumes from its datum index, not from what it wrote.
    const running = unfinished.length > 0 && (await leaseHolder(store)) !== null;
    const since = running
      ? Math.min(...unfinished.map((j) => Date.parse(j.created))) - KEEP_MARGIN_MS
      : NaN;
    return {
      trees,
      blobs,
      ...(Number.isFinite(since) ? { keepSince: since } : {}),
      dropStale: async (stale) => {
        const byPipeline = new Map<string, Set<Hash>>();
        for (const r of stale as readonly IndexRoot[]) {
          const set = byPipeline.get(r.pipeline) ?? new Set<Hash>();
          set.add(r.entry.hash);
          byPipeline.set(r.pipeline, set);
        }
        // Lines that are not entries go too: `dropDatums` rewrites an index without them.
        for (const p of live) {
          if (!byPipeline.has(p) && await hasMalformedLines(store, p)) byPipeline.set(p, new Set());
        }
        for (const [p, hashes] of byPipeline) await jobs.dropDatums(p, hashes);
      },
    };
  };
}

/** True when the datum index of `pipeline` holds lines that are not entries. */
async function hasMalformedLines(store: Store, pipeline: string): Promise<boolean> {
  try {
    return malformedLines(await Deno.readTextFile(store.layout.datumIndex(pipeline))).length > 0;
  } catch {
    // Missing: nothing to drop; unreadable: reading the index itself says why.
    return false;
  }
}

/**
 * Check everything: ledger, commits, trees, blobs, the job records' objects, each
 * pipeline's job index against its records, and each line of its datum index. A damaged job
 * record fails it, unless `skipDamagedJobs` (for a caller that reports them apart).
 */
export async function verify(
  store: Store,
  options: { skipDamagedJobs?: boolean } = {},
): Promise<VerifyReport> {
  const pipelines = await new JobStore(store).pipelines();
  // First: a line that is not an entry is named as such, not as the entry it fails to be.
  for (const p of pipelines) await checkDatumIndex(store.root, store.layout.datumIndex(p), p);
  const report = await verifyStore(store, {
    extraRoots: jobRoots(store, { skipDamaged: options.skipDamagedJobs ?? false }),
  });
  for (const p of pipelines) await checkJobIndex(store.layout, p);
  return report;
}

/**
 * Free what nothing keeps: no kept ledger entry, no live pipeline's job records or datum
 * index, and nothing written since a job still running started. Datum index entries whose
 * output is no longer whole, and lines that are not entries, are dropped (their datums run
 * again). Datum logs and noted attempts whose job record is gone (removed by hand) are
 * removed too.
 */
export async function gc(store: Store, options: { dryRun?: boolean } = {}): Promise<GcReport> {
  const started = Date.now();
  const report = await collectGarbage(store, { ...options, extraRoots: jobRoots(store) });
  if (!options.dryRun) {
    const jobs = new JobStore(store);
    const live = new Set(Object.keys((await store.state()).meta[PIPELINE_KIND] ?? {}));
    for (const p of await jobs.pipelines()) {
      if (!live.has(p)) await jobs.removePipeline(p);
      else await removeOrphanLogs(store, p, started - ORPHAN_MARGIN_MS);
    }
  }
  return report;
}

/**
 * How long before `gc` started a datum log or attempts file without a record must have been
 * last written to be removed: a job's first save writes its log just before its record.
 */
const ORPHAN_MARGIN_MS = 10_000;

/**
 * Remove each datum log (`<id>.datums`) and noted attempts (`<id>.attempts`) of `pipeline`,
 * a regular file, whose record (`<id>.json`) is gone and that was last written before
 * `before` (ms since the epoch).
 */
async function removeOrphanLogs(store: Store, pipeline: string, before: number): Promise<void> {
  const dir = store.layout.jobDir(pipeline);
  const names = new Set<string>();
  try {
    for await (const e of Deno.readDir(dir)) names.add(e.name);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw err;
  }
  for (const name of names) {
    const m = /^([0-9a-f]{32})\.(?:datums|attempts)$/.exec(name);
    if (!m || names.has(`${m[1]}.json`)) continue;
    const log = `${dir}/${name}`;
    const info = await Deno.lstat(log).catch(() => null);
    if (!info?.isFile || (info.mtime?.getTime() ?? Infinity) >= before) continue;
    // Its record may have been written since the folder was listed.
    if (await Deno.lstat(`${dir}/${m[1]}.json`).then(() => true, () => false)) continue;
    await Deno.remove(log).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
    });
  }
}
