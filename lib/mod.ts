/**
 * The public surface of tusk's library for `main.ts`, `cli/` and `tui/`: the store verbs
 * (all of `lib/pfs.ts`), the metrics verbs (all of `lib/metrics.ts`), the remote verbs (all of
 * `lib/remote.ts`), creating pipelines and running triggered jobs (all of `lib/pps.ts`), the
 * pipeline, job, lineage and wait verbs, the scheduler, and what the
 * dashboard reads and prints with. A test pins this list; add to it deliberately. Tests import
 * the modules they test directly.
 */
export * from "./pfs.ts";
export * from "./metrics.ts";
export * from "./remote.ts";
export * from "./pps.ts";
export { formatSize, printable, printableName } from "./format/format.ts";
export { formatMetric } from "./format/metric.ts";
export { gc, verify } from "./commands/integrity.ts";
export {
  deletePipeline,
  drawPipelines,
  inspectPipeline,
  listPipelines,
  plan,
  setPipelineStopped,
} from "./commands/pipelines.ts";
export {
  countJobs,
  inspectDatum,
  inspectJob,
  listDatums,
  listJobs,
  logs,
  rerunJob,
  restartDatum,
  stopJob,
  streamJobs,
} from "./commands/jobs.ts";
export { lineage, provenance } from "./commands/lineage.ts";
export { waitCommit, waitJob } from "./commands/wait.ts";
export { runCron } from "./commands/run.ts";
export { followLogs, journalPath } from "./commands/journal.ts";
export { doctor } from "./commands/doctor.ts";
export { exportPachyderm } from "./commands/export.ts";
export { completionNames, completionScript } from "./commands/completions.ts";
export type { CompletionCommand, CompletionShell } from "./commands/completions.ts";
export { pipelinesOf } from "./pipeline/pipelines.ts";
export { inputLeaves } from "./pipeline/spec/input.ts";
export { SpecError } from "./pipeline/spec/spec_error.ts";
export type { PipelineSpec } from "./pipeline/spec/parse_spec.ts";
export type { JobRecord } from "./pipeline/jobs.ts";
export type { DatumState, JobState } from "./pipeline/states.ts";
export { journalStart, readJournal, type TuskEvent } from "./scheduler/events.ts";
export { Scheduler } from "./scheduler/scheduler.ts";
export { nextTick } from "./scheduler/cron.ts";
