/**
 * Running and timing subprocesses for the pipeline and iris benchmarks: the real `tusk`
 * CLI (the native Deno binary on `main.ts`, as tests/_helpers.ts runs it) or any program,
 * wall time from spawn to exit, and optionally the peak resident memory of every process
 * of its tree, from `VmHWM` in `/proc/<pid>/status` polled while it runs.
 */
import { MAIN, ROOT, TUSK_PERMS } from "../_helpers.ts";

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

/** What one timed run gave. */
export interface Timed {
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every process of the tree that was seen, when peaks were asked for. */
  readonly peaks: readonly ProcessPeak[];
}

/** Options of `timeCommand()`. */
export interface TimeOptions {
  readonly cwd?: string;
  /** Added to the inherited environment. */
  readonly env?: Record<string, string>;
  /** Poll the process tree's peak memory every this many ms (off by default). */
  readonly peakEveryMs?: number;
}

/** Thrown when a measured command fails: the benchmark is broken, not slow. */
export class CommandFailedError extends Error {
  readonly code: number;
  constructor(message: string, code: number) {
    super(message);
    this.name = "CommandFailedError";
    this.code = code;
  }
}

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
  const peak = options.peakEveryMs ? TreePeak.start(child.pid, options.peakEveryMs) : null;
  let out: Deno.CommandOutput;
  let peaks: ProcessPeak[] = [];
  try {
    out = await child.output();
  } finally {
    peaks = (await peak?.stop()) ?? [];
  }
  const ms = performance.now() - start;
  const dec = new TextDecoder();
  const stdout = dec.decode(out.stdout);
  const stderr = dec.decode(out.stderr);
  if (!out.success) {
    throw new CommandFailedError(
      `"${[cmd, ...args].join(" ")}" exited ${out.code}:\n${stderr}${stdout}`,
      out.code,
    );
  }
  return { ms, stdout, stderr, peaks };
}

/** Arguments that run the real CLI: `deno run --quiet <perms> main.ts args…`. */
export function tuskArgs(args: readonly string[]): string[] {
  return ["run", "--quiet", ...TUSK_PERMS, MAIN, ...args];
}

/** Run `tusk args…` on the store at `store`, timed; throws when it does not exit 0. */
export async function timeTusk(
  store: string,
  args: readonly string[],
  options: Omit<TimeOptions, "env"> = {},
): Promise<Timed> {
  return await timeCommand(Deno.execPath(), tuskArgs(args), {
    cwd: options.cwd ?? ROOT,
    env: { NO_COLOR: "1", TUSK_STORE: store },
    ...(options.peakEveryMs ? { peakEveryMs: options.peakEveryMs } : {}),
  });
}

/** Milliseconds between two ISO times of a job record. */
export function between(from: string | undefined, to: string | undefined): number {
  if (!from || !to) throw new TypeError(`Cannot time a job from "${from}" to "${to}"`);
  return Date.parse(to) - Date.parse(from);
}
