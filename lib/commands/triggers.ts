/**
 * Whether a commit can start a job, answered from the store's state alone: a store-only
 * command asks this before it loads any pipeline code, so that on a store without
 * pipelines it never does.
 */
import type { Store } from "../store/store.ts";

/**
 * True when a commit to `store` may trigger a job: the store holds records of the layers
 * above it (pipelines). False means no commit can start one. Once this process has
 * committed, it answers for that commit, from the state its transaction saw under the lock
 * (no read): a pipeline created after it runs on the commit itself.
 */
export async function mayTrigger(store: Store): Promise<boolean> {
  const { meta } = store.committed() ?? await store.state();
  return Object.values(meta).some((records) => Object.keys(records).length > 0);
}
