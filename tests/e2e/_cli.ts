/**
 * Helpers private to the end-to-end tests: a `tusk()` that never inherits the caller's
 * INIT_CWD or TUSK_STORE, failure assertions, and the tutorial data.
 */
import assert from "node:assert/strict";
import {
  ROOT,
  tusk as runTusk,
  TUSK_PERMS,
  type TuskOptions,
  type TuskResult,
} from "../_helpers.ts";

/** The tutorial's data folder. */
export const DATA = `${ROOT}/data`;

/**
 * Run the CLI with INIT_CWD and TUSK_STORE cleared unless given, so a test behaves the
 * same under `deno task test` (which sets INIT_CWD) and plain `deno test`.
 */
export function tusk(args: readonly string[], options: TuskOptions = {}): Promise<TuskResult> {
  return runTusk(args, { ...options, env: { INIT_CWD: "", TUSK_STORE: "", ...options.env } });
}

/** Run the CLI and fail with its output when it does not exit 0. */
export async function ok(args: readonly string[], options: TuskOptions = {}): Promise<TuskResult> {
  const r = await tusk(args, options);
  if (r.code !== 0) {
    throw new Error(`tusk ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/**
 * Assert a run failed with `code`, printed nothing on stdout, and printed one message on
 * stderr that matches every pattern.
 */
export function assertFails(r: TuskResult, code: number, ...patterns: RegExp[]): void {
  assert.equal(r.code, code, `expected exit ${code}, got ${r.code}: ${r.stderr}${r.stdout}`);
  assert.equal(r.stdout, "", "nothing on stdout");
  assert.match(r.stderr, /^(tusk|error): /, "stderr starts with the message");
  assert.equal(
    r.stderr.split("\n").filter((l) => /^(tusk|error): /.test(l)).length,
    1,
    `exactly one message: ${r.stderr}`,
  );
  for (const p of patterns) assert.match(r.stderr, p);
}

/** The lines of a table, split into cells on runs of two or more spaces. */
export function rows(table: string): string[][] {
  return table.trimEnd().split("\n").map((l) => l.split(/ {2,}/));
}

/** The first 64-hex-digit commit id in `text`. */
export function commitIdIn(text: string): string {
  const m = /[0-9a-f]{64}/.exec(text);
  assert.ok(m, `no commit id in ${JSON.stringify(text)}`);
  return m[0];
}

/**
 * Run the CLI's `main()` in its own process with arguments that argv cannot carry (a NUL
 * byte): they travel JSON-encoded and are decoded before `main()` sees them.
 */
export async function tuskJsonArgs(args: readonly string[], store: string): Promise<TuskResult> {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...TUSK_PERMS,
      new URL("./_argv_main.ts", import.meta.url).pathname,
      JSON.stringify(args),
    ],
    cwd: ROOT,
    env: { NO_COLOR: "1", INIT_CWD: "", TUSK_STORE: store },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  });
  const r = await cmd.output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
    stdoutBytes: r.stdout,
  };
}
