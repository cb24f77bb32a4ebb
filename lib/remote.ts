/**
 * The lean surface of the remote verbs, for `tusk remote`, `push`, `pull` and `clone`:
 * loading it loads the store, these verbs and the parts of the pipeline layer they move
 * (records, jobs), not the scheduler or runner code; the AWS SDK is loaded only by a
 * command that talks to an S3 remote. `lib/mod.ts` re-exports all of it.
 */
export {
  cloneFrom,
  pullFrom,
  pushTo,
  remoteAdd,
  remoteList,
  remoteRemove,
  remoteVerify,
} from "./commands/remote.ts";
export type {
  CloneResult,
  RemoteInfo,
  RemoteVerifyReport,
  TransferOptions,
  TransferProgress,
  TransferResult,
} from "./commands/remote.ts";
