/**
 * Typed errors of tusk, all in one place. Every condition a caller may want to handle has
 * its own class with a stable `code` (also on the class: `NotFoundError.code`) and
 * structured `data`; tests assert on class and code, never text. `exitCode` is what the CLI
 * exits with: 1 for a failed operation, 2 for bad usage or input, 128 + the signal's number
 * for a command stopped by SIGINT or SIGTERM (`InterruptedError`).
 *
 * One family lives beside the rules it names: `SpecError` (a bad pipeline spec, exit 2),
 * whose `rule` is one of the spec's rules, in `lib/pipeline/spec/`.
 *
 * @example
 * ```ts
 * try {
 *   await inspectRepo(store, "trainig");
 * } catch (e) {
 *   if (e instanceof TuskError && e.code === NotFoundError.code) console.log(e.data.repo);
 * }
 * ```
 */

/** Base class of every error tusk raises on purpose. */
export class TuskError extends Error {
  /** Stable machine-readable code, e.g. `NOT_FOUND`. */
  readonly code: string;
  /** Values naming the culprit (repo, branch, path, …). */
  readonly data: Readonly<Record<string, unknown>>;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: 1 | 2 | 130 | 143;

  constructor(
    code: string,
    message: string,
    data: Record<string, unknown> = {},
    exitCode: 1 | 2 | 130 | 143 = 1,
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
    this.exitCode = exitCode;
  }

  /** A plain object for `--json` output. */
  toJSON(): { code: string; message: string; data: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

/** A repo, branch, commit, file or other named thing does not exist. */
export class NotFoundError extends TuskError {
  static readonly code = "NOT_FOUND";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(NotFoundError.code, message, data, 1);
  }
}

/** Something with that name already exists. */
export class AlreadyExistsError extends TuskError {
  static readonly code = "ALREADY_EXISTS";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(AlreadyExistsError.code, message, data, 1);
  }
}

/** A name, path, reference or argument is malformed (usage error, exit 2). */
export class InvalidArgumentError extends TuskError {
  static readonly code = "INVALID_ARGUMENT";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(InvalidArgumentError.code, message, data, 2);
  }
}

/** A local file given to tusk is unusable: missing, a symlink, a device, a FIFO. */
export class BadSourceError extends TuskError {
  static readonly code = "BAD_SOURCE";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(BadSourceError.code, message, data, 1);
  }
}

/** The store's contents do not match their hashes or chain: tampering or corruption. */
export class IntegrityError extends TuskError {
  static readonly code = "INTEGRITY";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(IntegrityError.code, message, data, 1);
  }
}

/** No store was found or the folder is not a tusk store. */
export class NoStoreError extends TuskError {
  static readonly code = "NO_STORE";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(NoStoreError.code, message, data, 1);
  }
}

/** The disk is full or a file-size limit was hit while writing. */
export class NoSpaceError extends TuskError {
  static readonly code = "NO_SPACE";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(NoSpaceError.code, message, data, 1);
  }
}

/** True when `err` is the OS telling us the disk or a file-size limit is exhausted. */
export function isNoSpace(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT" ||
    /No space left|File too large|ENOSPC|EFBIG/i.test(err.message);
}

/** `--sandbox bwrap` was asked for but bubblewrap cannot run stages on this machine. */
export class SandboxUnavailableError extends TuskError {
  static readonly code = "SANDBOX_UNAVAILABLE";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(SandboxUnavailableError.code, message, data, 1);
  }
}

/** Another live process holds the scheduler lease. */
export class LeaseHeldError extends TuskError {
  static readonly code = "LEASE_HELD";
  constructor(pid: number) {
    super(
      LeaseHeldError.code,
      `A scheduler is already running for this store (pid ${pid}): attach to it or stop it first`,
      { pid },
      1,
    );
  }
}

/**
 * A wait that nothing would end: no scheduler holds the store and the jobs waited for are
 * not run here (or running the due jobs here did not finish them).
 */
export class NoSchedulerError extends TuskError {
  static readonly code = "NO_SCHEDULER";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(NoSchedulerError.code, message, data, 1);
  }
}

/**
 * The command was stopped by SIGINT (Ctrl-C) or SIGTERM: the jobs it ran were cut short and
 * left to resume, their runs counting no try. Exits 130 or 143, as a process the signal
 * ended would.
 */
export class InterruptedError extends TuskError {
  static readonly code = "INTERRUPTED";
  constructor(signal: "SIGINT" | "SIGTERM") {
    super(
      InterruptedError.code,
      `Interrupted (${signal}): any job it was running is left unfinished and resumes, ` +
        'counting no try, when jobs next run (the next command that commits, "tusk wait ' +
        'commit", or "tusk up")',
      { signal },
      signal === "SIGINT" ? 130 : 143,
    );
  }
}

/** A job cannot be re-run now: still running, stopped pipeline, not the newest, … */
export class RerunRefusedError extends TuskError {
  static readonly code = "RERUN_REFUSED";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(RerunRefusedError.code, message, data, 1);
  }
}

/**
 * A remote cannot be used: unreachable, refusing the credentials, not a tusk remote, empty,
 * or missing a bucket. `data.problem` says which; `data.remote` names it.
 */
export class RemoteError extends TuskError {
  static readonly code = "REMOTE";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(RemoteError.code, message, data, 1);
  }
}

/**
 * A push or pull would drop commits from a branch (or go back on a pipeline): refused, naming
 * the branch and both heads, with nothing changed on either side.
 */
export class NotFastForwardError extends TuskError {
  static readonly code = "NOT_FAST_FORWARD";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(NotFastForwardError.code, message, data, 1);
  }
}

/** Another push reached the remote first: nothing of this one was committed; run it again. */
export class RemoteConflictError extends TuskError {
  static readonly code = "REMOTE_CONFLICT";
  constructor(message: string, data: Record<string, unknown> = {}) {
    super(RemoteConflictError.code, message, data, 1);
  }
}

/** Which usage rule a command line broke. */
export type UsageErrorCode =
  | "UNKNOWN_COMMAND"
  | "UNKNOWN_OPTION"
  | "MISSING_VALUE"
  | "EMPTY_VALUE"
  | "CONFLICTING_OPTIONS"
  | "UNEXPECTED_VALUE"
  | "INVALID_CHOICE"
  | "MISSING_ARGUMENT"
  | "UNEXPECTED_ARGUMENT"
  | "MISSING_OPTION"
  | "UNSUPPORTED_COMMAND";

/** The command line does not fit the declared commands (exit 2); `code` says how. */
export class UsageError extends TuskError {
  declare readonly code: UsageErrorCode;
  constructor(code: UsageErrorCode, message: string, data: Record<string, unknown>) {
    super(code, message, data, 2);
  }
}
