/**
 * The lean surface of the store (PFS) verbs, for commands that touch no pipeline: loading
 * it does not load the pipeline, scheduler, runner or dashboard code, which keeps a
 * `put file` or `list repo` quick to start (`isFinal`, the job states' one rule, comes along
 * for the commands that report the jobs their commits ran). `lib/mod.ts` re-exports all of
 * it.
 */
export {
  AlreadyExistsError,
  BadSourceError,
  IntegrityError,
  InterruptedError,
  InvalidArgumentError,
  LeaseHeldError,
  NoSchedulerError,
  NoSpaceError,
  NoStoreError,
  NotFastForwardError,
  NotFoundError,
  RemoteConflictError,
  RemoteError,
  RerunRefusedError,
  SandboxUnavailableError,
  TuskError,
  UsageError,
} from "./errors.ts";
export { Store, STORE_DIR } from "./store/store.ts";
export { isFinal } from "./pipeline/states.ts";
export { createRepo, deleteRepo, inspectRepo, listRepos } from "./commands/repo.ts";
export {
  deleteFile,
  diffFile,
  getFile,
  globFile,
  listFile,
  listFilePage,
  putFile,
} from "./commands/file.ts";
export type { FileInfo, FilePage, ListFileOptions } from "./commands/file.ts";
export {
  createBranch,
  deleteBranch,
  inspectCommit,
  listBranch,
  listCommit,
  revert,
} from "./commands/commit.ts";
export { mayTrigger } from "./commands/triggers.ts";
