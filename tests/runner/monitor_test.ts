/** TreeMonitor: samples a process tree's memory from /proc through bash. */
import assert from "node:assert/strict";
import { parseSample, TreeMonitor, type TreeSample } from "../../lib/runner/_monitor.ts";
import { findExecutable } from "../../lib/runner/detect.ts";

Deno.test("parseSample() reads KiB totals and the processes of one line", () => {
  assert.deepEqual(parseSample("2048 4096 10/bwrap 11/bwrap 12/deno"), {
    rssBytes: 2048 * 1024,
    peakBytes: 4096 * 1024,
    processes: [{ pid: 10, name: "bwrap" }, { pid: 11, name: "bwrap" }, { pid: 12, name: "deno" }],
  });
  assert.equal(parseSample("garbage"), null);
});

Deno.test("TreeMonitor finds a process's descendants and their memory", async () => {
  const bash = await findExecutable("bash");
  if (!bash) return;
  const child = new Deno.Command("sh", {
    args: ["-c", "sleep 2 & sleep 2 & wait"],
    stdin: "null",
    stdout: "null",
  }).spawn();
  const samples: TreeSample[] = [];
  const monitor = TreeMonitor.start(bash, child.pid, 20, true, (s) => samples.push(s));
  try {
    while (!samples.some((s) => s.processes.length === 3)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const last = samples.at(-1)!;
    assert.equal(last.processes[0]!.pid, child.pid);
    assert.deepEqual(last.processes.slice(1).map((p) => p.name), ["sleep", "sleep"]);
    assert.ok(last.rssBytes > 0);
    assert.ok(monitor!.peakBytes >= last.rssBytes);
  } finally {
    for (const p of samples.at(-1)?.processes ?? []) Deno.kill(p.pid, "SIGKILL");
    await child.status;
    await monitor?.stop();
  }
});
