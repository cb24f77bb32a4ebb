/**
 * Typed errors of tusk. Every condition a caller may want to handle has its own class
 * with a stable `code` and structured `data`; tests assert on class and code, never text.
 * `exitCode` is what the CLI exits with: 1 for a failed operation, 2 for bad usage or input.
 */

/** Base class of every error tusk raises on purpose. */
export class TuskError extends Error {
  /** Stable machine-readable code, e.g. `NOT_FOUND`. */
  readonly code: string;
  /** Values naming the culprit (repo, branch, path, …). */
  readonly data: Readonly<Record<string, unknown>>;
  /** Process exit code the CLI uses for this error. */
  readonly exitCode: 1 | 2;

  constructor(
    code: string,
    message: string,
    data: Record<string, unknown> = {},
    exitCode: 1 | 2 = 1,
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
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("NOT_FOUND", message, data, 1);
  }
}

/** Something with that name already exists. */
export class AlreadyExistsError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("ALREADY_EXISTS", message, data, 1);
  }
}

/** A name, path, reference or argument is malformed (usage error, exit 2). */
export class InvalidArgumentError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("INVALID_ARGUMENT", message, data, 2);
  }
}

/** A local file given to tusk is unusable: missing, a symlink, a device, a FIFO. */
export class BadSourceError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("BAD_SOURCE", message, data, 1);
  }
}

/** The store's contents do not match their hashes or chain: tampering or corruption. */
export class IntegrityError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("INTEGRITY", message, data, 1);
  }
}

/** No store was found or the folder is not a tusk store. */
export class NoStoreError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("NO_STORE", message, data, 1);
  }
}

/** A branch moved between read and write (compare-and-swap lost). */
export class ConflictError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("CONFLICT", message, data, 1);
  }
}

/** The disk is full or a file-size limit was hit while writing. */
export class NoSpaceError extends TuskError {
  constructor(message: string, data: Record<string, unknown> = {}) {
    super("NO_SPACE", message, data, 1);
  }
}

/** True when `err` is the OS telling us the disk or a file-size limit is exhausted. */
export function isNoSpace(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return code === "ENOSPC" || code === "EFBIG" || code === "EDQUOT" ||
    /No space left|File too large|ENOSPC|EFBIG/i.test(err.message);
}
