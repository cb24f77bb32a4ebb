/**
 * What a write reports of the jobs its commit starts: whether it may trigger any
 * (`mayTrigger`) and `isFinal`, the job states' one rule (see `store.ts`).
 */
export { isFinal } from "../pipeline/states.ts";
export { mayTrigger } from "../commands/triggers.ts";
