/** capDatumLogs(): what a datum's log object keeps of its runs' output. */
import assert from "node:assert/strict";
import { capDatumLogs, DATUM_LOG_MARKER } from "../../lib/scheduler/datum_logs.ts";
import { storedBytes } from "../../lib/runner/log_size.ts";

/** A run's log with this output. */
function run(attempt: number, stdout: string, stderr: string) {
  return { attempt, exitCode: 1, outcome: "failed", message: "", stdout, stderr };
}

/** A stream's text without the marker of its cut. */
function unmarked(text: unknown): string {
  return String(text).replace(`\n${DATUM_LOG_MARKER}`, "").replace(DATUM_LOG_MARKER, "");
}

/** Stored bytes of every run's output, markers left out. */
function kept(logs: readonly Record<string, unknown>[]): number {
  return logs.reduce(
    (n, a) =>
      n +
      storedBytes(unmarked(a.stdout)) +
      storedBytes(unmarked(a.stderr)),
    0,
  );
}

Deno.test("capDatumLogs() leaves logs within the cap as they are", () => {
  // A newline is stored as "\\n": two bytes.
  const logs = [run(1, "a\n", "b\n"), run(2, "c\n", "")];
  assert.deepEqual(capDatumLogs(logs, { maxBytes: 9 }), logs);
});

Deno.test("capDatumLogs() keeps the last run whole and cuts the earlier ones, marking the cut", () => {
  const logs = [run(1, "x".repeat(50), "y".repeat(50)), run(2, "o".repeat(30), "e".repeat(30))];
  const capped = capDatumLogs(logs, { maxBytes: 100 });
  assert.deepEqual(capped[1], logs[1]);
  assert.equal(capped[0]!.stderr, `${"y".repeat(40)}\n${DATUM_LOG_MARKER}`);
  assert.equal(capped[0]!.stdout, DATUM_LOG_MARKER);
  assert.equal(capped[0]!.attempt, 1);
  assert.equal(kept(capped), 100);
});

Deno.test("capDatumLogs() counts bytes as stored: an escaped control character takes six", () => {
  const logs = [run(1, "\x01".repeat(100), "\x02".repeat(100))];
  const capped = capDatumLogs(logs, { maxBytes: 300 });
  assert.equal(capped[0]!.stderr, `${"\x02".repeat(50)}\n${DATUM_LOG_MARKER}`);
  assert.equal(capped[0]!.stdout, DATUM_LOG_MARKER);
  assert.equal(kept(capped), 300);
});
