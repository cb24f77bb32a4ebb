/**
 * What one stage run gives back (`StageResult`: how it ended, its logs, its harvested files)
 * and how a failed one reads in words: the limit it hit, the line of its stderr that says why.
 */
import { TRUNCATED_MARKER } from "./_capture.ts";
import type { OutputFile } from "./harvest.ts";

/** How a stage run ended. */
export type StageOutcome =
  | "ok"
  | "failed"
  | "timeout"
  | "memory"
  | "output-limit"
  | "process-limit"
  | "disk-space"
  | "killed";

/** The result of one stage run. */
export interface StageResult {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly outcome: StageOutcome;
  /** For anything but "ok": what happened, in words (which limit was hit). */
  readonly message: string;
  /** Captured output, capped at `maxLogBytes` with a "[… truncated]" marker. */
  readonly stdout: string;
  readonly stderr: string;
  readonly durationMs: number;
  readonly peakRssBytes: number;
  /** The memory cap the stage ran under: its own limit, or the default. */
  readonly memoryBytes: number;
  /**
   * Harvested files, `/`-rooted paths relative to `outDir`: for a stage that exited by
   * itself (any exit code, for acceptReturnCode) and whose out folder passed the checks.
   */
  readonly outputs: readonly OutputFile[];
  /** The out folder was harvested and passed its checks: `outputs` lists it. */
  readonly harvested: boolean;
}

/** An abort reason that ends a stage as a timeout, with this message, not as a stop. */
export class StageTimeout extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StageTimeout";
  }
}

/** ANSI escape sequences (colours, cursor moves), looked through to find a reason. */
// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]/g;

/**
 * The line of a failed stage's stderr that says why, as the stage printed it: its last
 * `error:` line (what Deno prints for an uncaught error, before the source line and stack
 * frames; without the `error:` unless coloured), else its last line that is not a stack
 * frame, a caret or the truncation marker. Escape sequences are looked through to judge a
 * line, never removed from it: every surface shows the reason escaped.
 */
export function reasonLine(stderr: string): string | undefined {
  const lines = stderr.split("\n").flatMap((raw) => {
    const line = raw.trim();
    const plain = line.replace(ANSI, "").trim();
    return plain === "" ? [] : [{ line, plain }];
  });
  const error = lines.findLast((l) => /^error:\s*\S/.test(l.plain));
  if (error) return error.line.replace(/^error:\s*/, "");
  return lines.findLast((l) =>
    !/^at\s/.test(l.plain) && !/^\^+$/.test(l.plain) && l.plain !== TRUNCATED_MARKER
  )?.line;
}

/**
 * Why a stage run failed, in words: the limit it hit or its exit code, then the reason its
 * stderr gives (`reasonLine()`, cut at 300 characters) unless the first part says it already.
 */
export function failureText(r: StageResult): string {
  const base = r.message || `Stage exited with code ${r.exitCode ?? r.signal}`;
  const why = reasonLine(r.stderr);
  if (!why || base.includes(why)) return base;
  return `${base}: ${why.length > 300 ? why.slice(0, 300) + "…" : why}`;
}

/** Wall-clock duration in words: "1.5 s", "250 ms", "2 min". */
export function durationText(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Number((ms / 1000).toFixed(1))} s`;
  return `${Number((ms / 60_000).toFixed(1))} min`;
}
