/**
 * Measuring one subprocess: wall time from spawn to exit and the peak resident memory of the
 * process, taken from GNU time (`/usr/bin/time`) when it is installed and otherwise by
 * polling the VmHWM line of `/proc/<pid>/status` every 5 ms. Also the small statistics and
 * formatting the report needs.
 */

/** What one measured run took. */
export interface Measured {
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number;
  /** Peak resident set size of the process in KiB, or null when it could not be read. */
  readonly peakKiB: number | null;
  readonly stdout: Uint8Array;
}

/** Options of `measure()`. */
export interface MeasureOptions {
  readonly cwd?: string;
  /** Added to the inherited environment. */
  readonly env?: Record<string, string>;
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

/** How peak memory is measured, for the report header. */
export async function memoryMethod(): Promise<string> {
  return await hasTimeBin()
    ? `${TIME_BIN} -f %M (ru_maxrss)`
    : "VmHWM of /proc/<pid>/status, polled every 5 ms";
}

/** Run `cmd args…` once, timing it and taking its peak memory; throws when it fails. */
export async function measure(
  cmd: string,
  args: readonly string[],
  options: MeasureOptions = {},
): Promise<Measured> {
  return await hasTimeBin()
    ? await measureWithTime(cmd, args, options)
    : await measureByPolling(cmd, args, options);
}

async function measureWithTime(
  cmd: string,
  args: readonly string[],
  options: MeasureOptions,
): Promise<Measured> {
  const report = await Deno.makeTempFile({ prefix: "tusk-bench-rss-" });
  try {
    const child = new Deno.Command(TIME_BIN, {
      args: ["-f", "%M", "-o", report, cmd, ...args],
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
      ...(options.env !== undefined ? { env: options.env } : {}),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
    const start = performance.now();
    const out = await child.output();
    const ms = performance.now() - start;
    check(cmd, args, out);
    const kib = Number((await Deno.readTextFile(report)).trim().split("\n").pop());
    return { ms, peakKiB: Number.isFinite(kib) && kib > 0 ? kib : null, stdout: out.stdout };
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

async function measureByPolling(
  cmd: string,
  args: readonly string[],
  options: MeasureOptions,
): Promise<Measured> {
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
  const poller = new Deno.Command("sh", {
    args: ["-c", POLL_SCRIPT, "sh", String(child.pid)],
    stdout: "piped",
    stderr: "null",
  }).output();
  const out = await child.output();
  const ms = performance.now() - start;
  const kib = Number(new TextDecoder().decode((await poller).stdout).trim());
  check(cmd, args, out);
  return { ms, peakKiB: kib > 0 ? kib : null, stdout: out.stdout };
}

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

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new TypeError("Cannot take the median of no values");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The largest value, ignoring nulls; null when there is none. */
export function maxOf(values: readonly (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.max(...known) : null;
}

/** A duration for the report: "412 ms", "1.62 s". */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** KiB as whole MiB: "58 MiB". */
export function formatMiB(kib: number): string {
  return `${Math.round(kib / 1024)} MiB`;
}

/** Flush dirty pages of the whole machine, so a run does not pay for the writes before it. */
export async function syncAll(): Promise<void> {
  const r = await new Deno.Command("sync", { stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`sync failed: ${new TextDecoder().decode(r.stderr)}`);
}
