/**
 * What every store (PFS) verb needs: the store and the error classes. The verbs come per
 * noun (`repo.ts`, `file.ts`, `commit.ts`, `jobs.ts`), so a command loads only its own
 * (`list repo` loads no file or commit code); `lib/pfs.ts` re-exports them all.
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
} from "../errors.ts";
export { Store, STORE_DIR } from "../store/store.ts";
