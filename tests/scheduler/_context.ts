/** A job context for the scheduler's tests: the store's real job store, a bus, Deno's sandbox. */
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import type { JobContext } from "../../lib/scheduler/job_state.ts";
import type { Store } from "../../lib/store/store.ts";

/** The context of jobs run on `store` in this process, one core, with `options` over it. */
export function contextOf(store: Store, options: Partial<JobContext> = {}): JobContext {
  return {
    store,
    jobs: new JobStore(store),
    bus: new EventBus(),
    sandbox: "deno",
    cores: 1,
    ...options,
  };
}
