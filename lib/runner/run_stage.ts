/**
 * The stage runner: runs one stage (a Deno bundle) on one datum's host folders inside the
 * sandbox (`sandbox.ts`: Deno permissions, and bubblewrap namespaces where they work),
 * supervises it (timeout, job stop, memory, output size; the whole process group is
 * killed), captures its logs and harvests its out folder once it is gone (`harvest.ts`).
 */
import { NotFoundError } from "../errors.ts";
import { hostTools, machineMemoryBytes } from "./detect.ts";
import { StreamCapture } from "./_capture.ts";
import { type DiskSample, TreeMonitor } from "./_monitor.ts";
import { removeTree } from "../store/fs_util.ts";
import {
  checkInputFolder,
  harvestOutputs,
  type OutputLimits,
  sizeText,
  treeUsage,
} from "./harvest.ts";
import { defaultMemoryBytes, stageCommand, type StageSpec } from "./sandbox.ts";
import {
  HOST_STAGE_MAX_TASKS,
  hostScratch,
  type HostStage,
  hostStageCommand,
  hostSystem,
} from "./host_stage.ts";
import { cgroupPool, TaskWatch } from "./_task_watch.ts";
import { durationText, type StageOutcome, type StageResult, StageTimeout } from "./stage_result.ts";
import { Terminator } from "./_terminator.ts";

export type { SandboxMode, StageInput } from "./sandbox.ts";
export {
  durationText,
  failureText,
  reasonLine,
  type StageOutcome,
  type StageResult,
  StageTimeout,
} from "./stage_result.ts";

/** Options of `runStage()`: the stage, its datum's folders and its limits. */
export interface RunStageOptions extends StageSpec {
  /** Bytes fed to the stage's stdin (transform.stdin lines, or JSON lines for batching). */
  readonly stdin?: Uint8Array | undefined;
  /** datumTimeout: SIGTERM the stage, then SIGKILL its process group after `graceMs`. */
  readonly timeoutMs?: number | undefined;
  /** Time between SIGTERM and SIGKILL; default 2000. */
  readonly graceMs?: number | undefined;
  /**
   * Job stop or jobTimeout: ends the stage as a timeout does, outcome "killed" — or
   * "timeout" when the abort reason is a `StageTimeout` (a batched datum's timeout).
   */
  readonly signal?: AbortSignal | undefined;
  readonly limits?: {
    readonly maxOutputBytes?: number;
    readonly maxOutputFiles?: number;
    readonly maxLogBytes?: number;
    /** The free-space floor of the work folder's filesystem (`DEFAULT_LIMITS.minFreeBytes`). */
    readonly minFreeBytes?: number;
  };
  /** Live log lines, within the same `maxLogBytes` budget as the captured logs. */
  readonly onLog?: ((stream: "stdout" | "stderr", line: string) => void) | undefined;
  /**
   * Sees every complete stdout line first, outside the log budget; a line it returns true
   * for is protocol (datum batching's acknowledgements), not a log line.
   */
  readonly onProtocolLine?: ((line: string) => boolean) | undefined;
  /**
   * Harvest the out folder even when the runner ended the stage (a timeout, the memory
   * cap, a stop; not the output limits): datum batching keeps the datums it had answered.
   */
  readonly harvestAlways?: boolean | undefined;
  /** Called once the stage's process has been spawned (datum batching starts a clock). */
  readonly onStart?: (() => void) | undefined;
  /** Empty folders to create inside the fresh out folder (one per datum when batching). */
  readonly outFolders?: readonly string[] | undefined;
  /**
   * The memory cap when `memoryBytes` is not given (the spec sets no
   * `resourceLimits.memory`); default: a quarter of the machine's RAM (`defaultMemoryBytes()`).
   */
  readonly defaultMemoryBytes?: number | undefined;
  /** Starts the stage's process; default `spawnProcess` (tests swap it to watch spawns). */
  readonly spawn?: Spawner | undefined;
  /**
   * For a stage that is a host program: the program and its code (`bundle` is then not
   * used); it runs only in bwrap mode (`host_stage.ts`).
   */
  readonly host?: HostStage | undefined;
  /** The stage gets its datums in a batch: a host program is told so by its environment. */
  readonly batch?: boolean | undefined;
}

/** Starts a process as `new Deno.Command(program, options).spawn()` does. */
export type Spawner = (program: string, options: Deno.CommandOptions) => Deno.ChildProcess;

/** The real spawner: `new Deno.Command(program, options).spawn()`. */
export const spawnProcess: Spawner = (program, options) =>
  new Deno.Command(program, options).spawn();

/** Default limits of a stage run. */
export const DEFAULT_LIMITS = {
  /** Bytes in the out folder; and, apart, in scratch plus deleted files kept open. */
  maxOutputBytes: 1024 ** 3,
  maxOutputFiles: 100_000,
  /** Bytes of each captured stream, as stored (see `_capture.ts`). */
  maxLogBytes: 1024 ** 2,
  /**
   * A stage is stopped when the filesystem holding its work folder has less free than this
   * (whoever filled it), so that the store, on the same disk, keeps room to work.
   */
  minFreeBytes: 256 * 1024 ** 2,
} as const;

const DEFAULT_GRACE_MS = 2000;
const MEMORY_POLL_MS = 25;
/** Polling for the default cap: it is large, so overshooting it by 100 ms of growth is fine. */
const DEFAULT_MEMORY_POLL_MS = 100;
const OUTPUT_POLL_MS = 250;
/** How often the monitor measures the disk a stage takes (deleted files, free space). */
const DISK_POLL_MS = 250;
const STREAM_DRAIN_MS = 2000;

/** A sleep that a stop request cuts short. */
function sleep(ms: number, stop: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stop.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stop.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stop.addEventListener("abort", done);
  });
}

/** Why a V8 heap exhaustion shows in stderr. */
const HEAP_OOM = /Fatal JavaScript out of memory|JavaScript heap out of memory|Reached heap limit/;

/** Empty `dir` by recreating it; a symlink in its place is removed, never followed. */
async function freshFolder(dir: string): Promise<void> {
  await removeTree(dir);
  await Deno.mkdir(dir, { recursive: true });
}

/**
 * Start what the first run of a host-program stage waits for before it starts: the
 * machine's memory and the host's system folders looked up (each once per process), and
 * its pids cgroup made (as each run makes the next one's), so they are ready when it comes.
 * Best effort: what fails here is found again, and reported, by the run.
 */
export function prepareHostStages(): void {
  machineMemoryBytes().catch(() => {});
  Promise.all([hostTools(), hostSystem()]).then(([tools, system]) => {
    if (!system.pidsCgroup) return;
    cgroupPool.prepare(system.pidsCgroup, system.sh ?? tools.bash, HOST_STAGE_MAX_TASKS);
  }).catch(() => {});
}

/**
 * Run one stage on one datum in the sandbox and return how it went. Throws only for
 * misuse or a broken workspace (bad input names or env names, a missing bundle, an input
 * folder holding a symlink); everything the stage does ends in a `StageResult`.
 */
export async function runStage(options: RunStageOptions): Promise<StageResult> {
  const limits: OutputLimits & { maxLogBytes: number; minFreeBytes: number } = {
    maxOutputBytes: options.limits?.maxOutputBytes ?? DEFAULT_LIMITS.maxOutputBytes,
    maxOutputFiles: options.limits?.maxOutputFiles ?? DEFAULT_LIMITS.maxOutputFiles,
    maxLogBytes: options.limits?.maxLogBytes ?? DEFAULT_LIMITS.maxLogBytes,
    minFreeBytes: options.limits?.minFreeBytes ?? DEFAULT_LIMITS.minFreeBytes,
  };
  const tools = await hostTools();
  const ownLimit = options.memoryBytes !== undefined;
  const memoryBytes = options.memoryBytes ?? options.defaultMemoryBytes ??
    defaultMemoryBytes(await machineMemoryBytes());
  const capText = ownLimit
    ? `its memory limit of ${sizeText(memoryBytes)}`
    : `the default memory limit of ${
      sizeText(memoryBytes)
    } (the spec sets no resourceLimits.memory)`;
  const host = options.host;
  if (host && options.mode !== "bwrap") {
    throw new TypeError("A stage that is a host program runs only in bwrap mode, never with less");
  }
  const system = host ? await hostSystem() : null;
  // A host program gets a pids cgroup of its own where tusk may make one (see _task_watch.ts),
  // made while its folders are prepared unless one is ready.
  const cgroupRoot = system?.pidsCgroup ?? null;
  const shell = system?.sh ?? tools.bash;
  const commandIn = (cgroup: string | undefined) =>
    host
      ? hostStageCommand({ ...options, memoryBytes }, host, tools, system!, {
        batch: options.batch ?? false,
        cgroup,
      })
      : stageCommand({ ...options, memoryBytes }, tools);
  // Built first without its cgroup: misuse is refused before any folder is touched.
  let command = commandIn(undefined);
  if (cgroupRoot) cgroupPool.prepare(cgroupRoot, shell, HOST_STAGE_MAX_TASKS);
  try {
    const code = await Deno.stat(host ? host.codeDir : options.bundle).catch(() => null);
    if (host ? !code?.isDirectory : !code?.isFile) {
      const what = host ? "code folder" : "bundle";
      const path = host ? host.codeDir : options.bundle;
      throw new NotFoundError(`Cannot find the stage ${what} "${path}"`, { [what]: path });
    }
    for (const input of options.inputs) await checkInputFolder(input.name, input.dir);
    await freshFolder(options.outDir);
    for (const name of options.outFolders ?? []) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(name)) {
        throw new TypeError(`Invalid out folder name "${name}"`);
      }
      await Deno.mkdir(`${options.outDir}/${name}`);
    }
    await Deno.mkdir(options.scratchDir, { recursive: true });
    if (host) {
      const { tmp, shm } = hostScratch(options.scratchDir);
      await Deno.mkdir(tmp, { recursive: true });
      await Deno.mkdir(shm, { recursive: true });
    }
  } catch (err) {
    await cgroupPool.settled();
    throw err;
  }

  const empty = {
    stdout: "",
    stderr: "",
    durationMs: 0,
    peakRssBytes: 0,
    memoryBytes,
    outputs: [],
    harvested: false,
  };
  if (options.signal?.aborted) {
    await cgroupPool.settled();
    return {
      exitCode: null,
      signal: null,
      outcome: "killed",
      message: "Stage was stopped before it started",
      ...empty,
    };
  }
  const cgroup = cgroupRoot ? await cgroupPool.take(cgroupRoot) : null;
  if (cgroup) command = commandIn(cgroup.path);

  const started = performance.now();
  const child = (options.spawn ?? spawnProcess)(command.program, {
    args: [...command.args],
    env: { ...command.env },
    clearEnv: true,
    cwd: command.cwd,
    stdin: options.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });

  let verdict: { outcome: StageOutcome; message: string } | null = null;
  const stopWatching = new AbortController();
  let monitor: TreeMonitor | null = null;
  const terminator = new Terminator(
    child,
    options.mode,
    // A host program's bwrap is not started through setsid: it makes its own session.
    tools.setsid !== null && !host,
    () => monitor?.latest ?? null,
  );
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const end = (outcome: StageOutcome, message: string, graceful: boolean) => {
    if (verdict) return;
    verdict = { outcome, message };
    if (graceful) terminator.terminate(graceMs);
    else terminator.kill();
  };

  // The disk a stage takes beyond what its folders' names show: the latest scratch folder
  // size the walk found, and the deleted files it keeps open that the monitor found.
  let scratchBytes = 0;
  let heldBytes = 0;
  const checkTemporary = () => {
    if (scratchBytes + heldBytes <= limits.maxOutputBytes) return;
    end(
      "output-limit",
      heldBytes > 0
        ? `Stage's temporary files exceeded its output size limit of ${
          sizeText(limits.maxOutputBytes)
        } (${sizeText(heldBytes)} in files it deleted but keeps open, ${
          sizeText(scratchBytes)
        } in its scratch folder)`
        : `Stage's temporary files exceeded the output limits (${
          sizeText(limits.maxOutputBytes)
        }, ${limits.maxOutputFiles} files)`,
      false,
    );
  };
  const onDisk = (disk: DiskSample) => {
    heldBytes = disk.heldBytes;
    checkTemporary();
    if (disk.freeBytes < limits.minFreeBytes) {
      end(
        "disk-space",
        `Stage was stopped: the disk holding the store's work folder has ${
          sizeText(disk.freeBytes)
        } free, under the floor of ${
          sizeText(limits.minFreeBytes)
        } tusk keeps free (this stage or another program is filling it)`,
        false,
      );
    }
  };
  // The next stage run's cgroup is made while this one runs.
  if (cgroupRoot) cgroupPool.prepare(cgroupRoot, shell, HOST_STAGE_MAX_TASKS);
  monitor = TreeMonitor.start(
    tools.bash,
    child.pid,
    ownLimit ? MEMORY_POLL_MS : DEFAULT_MEMORY_POLL_MS,
    // A deno-mode stage cannot start processes: its tree is the Deno process alone.
    options.mode === "bwrap",
    (sample) => {
      if (sample.rssBytes > memoryBytes) end("memory", `Stage exceeded ${capText}`, false);
    },
    tools.stat
      ? { stat: tools.stat, dir: options.scratchDir, intervalMs: DISK_POLL_MS, onSample: onDisk }
      : undefined,
  );

  // A host program may start processes: a fork bomb is ended before it takes the machine's.
  const tasks = host
    ? TaskWatch.start(
      tools.bash,
      child.pid,
      HOST_STAGE_MAX_TASKS,
      cgroup,
      (n) =>
        end(
          "process-limit",
          `Stage exceeded its limit of ${HOST_STAGE_MAX_TASKS} processes and threads (it had ${n})`,
          false,
        ),
    )
    : null;

  const timer = options.timeoutMs !== undefined
    ? setTimeout(
      () =>
        end(
          "timeout",
          `Stage exceeded its datum timeout of ${durationText(options.timeoutMs!)}`,
          true,
        ),
      options.timeoutMs,
    )
    : undefined;
  const onAbort = () => {
    const reason = options.signal?.reason;
    if (reason instanceof StageTimeout) return end("timeout", reason.message, true);
    const why = reason instanceof Error ? reason.message : typeof reason === "string" ? reason : "";
    end("killed", why ? `Stage was stopped: ${why}` : "Stage was stopped", true);
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  options.onStart?.();

  const watchOutputs = (async () => {
    let wait = OUTPUT_POLL_MS;
    while (!stopWatching.signal.aborted) {
      await sleep(wait, stopWatching.signal);
      if (stopWatching.signal.aborted) return;
      const t0 = performance.now();
      const out = await treeUsage(options.outDir, limits);
      const tmp = await treeUsage(options.scratchDir, limits);
      if (out.bytes > limits.maxOutputBytes) {
        end(
          "output-limit",
          `Stage exceeded its output size limit of ${sizeText(limits.maxOutputBytes)}`,
          false,
        );
      } else if (out.entries > limits.maxOutputFiles) {
        end(
          "output-limit",
          `Stage exceeded its output limit of ${limits.maxOutputFiles} files and folders`,
          false,
        );
      } else if (tmp.entries > limits.maxOutputFiles) {
        end(
          "output-limit",
          `Stage's temporary files exceeded the output limits (${
            sizeText(limits.maxOutputBytes)
          }, ${limits.maxOutputFiles} files)`,
          false,
        );
      } else {
        scratchBytes = tmp.bytes;
        checkTemporary();
      }
      wait = Math.max(OUTPUT_POLL_MS, 4 * (performance.now() - t0));
    }
  })();

  const stdoutCapture = new StreamCapture(
    limits.maxLogBytes,
    options.onLog && ((line) => options.onLog!("stdout", line)),
    { protocol: options.onProtocolLine },
  );
  const stderrCapture = new StreamCapture(
    limits.maxLogBytes,
    options.onLog && ((line) => options.onLog!("stderr", line)),
  );
  const streams = Promise.all([
    stdoutCapture.consume(child.stdout),
    stderrCapture.consume(child.stderr),
  ]);
  const feeding = options.stdin !== undefined
    ? (async () => {
      const writer = child.stdin.getWriter();
      try {
        await writer.write(options.stdin!);
        await writer.close();
      } catch {
        // The stage closed its stdin or is gone: it did not want the rest.
      }
    })()
    : Promise.resolve();

  let status: Deno.CommandStatus;
  try {
    status = await child.status;
  } finally {
    terminator.exited();
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    stopWatching.abort();
  }
  const durationMs = Math.round(performance.now() - started);
  await monitor?.stop();
  // Its verdict now; its cgroup is emptied or removed while the out folder is harvested.
  await tasks?.stopWatching();
  try {
    return await conclude();
  } finally {
    await tasks?.stop();
    await cgroupPool.settled();
  }

  async function conclude(): Promise<StageResult> {
    await watchOutputs;
    await feeding;
    // The pipes close when the last process holding them is gone; bwrap's pid namespace
    // and the process group make that immediate, but never hang on a stray holder.
    let drainTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      streams,
      new Promise((resolve) => drainTimer = setTimeout(resolve, STREAM_DRAIN_MS)),
    ]);
    clearTimeout(drainTimer);

    const stdout = stdoutCapture.text();
    const stderr = stderrCapture.text();
    const peakRssBytes = monitor?.peakBytes ?? 0;
    const exitCode = status.signal === null ? status.code : null;
    const signal = status.signal ?? null;
    const base = { exitCode, signal, stdout, stderr, durationMs, peakRssBytes, memoryBytes };

    const harvesting = { datumFolders: options.outFolders !== undefined };
    const decided = verdict as { outcome: StageOutcome; message: string } | null;
    if (decided) {
      if (
        !options.harvestAlways || decided.outcome === "output-limit" ||
        decided.outcome === "disk-space"
      ) {
        return { ...base, ...decided, outputs: [], harvested: false };
      }
      const harvest = await harvestOutputs(options.outDir, limits, harvesting);
      return {
        ...base,
        ...decided,
        outputs: harvest.ok ? harvest.outputs : [],
        harvested: harvest.ok,
      };
    }

    if (signal !== null || status.code !== 0) {
      if (HEAP_OOM.test(stderr)) {
        const kept = options.harvestAlways
          ? await harvestOutputs(options.outDir, limits, harvesting)
          : null;
        return {
          ...base,
          outcome: "memory",
          message: `Stage ran out of JavaScript heap (${
            ownLimit ? "memory limit" : "default memory limit"
          } ${sizeText(memoryBytes)})`,
          outputs: kept?.ok ? kept.outputs : [],
          harvested: kept?.ok ?? false,
        };
      }
    }
    const harvest = await harvestOutputs(options.outDir, limits, harvesting);
    if (!harvest.ok) {
      return {
        ...base,
        outcome: harvest.outcome,
        message: harvest.message,
        outputs: [],
        harvested: false,
      };
    }
    if (signal !== null) {
      return {
        ...base,
        outcome: "failed",
        message: `Stage was killed by ${signal}`,
        outputs: harvest.outputs,
        harvested: true,
      };
    }
    if (status.code !== 0) {
      return {
        ...base,
        outcome: "failed",
        message: `Stage exited with code ${status.code}`,
        outputs: harvest.outputs,
        harvested: true,
      };
    }
    return { ...base, outcome: "ok", message: "", outputs: harvest.outputs, harvested: true };
  }
}
