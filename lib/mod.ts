/**
 * The public surface of tusk's library for `main.ts` and `tui/`: the store and every verb.
 * A test pins this list; add to it deliberately.
 */
export * from "./pfs.ts";
export type { CommitInfo, PathEntry, Resolved } from "./store/store.ts";
export type { Commit, Provenance } from "./store/codec.ts";
export { collectGarbage, verifyStore } from "./store/verify.ts";
export { gc, verify } from "./commands/integrity.ts";
export type { GcReport, VerifyReport } from "./store/verify.ts";
export type { RepoInfo } from "./commands/repo.ts";
export type { DiffRow, FileInfo, PutFileOptions, PutFileResult } from "./commands/file.ts";
export type { BranchView, CommitView } from "./commands/commit.ts";
export {
  createPipeline,
  deletePipeline,
  describeInput,
  downstream,
  drawPipelines,
  inspectDatum,
  inspectJob,
  inspectPipeline,
  lineage,
  listDatums,
  listJobs,
  listPipelines,
  logs,
  plan,
  provenance,
  rerunJob,
  restartDatum,
  setPipelineStopped,
  settled,
  stopJob,
  waitCommit,
  waitJob,
} from "./commands/pps.ts";
export type {
  DatumView,
  Lineage,
  LogLine,
  PipelineView,
  PlanRow,
  ProvenanceNode,
  RerunView,
} from "./commands/pps.ts";
export { pipelineOf, pipelinesOf } from "./pipeline/pipelines.ts";
export type { Pipeline, PipelineRecord } from "./pipeline/pipelines.ts";
export { parseSpec, parseSpecText, SpecError } from "./pipeline/spec.ts";
export type { PipelineSpec } from "./pipeline/spec.ts";
export type { DatumRecord, JobRecord, JobState } from "./pipeline/jobs.ts";
export {
  EventBus,
  type JournalChunk,
  readJournal,
  type ReadJournalOptions,
} from "./scheduler/events.ts";
export type { EventMap, TuskEvent } from "./scheduler/events.ts";
export { runInline, Scheduler } from "./scheduler/scheduler.ts";
export { leaseHolder } from "./scheduler/lease.ts";
export { nextTick } from "./scheduler/cron.ts";
export { detectSandbox } from "./runner/detect.ts";
export type { SandboxChoice, SandboxMode } from "./runner/detect.ts";
export { cronInputs } from "./scheduler/scheduler.ts";
export { denoImage, exportPachyderm, exportReadme, pachydermSpec } from "./commands/export.ts";
export type { ExportedPipeline, PachydermExport } from "./commands/export.ts";
export { doctor } from "./commands/doctor.ts";
export type { CronTick, DoctorReport } from "./commands/doctor.ts";
export { runCron, runTriggered } from "./commands/run.ts";
export { followLogs, journalPath } from "./commands/journal.ts";
export {
  argumentKind,
  COMPLETION_SHELLS,
  completionNames,
  completionScript,
  optionKind,
} from "./commands/completions.ts";
export type { CompletionCommand, CompletionShell } from "./commands/completions.ts";
