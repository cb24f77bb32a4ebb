/** What a push or pull is asked, what it reports as it goes, and what it did. */
import type { DamagedJob } from "../pipeline/jobs.ts";
import type { RemoteBackend } from "./backend.ts";

/** Options of `push()` and `pull()`. */
export interface TransferOptions {
  /** The remote's name here (its cache is kept under it). */
  readonly remote: string;
  readonly backend: RemoteBackend;
  /** `repo` or `repo@branch` to move (none: everything). */
  readonly refs?: readonly string[];
  readonly onProgress?: (p: TransferProgress) => void;
  /** Told of each job record a push leaves behind because it is damaged. */
  readonly onDamaged?: (d: DamagedJob) => void;
}

/** One step of a transfer's progress: objects and bytes moved of those to move. */
export interface TransferProgress {
  readonly direction: "push" | "pull";
  readonly objects: number;
  readonly totalObjects: number;
  readonly bytes: number;
  readonly totalBytes: number;
}

/** A branch a push or pull moved (or made: `from` null). */
export interface BranchMove {
  readonly repo: string;
  readonly branch: string;
  readonly from: string | null;
  readonly to: string | null;
}

/** What a push or pull did. */
export interface TransferResult {
  readonly remote: string;
  readonly url: string;
  /** Nothing to move: both sides already agree on what was asked for. */
  readonly upToDate: boolean;
  readonly branches: readonly BranchMove[];
  /** Pipelines made or updated on the other side, with their version. */
  readonly pipelines: readonly { readonly name: string; readonly version: number }[];
  /** Job records moved. */
  readonly jobs: number;
  /** Objects and bytes moved, and packs written. */
  readonly objects: number;
  readonly bytes: number;
  readonly packs: number;
  /** Requests made to the remote (HTTP requests on S3). */
  readonly requests: number;
  /** The remote's log entry after the run. */
  readonly entry: number;
}
