/** The benchmarks' own tools: CPU time to the millisecond, and the commits section's rounds. */
import assert from "node:assert/strict";
import { CommandFailedError, measureCpu, minutesSeconds } from "./_process.ts";
import { rotated, roundsFrom } from "./_scale_commits.ts";

Deno.test("measureCpu() reports the CPU time a child spent, and throws with its output when it fails", async () => {
  const busy = await measureCpu("sh", [
    "-c",
    "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done; echo done",
  ]);
  assert.ok(busy.cpuMs !== null && busy.cpuMs > 0, `cpu ${busy.cpuMs}`);
  assert.equal(new TextDecoder().decode(busy.stdout), "done\n");
  const idle = await measureCpu("true", []);
  assert.ok(idle.cpuMs !== null && idle.cpuMs < busy.cpuMs!, `${idle.cpuMs} vs ${busy.cpuMs}`);
  await assert.rejects(measureCpu("sh", ["-c", "echo broken >&2; exit 3"]), (e) => {
    assert.ok(e instanceof CommandFailedError);
    assert.equal(e.code, 3);
    assert.match(e.message, /exited 3:\nbroken/);
    return true;
  });
});

Deno.test("rotated() starts each round at the next size; roundsFrom() takes a whole number ≥ 1", () => {
  assert.deepEqual([0, 1, 2, 3, -1].map((r) => rotated(["a", "b", "c"], r)), [
    ["a", "b", "c"],
    ["b", "c", "a"],
    ["c", "a", "b"],
    ["a", "b", "c"],
    ["c", "a", "b"],
  ]);
  assert.equal(roundsFrom(undefined), 21);
  assert.equal(roundsFrom("5"), 5);
  for (const bad of ["0", "-2", "1.5", "many", ""]) {
    assert.throws(() => roundsFrom(bad), /SCALE_COMMITS_ROUNDS must be a whole number ≥ 1/, bad);
  }
});

Deno.test("minutesSeconds() reads bash's times, and names what it cannot read", () => {
  assert.equal(minutesSeconds("0m0.036s"), 36);
  assert.equal(minutesSeconds("2m1.500s"), 121_500);
  assert.throws(() => minutesSeconds("0.036"), /Not a time of bash's times: "0.036"/);
});
