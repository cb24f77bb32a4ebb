/**
 * The limits of a host-program stage beside its namespaces: the supervisor's own count of a
 * sandbox's tasks (what holds where neither a pids cgroup nor RLIMIT_NPROC does), the pids
 * cgroups made ahead of stage runs, and the seccomp filter's program.
 */
import assert from "node:assert/strict";
import { REFUSED_SYSCALLS, seccompFilter } from "../../lib/runner/_seccomp.ts";
import { CgroupPool, cgroupPool, TaskWatch } from "../../lib/runner/_task_watch.ts";
import { hostTools } from "../../lib/runner/detect.ts";
import { HOST_STAGE_MAX_TASKS, hostStageCommand, hostSystem } from "../../lib/runner/host_stage.ts";
import { prepareHostStages } from "../../lib/runner/run_stage.ts";
import { processesMentioning, workspace } from "./_helpers.ts";
import { HOST_SANDBOX, hostCode } from "./_host.ts";

/** The `struct sock_filter`s of a filter, as [code, jt, jf, k]. */
function instructions(bytes: Uint8Array): [number, number, number, number][] {
  const view = new DataView(bytes.buffer);
  const out: [number, number, number, number][] = [];
  for (let i = 0; i < bytes.length; i += 8) {
    out.push([
      view.getUint16(i, true),
      view.getUint8(i + 2),
      view.getUint8(i + 3),
      view.getUint32(i + 4, true),
    ]);
  }
  return out;
}

Deno.test("seccompFilter() refuses the keyrings and the rest with EPERM, other ABIs with ENOSYS", () => {
  const program = instructions(seccompFilter("x86_64")!);
  assert.deepEqual(program[0], [0x20, 0, 0, 4]);
  assert.deepEqual(program[1], [0x15, 1, 0, 0xc000003e]);
  assert.deepEqual(program[2], [0x06, 0, 0, 0x00050000 | 38]);
  const checks = program.filter(([code, , , k]) => code === 0x15 && k < 0x1000).map((i) => i[3]);
  assert.deepEqual(checks, [250, 248, 249, 298, 321, 323, 425, 426, 427]);
  assert.equal(checks.length, REFUSED_SYSCALLS.length);
  // Each check jumps to the last instruction: EPERM; falling through them all allows.
  program.forEach(([code, jt, , k], i) => {
    if (code === 0x15 && k < 0x1000) assert.equal(i + 1 + jt, program.length - 1);
  });
  assert.deepEqual(program.at(-2), [0x06, 0, 0, 0x7fff0000]);
  assert.deepEqual(program.at(-1), [0x06, 0, 0, 0x00050000 | 1]);
});

Deno.test("seccompFilter() knows aarch64's numbers and no unknown architecture", () => {
  const program = instructions(seccompFilter("aarch64")!);
  assert.ok(program.some(([code, , , k]) => code === 0x15 && k === 219), "keyctl");
  assert.equal(seccompFilter("riscv64"), null);
});

if (HOST_SANDBOX) {
  Deno.test("TaskWatch counts a sandbox's tasks itself where no cgroup holds them, and says when over", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, "/bin/sh", {});
    const marker = `many-${crypto.randomUUID()}`;
    await Deno.mkdir(`${ws.scratchDir}/tmp`, { recursive: true });
    await Deno.mkdir(`${ws.scratchDir}/shm`, { recursive: true });
    await Deno.mkdir(ws.outDir, { recursive: true });
    const tools = await hostTools();
    const command = hostStageCommand(
      {
        bundle: "",
        args: ["-c", `for i in $(seq 40); do sh -c 'sleep 60' ${marker} & done; wait`],
        inputs: [{ name: "data", dir: ws.inputDir }],
        outDir: ws.outDir,
        scratchDir: ws.scratchDir,
        mode: "bwrap",
      },
      host,
      tools,
      { ...(await hostSystem()), pidsCgroup: null },
    );
    const child = new Deno.Command(command.program, {
      args: [...command.args],
      clearEnv: true,
      cwd: command.cwd,
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const { promise, resolve } = Promise.withResolvers<number>();
    const watch = TaskWatch.start(tools.bash, child.pid, 20, null, resolve)!;
    const timer = setTimeout(() => resolve(-1), 30_000);
    try {
      const tasks = await promise;
      assert.ok(tasks >= 20, `counted ${tasks}`);
    } finally {
      clearTimeout(timer);
      child.kill("SIGKILL");
      await child.status;
      await watch.stop();
    }
    // The sandbox dies with its bwrap: its pid namespace is torn down, which takes a moment.
    let left = await processesMentioning(marker);
    for (let i = 0; i < 40 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      left = await processesMentioning(marker);
    }
    assert.deepEqual(left, []);
  });
}

/** What `cat` prints of `files` (Deno reads no /sys without --allow-all), or null. */
async function catFiles(...files: string[]): Promise<string | null> {
  const out = await new Deno.Command("cat", { args: files, stderr: "null" }).output();
  return out.success ? new TextDecoder().decode(out.stdout) : null;
}

const PIDS = (await hostSystem()).pidsCgroup;
if (PIDS) {
  Deno.test("CgroupPool.prepare() makes a capped cgroup ahead that take() then gives, once", async () => {
    const pool = new CgroupPool();
    const system = await hostSystem();
    pool.prepare(PIDS, system.sh, 77);
    pool.prepare(PIDS, system.sh, 77); // one at a time
    const first = await pool.take(PIDS);
    try {
      assert.match(first.path, new RegExp(`^${PIDS}/tusk-${Deno.pid}-\\d+$`));
      assert.equal(first.events, 0);
      assert.equal(await catFiles(`${first.path}/pids.max`, `${first.path}/tasks`), "77\n");
      // None ready now: the next is only named, for the stage's shell to make.
      const second = await pool.take(PIDS);
      assert.notEqual(second.path, first.path);
      assert.equal(await catFiles(`${second.path}/pids.max`), null);
    } finally {
      await new Deno.Command("rmdir", { args: [first.path] }).output();
    }
  });

  Deno.test("prepareHostStages() makes the first stage run's cgroup ahead, for the process's pool to give", async () => {
    const taken: string[] = [];
    try {
      // Empty the pool of cgroups earlier runs gave back: take until one is only named.
      while (true) {
        await cgroupPool.settled();
        const c = await cgroupPool.take(PIDS);
        if (await catFiles(`${c.path}/pids.max`) === null) break;
        taken.push(c.path);
      }
      prepareHostStages();
      await Promise.all([hostTools(), hostSystem()]);
      await new Promise((resolve) => setTimeout(resolve, 0));
      const first = await cgroupPool.take(PIDS);
      taken.push(first.path);
      assert.match(first.path, new RegExp(`^${PIDS}/tusk-${Deno.pid}-\\d+$`));
      assert.equal(await catFiles(`${first.path}/pids.max`), `${HOST_STAGE_MAX_TASKS}\n`);
    } finally {
      for (const path of taken) await new Deno.Command("rmdir", { args: [path] }).output();
    }
  });
}
