/** The typed errors: each class's static `code` is the code its errors carry, and codes are unique. */
import assert from "node:assert/strict";
import * as errors from "../lib/errors.ts";

/** Every class of lib/errors.ts with a static code, made with a message and no data. */
const CONDITIONS: [{ readonly code: string; readonly name: string }, errors.TuskError][] = [
  [errors.NotFoundError, new errors.NotFoundError("m")],
  [errors.AlreadyExistsError, new errors.AlreadyExistsError("m")],
  [errors.InvalidArgumentError, new errors.InvalidArgumentError("m")],
  [errors.BadSourceError, new errors.BadSourceError("m")],
  [errors.IntegrityError, new errors.IntegrityError("m")],
  [errors.NoStoreError, new errors.NoStoreError("m")],
  [errors.NoSpaceError, new errors.NoSpaceError("m")],
  [errors.SandboxUnavailableError, new errors.SandboxUnavailableError("m")],
  [errors.LeaseHeldError, new errors.LeaseHeldError(42)],
  [errors.NoSchedulerError, new errors.NoSchedulerError("m")],
  [errors.RerunRefusedError, new errors.RerunRefusedError("m")],
  [errors.InterruptedError, new errors.InterruptedError("SIGTERM")],
  [errors.RemoteError, new errors.RemoteError("m")],
  [errors.NotFastForwardError, new errors.NotFastForwardError("m")],
  [errors.RemoteConflictError, new errors.RemoteConflictError("m")],
];

Deno.test("every error class with a static code gives that code to its errors", () => {
  for (const [cls, e] of CONDITIONS) {
    assert.ok(e instanceof errors.TuskError, cls.name);
    assert.equal(e.code, cls.code, cls.name);
    assert.equal(e.name, cls.name);
  }
});

Deno.test("lib/errors.ts lists every error class with a static code, each code once", () => {
  const withCode = Object.values(errors).filter((v) =>
    typeof v === "function" && typeof (v as { code?: unknown }).code === "string"
  );
  assert.equal(withCode.length, CONDITIONS.length);
  const codes = CONDITIONS.map(([cls]) => cls.code);
  assert.equal(new Set(codes).size, codes.length);
});

Deno.test("InvalidArgumentError and UsageError exit 2, InterruptedError 128 + its signal, the other conditions 1", () => {
  for (const [cls, e] of CONDITIONS) {
    if (cls === errors.InterruptedError) continue;
    assert.equal(e.exitCode, cls === errors.InvalidArgumentError ? 2 : 1, cls.name);
  }
  assert.equal(new errors.UsageError("UNKNOWN_COMMAND", "m", {}).exitCode, 2);
  assert.equal(new errors.InterruptedError("SIGINT").exitCode, 130);
  assert.equal(new errors.InterruptedError("SIGTERM").exitCode, 143);
});

Deno.test("LeaseHeldError names the pid holding the lease in its data", () => {
  assert.deepEqual(new errors.LeaseHeldError(42).toJSON().data, { pid: 42 });
});
