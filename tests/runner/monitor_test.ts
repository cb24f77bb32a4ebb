/** TreeMonitor: samples a process tree's memory from /proc through bash. */
import assert from "node:assert/strict";
import {
  type DiskSample,
  parseDiskSample,
  parseSample,
  TreeMonitor,
  type TreeSample,
} from "../../lib/runner/_monitor.ts";
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
    args: ["-c", "sleep 30 & sleep 30 & wait"],
    stdin: "null",
    stdout: "null",
  }).spawn();
  const samples: TreeSample[] = [];
  const monitor = TreeMonitor.start(bash, child.pid, 20, true, (s) => samples.push(s));
  // A child is named "sh" between its fork and its exec of sleep: wait for both sleeps.
  const both = (s: TreeSample) =>
    s.processes.length === 3 && s.processes.slice(1).every((p) => p.name === "sleep");
  try {
    const until = Date.now() + 20_000;
    while (!samples.some(both) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const last = samples.findLast(both);
    assert.ok(last, `no sample held sh and its two sleeps: ${JSON.stringify(samples.at(-1))}`);
    assert.equal(last.processes[0]!.pid, child.pid);
    assert.ok(last.rssBytes > 0);
    assert.ok(monitor!.peakBytes >= last.rssBytes);
  } finally {
    for (const p of samples.at(-1)?.processes ?? []) Deno.kill(p.pid, "SIGKILL");
    await child.status;
    await monitor?.stop();
  }
});

Deno.test("parseDiskSample() reads free and held bytes", () => {
  assert.deepEqual(parseDiskSample("D 1048576 4096"), { freeBytes: 1048576, heldBytes: 4096 });
  assert.equal(parseDiskSample("D 12"), null);
  assert.equal(parseDiskSample("D x 1"), null);
});

Deno.test("TreeMonitor counts a deleted file its process keeps open, and the free space", async () => {
  const [bash, stat] = await Promise.all([findExecutable("bash"), findExecutable("stat")]);
  assert.ok(bash && stat, "bash and stat are needed");
  const dir = await Deno.makeTempDir({ prefix: "tusk-monitor-" });
  // 3 MiB through a file deleted at once; a named 1 MiB file beside it is not counted.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      'exec 3>"$1/gone"; rm "$1/gone"; head -c 3145728 /dev/zero >&3; ' +
      'head -c 1048576 /dev/zero > "$1/named"; echo ready; exec sleep 5',
      "sh",
      dir,
    ],
    stdin: "null",
    stdout: "piped",
  }).spawn();
  const disks: DiskSample[] = [];
  let monitor: TreeMonitor | null = null;
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    assert.equal((await reader.read()).value?.trim(), "ready");
    reader.releaseLock();
    monitor = TreeMonitor.start(bash, child.pid, 20, false, () => {}, {
      stat,
      dir,
      intervalMs: 20,
      onSample: (d) => disks.push(d),
    });
    while (disks.length < 2) await new Promise((r) => setTimeout(r, 10));
    const last = disks.at(-1)!;
    assert.equal(last.heldBytes, 3 * 1024 * 1024);
    assert.ok(last.freeBytes > 0);
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await child.stdout.cancel().catch(() => {});
    await monitor?.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
