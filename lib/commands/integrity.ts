/**
 * `verify` and `gc` for the whole of tusk: the store's checks plus what pipelines keep
 * alive outside commits (each datum's output tree and logs, the datum index).
 */
import { JobStore } from "../pipeline/jobs.ts";
import { PIPELINE_KIND } from "../pipeline/pipelines.ts";
import type { StoreState } from "../store/state.ts";
import type { Store } from "../store/store.ts";
import {
  collectGarbage,
  type ExtraRoots,
  type GcReport,
  type VerifyReport,
  verifyStore,
} from "../store/verify.ts";

function jobRoots(
  store: Store,
  options: { skipDamaged?: boolean } = {},
): (state: StoreState) => Promise<ExtraRoots> {
  return async (state) =>
    await new JobStore(store).roots(Object.keys(state.meta[PIPELINE_KIND] ?? {}), options);
}

/**
 * Check everything: ledger, commits, trees, blobs, and the job records' objects. A damaged
 * job record fails it, unless `skipDamagedJobs` (for a caller that reports them apart).
 */
export async function verify(
  store: Store,
  options: { skipDamagedJobs?: boolean } = {},
): Promise<VerifyReport> {
  return await verifyStore(store, {
    extraRoots: jobRoots(store, { skipDamaged: options.skipDamagedJobs ?? false }),
  });
}

/** Free what nothing keeps: no kept ledger entry, no live pipeline's job records. */
export async function gc(store: Store, options: { dryRun?: boolean } = {}): Promise<GcReport> {
  const report = await collectGarbage(store, { ...options, extraRoots: jobRoots(store) });
  if (!options.dryRun) {
    const jobs = new JobStore(store);
    const live = new Set(Object.keys((await store.state()).meta[PIPELINE_KIND] ?? {}));
    for (const p of await jobs.pipelines()) if (!live.has(p)) await jobs.removePipeline(p);
  }
  return report;
}
