/**
 * Running and timing programs for the benchmarks: the real `tusk` CLI (the native Deno
 * binary on `main.ts`, as tests/_helpers.ts runs it) or any program, wall time from spawn
 * to exit, and peak resident memory in one of two ways. `measure()` takes the peak of the
 * one process it spawns (and its CPU time), from GNU time (`/usr/bin/time -f "%M %U %S"`) when it is installed and
 * otherwise by polling the VmHWM line of `/proc/<pid>/status` every 5 ms: no overhead worth
 * the name, for the store benchmarks' ~40 ms commands. `timeCommand()` can sample the peak
 * of every process of the tree instead, for the pipeline and iris benchmarks.
 */
import { MAIN, ROOT, TUSK_PERMS } from "../_helpers.ts";

/** Where a command runs and what it adds to the environment. */
export interface CommandOptions {
  readonly cwd?: string;
  /** Added to the inherited environment. */
  readonly env?: Record<string, string>;
}

/** Options of `timeCommand()`. */
export interface TimeOptions extends CommandOptions {
  /** Poll the process tree's peak memory every this many ms (off by default). */
  readonly peakEveryMs?: number;
}

/** What one `measure()` run took. */
export interface Measured {
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number;
  /** Peak resident set size of the process in KiB, or null when it could not be read. */
  readonly peakKiB: number | null;
  /** CPU time (user + system) of the process in milliseconds, or null without GNU time. */
  readonly cpuMs: number | null;
  readonly stdout: Uint8Array;
}

/** Peak memory of one process of a measured tree. */
export interface ProcessPeak {
  readonly pid: number;
  /** Its name (`/proc/<pid>/comm`): "deno", "bwrap", "python3"… */
  readonly name: string;
  /** Highest VmHWM seen, in KiB. */
  readonly peakKiB: number;
  /** True for the process that was spawned (the root of the tree). */
  readonly root: boolean;
}

/** What one `timeCommand()` run gave. */
export interface Timed {
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every process of the tree that was seen, when peaks were asked for. */
  readonly peaks: readonly ProcessPeak[];
}

/** Thrown when a measured command exits non-zero: the benchmark is broken, not slow. */
export class CommandFailedError extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.name = "CommandFailedError";
    this.code = code;
  }
}

// ---- spawning ----

/** Something watching a running child (a memory sampler), stopped once the child exits. */
interface Watcher<T> {
  stop(): Promise<T>;
}

/** A finished run: its wall time, its output and what the watcher saw (null without one). */
interface Ran<T> {
  readonly ms: number;
  readonly out: Deno.CommandOutput;
  readonly watched: T | null;
}

/**
 * Spawn `cmd args…` with stdin closed and output piped, and time it from spawn to exit;
 * `watch` starts on the child's pid and is stopped after the clock stops.
 */
async function spawnTimed<T>(
  cmd: string,
  args: readonly string[],
  options: CommandOptions,
  watch?: (pid: number) => Watcher<T>,
): Promise<Ran<T>> {
  const command = new Deno.Command(cmd, {
    args: [...args],
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const start = performance.now();
  const child = command.spawn();
  const watcher = watch?.(child.pid);
  let out: Deno.CommandOutput;
  let ms: number;
  let watched: T | null = null;
  try {
    out = await child.output();
    ms = performance.now() - start;
  } finally {
    if (watcher) watched = await watcher.stop();
  }
  return { ms, out, watched };
}

/** Throw `CommandFailedError` (with its output) when `cmd args…` did not exit 0. */
function check(cmd: string, args: readonly string[], out: Deno.CommandOutput): void {
  if (out.success) return;
  const dec = new TextDecoder();
  throw new CommandFailedError(
    `"${[cmd, ...args].join(" ")}" exited ${out.code}:\n${dec.decode(out.stderr)}${
      dec.decode(out.stdout)
    }`,
    out.code,
  );
}

// ---- one process: measure() ----

const TIME_BIN = "/usr/bin/time";
let timeBin: Promise<boolean> | undefined;

/** True when GNU time is installed and reports the peak RSS with `-f %M`. */
function hasTimeBin(): Promise<boolean> {
  return timeBin ??= (async () => {
    try {
      const r = await new Deno.Command(TIME_BIN, {
        args: ["-f", "%M", "true"],
        stdout: "null",
        stderr: "piped",
      }).output();
      return r.success && /^\d+\s*$/.test(new TextDecoder().decode(r.stderr));
    } catch {
      return false;
    }
  })();
}

/** How `measure()` takes peak memory, for the report header. */
export async function memoryMethod(): Promise<string> {
  return await hasTimeBin()
    ? `${TIME_BIN} -f %M (ru_maxrss)`
    : "VmHWM of /proc/<pid>/status, polled every 5 ms";
}

/** Run `cmd args…` once, timing it and taking its peak memory; throws when it fails. */
export async function measure(
  cmd: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<Measured> {
  return await hasTimeBin()
    ? await measureWithTime(cmd, args, options)
    : await measureByPolling(cmd, args, options);
}

async function measureWithTime(
  cmd: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<Measured> {
  const report = await Deno.makeTempFile({ prefix: "tusk-bench-rss-" });
  try {
    const { ms, out } = await spawnTimed(
      TIME_BIN,
      ["-f", "%M %U %S", "-o", report, cmd, ...args],
      options,
    );
    check(cmd, args, out);
    const last = (await Deno.readTextFile(report)).trim().split("\n").pop() ?? "";
    const [kib, user, sys] = last.split(" ").map(Number);
    const cpu = (user! + sys!) * 1000;
    return {
      ms,
      peakKiB: Number.isFinite(kib) && kib! > 0 ? kib! : null,
      cpuMs: Number.isFinite(cpu) ? cpu : null,
      stdout: out.stdout,
    };
  } finally {
    await Deno.remove(report).catch(() => {});
  }
}

/**
 * Deno reads nothing under /proc without --allow-all, so a small shell loop polls the VmHWM
 * line of the child's status every 5 ms and prints the highest value when the child is gone.
 */
const POLL_SCRIPT = `
p=$1; m=0
while [ -e /proc/$p/status ]; do
  while read -r k v _; do
    if [ "$k" = VmHWM: ]; then [ "$v" -gt "$m" ] && m=$v; break; fi
  done < /proc/$p/status
  sleep 0.005
done
echo $m`;

/** Poll the VmHWM of process `pid` until it is gone; stopping waits for the highest value. */
function pollPeak(pid: number): Watcher<number> {
  const poller = new Deno.Command("sh", {
    args: ["-c", POLL_SCRIPT, "sh", String(pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  return {
    stop: async () => Number(new TextDecoder().decode((await poller).stdout).trim()),
  };
}

async function measureByPolling(
  cmd: string,
  args: readonly string[],
  options: CommandOptions,
): Promise<Measured> {
  const { ms, out, watched: kib } = await spawnTimed(cmd, args, options, pollPeak);
  check(cmd, args, out);
  return { ms, peakKiB: kib !== null && kib > 0 ? kib : null, cpuMs: null, stdout: out.stdout };
}

/**
 * Run by bash, which reports the CPU time of the children it waited for with `times`
 * (getrusage, to the millisecond; GNU time's `%U %S` count only hundredths): the command's
 * status is kept and `times` goes to the report file named first.
 */
const TIMES_SCRIPT = 'r=$1; shift; "$@"; s=$?; times > "$r"; exit $s';

/** `0m1.250s` as milliseconds. */
export function minutesSeconds(text: string): number {
  const m = /^(\d+)m([\d.]+)s$/.exec(text);
  if (!m) throw new Error(`Not a time of bash's times: "${text}"`);
  return Number(m[1]) * 60_000 + Number(m[2]) * 1000;
}

/**
 * Run `cmd args…` once under bash, timing it from spawn to exit and taking its CPU time (user
 * + system) to the millisecond; throws when it fails. `peakKiB` is null: use `measure()` for
 * memory.
 */
export async function measureCpu(
  cmd: string,
  args: readonly string[],
  options: CommandOptions = {},
): Promise<Measured> {
  const report = await Deno.makeTempFile({ prefix: "tusk-bench-times-" });
  try {
    const { ms, out } = await spawnTimed(
      "bash",
      ["-c", TIMES_SCRIPT, "bash", report, cmd, ...args],
      options,
    );
    check(cmd, args, out);
    // Two lines: the shell's own user and system time, then its children's.
    const children = (await Deno.readTextFile(report)).trim().split("\n")[1] ?? "";
    const [user, sys] = children.trim().split(/\s+/);
    return {
      ms,
      peakKiB: null,
      cpuMs: minutesSeconds(user ?? "") + minutesSeconds(sys ?? ""),
      stdout: out.stdout,
    };
  } finally {
    await Deno.remove(report).catch(() => {});
  }
}

// ---- a process tree: timeCommand() ----

/**
 * The sampler: Deno reads `/proc` only with --allow-all, so bash does it with builtins. Each
 * sample finds the root's descendants from the parent pids in `/proc/<pid>/stat` (they
 * started after it, so have larger pids) and prints `<pid> <VmHWM kB> <comm>;` for each;
 * it sleeps by reading stdin with a timeout and exits when stdin closes.
 */
const SAMPLER = `
root=$1; every=$2
while :; do
  unset kids; declare -A kids
  for f in /proc/[0-9]*; do
    pid=\${f#/proc/}
    ((pid > root)) || continue
    read -r line 2>/dev/null < "$f/stat" || continue
    rest=\${line##*) }; rest=\${rest#* }; kids[\${rest%% *}]+=" $pid"
  done
  queue=($root); out=""
  while ((\${#queue[@]})); do
    p=\${queue[0]}; queue=("\${queue[@]:1}" \${kids[$p]})
    { read -r name < /proc/$p/comm; } 2>/dev/null || continue
    h=0
    while read -r k v _; do [[ $k == VmHWM: ]] && h=$v; done 2>/dev/null < /proc/$p/status
    out+="$p $h \${name// /_};"
  done
  echo "$out"
  read -r -t "$every" _ || (($? > 128)) || exit 0
done
`;

/**
 * Samples the peak memory (VmHWM) of a process and each of its descendants. VmHWM only
 * grows, so the last sample before a process exits is its peak, short of what it grew in
 * the final polling interval.
 */
export class TreePeak {
  readonly #root: number;
  readonly #child: Deno.ChildProcess;
  readonly #seen = new Map<number, { name: string; peakKiB: number }>();
  readonly #reading: Promise<void>;

  private constructor(root: number, everyMs: number) {
    this.#root = root;
    this.#child = new Deno.Command("bash", {
      args: [
        "--noprofile",
        "--norc",
        "-c",
        SAMPLER,
        "tree-peak",
        String(root),
        (everyMs / 1000)
          .toFixed(3),
      ],
      clearEnv: true,
      env: { LC_ALL: "C" },
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#reading = this.#read();
  }

  /** Start sampling the tree under `pid` every `everyMs` milliseconds. */
  static start(pid: number, everyMs: number): TreePeak {
    return new TreePeak(pid, everyMs);
  }

  async #read(): Promise<void> {
    let buffer = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        for (const item of buffer.slice(0, nl).split(";")) {
          const [pid, kib, name] = item.trim().split(" ");
          if (!pid || !kib) continue;
          const known = this.#seen.get(Number(pid)) ?? { name: name ?? "?", peakKiB: 0 };
          known.peakKiB = Math.max(known.peakKiB, Number(kib));
          this.#seen.set(Number(pid), known);
        }
        buffer = buffer.slice(nl + 1);
      }
    }
  }

  /** Stop sampling; every process seen, with its peak. */
  async stop(): Promise<ProcessPeak[]> {
    await this.#child.stdin.close().catch(() => {});
    await this.#child.status;
    await this.#reading;
    return [...this.#seen].map(([pid, p]) => ({
      pid,
      name: p.name,
      peakKiB: p.peakKiB,
      root: pid === this.#root,
    }));
  }
}

/** Run `cmd args…`, timed (and its tree's memory sampled when asked); throws on failure. */
export async function timeCommand(
  cmd: string,
  args: readonly string[],
  options: TimeOptions = {},
): Promise<Timed> {
  const every = options.peakEveryMs;
  const { ms, out, watched } = await spawnTimed(
    cmd,
    args,
    options,
    every ? (pid) => TreePeak.start(pid, every) : undefined,
  );
  check(cmd, args, out);
  const dec = new TextDecoder();
  return {
    ms,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    peaks: watched ?? [],
  };
}

// ---- tusk ----

/** The `--v8-flags=…` a deno.json task starts tusk with (the installed command has the same). */
export function taskV8Flags(task: "tusk" | "up"): string[] {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)) as {
    tasks: Record<string, { command: string }>;
  };
  const command = config.tasks[task]?.command ?? "";
  return command.split(/\s+/).filter((arg) => arg.startsWith("--v8-flags="));
}

/** `A=1 B=2` as an environment (undefined for undefined: the caller's default applies). */
export function envWords(text: string | undefined): Record<string, string> | undefined {
  if (text === undefined) return undefined;
  const env: Record<string, string> = {};
  for (const word of text.split(" ").filter(Boolean)) {
    const at = word.indexOf("=");
    if (at <= 0) throw new Error(`Not NAME=value: ${word}`);
    env[word.slice(0, at)] = word.slice(at + 1);
  }
  return env;
}

/**
 * The environment a deno.json task sets before `deno run` (its leading `NAME=value` words): the
 * `up` task's malloc settings, which the dashboard benchmarks give the bare Ink app as well.
 */
export function taskEnv(task: "tusk" | "up"): Record<string, string> {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`)) as {
    tasks: Record<string, { command: string }>;
  };
  const env: Record<string, string> = {};
  for (const word of (config.tasks[task]?.command ?? "").trim().split(/\s+/)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(word);
    if (!m) break;
    env[m[1]!] = m[2]!;
  }
  return env;
}

const TUSK_V8_FLAGS = taskV8Flags("tusk");

/** Arguments that run the real CLI as users do: `deno run --quiet <perms> <v8 flags> main.ts`. */
export function tuskArgs(args: readonly string[]): string[] {
  return ["run", "--quiet", ...TUSK_PERMS, ...TUSK_V8_FLAGS, MAIN, ...args];
}

/** Options that run tusk on the store at `store` from the project root. */
function tuskOptions(store: string): CommandOptions {
  return { cwd: ROOT, env: { NO_COLOR: "1", TUSK_STORE: store } };
}

/** Run `tusk args…` on `store`, timed and with its peak memory; throws when it fails. */
export async function measureTusk(store: string, args: readonly string[]): Promise<Measured> {
  return await measure(Deno.execPath(), tuskArgs(args), tuskOptions(store));
}

/** Run `tusk args…` on `store` under bash, timed and with its CPU time to the millisecond. */
export async function measureTuskCpu(store: string, args: readonly string[]): Promise<Measured> {
  return await measureCpu(Deno.execPath(), tuskArgs(args), tuskOptions(store));
}

/** Run `tusk args…` on the store at `store`, timed; throws when it does not exit 0. */
export async function timeTusk(
  store: string,
  args: readonly string[],
  options: Omit<TimeOptions, "env"> = {},
): Promise<Timed> {
  return await timeCommand(Deno.execPath(), tuskArgs(args), {
    ...tuskOptions(store),
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    ...(options.peakEveryMs ? { peakEveryMs: options.peakEveryMs } : {}),
  });
}

// ---- running order ----

/** Run tusk and the baseline `runs` times each, alternating which goes first. */
export async function alternate<T, U>(
  runs: number,
  tusk: (i: number) => Promise<T>,
  baseline: (i: number) => Promise<U>,
): Promise<{ tusk: T[]; baseline: U[] }> {
  const t: T[] = [];
  const b: U[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      t.push(await tusk(i));
      b.push(await baseline(i));
    } else {
      b.push(await baseline(i));
      t.push(await tusk(i));
    }
  }
  return { tusk: t, baseline: b };
}

/** Flush dirty pages of the whole machine, so a run does not pay for the writes before it. */
export async function syncAll(): Promise<void> {
  check("sync", [], (await spawnTimed("sync", [], {})).out);
}

/** Milliseconds between two ISO times of a job record. */
export function between(from: string | undefined, to: string | undefined): number {
  if (!from || !to) throw new TypeError(`Cannot time a job from "${from}" to "${to}"`);
  return Date.parse(to) - Date.parse(from);
}
