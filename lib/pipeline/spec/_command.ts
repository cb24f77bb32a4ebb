/**
 * A stage command (`transform.cmd`, `transform.errCmd`): `deno run`, the flags tusk
 * ignores, a local stage script beside the spec, and arguments whose `/pfs/` paths name
 * inputs or the output — or a program of the host (`python3`, `sh`, …) and its arguments,
 * run inside the OS sandbox with the spec's folder as its code at `/code`.
 */
import { nearest } from "../../store/names.ts";
import { type Checker, describe, type Loc } from "./_check.ts";

/** Deno flags a spec may give between `run` and the script: accepted and dropped. */
const IGNORED_DENO_FLAGS = new Set([
  "-q",
  "--quiet",
  "--no-prompt",
  "--check",
  "--check=all",
  "--no-check",
  "--cached-only",
  "--no-remote",
  "--no-config",
]);

/** Permission, permission-set, unstable and V8 flags: tusk sets these itself. */
const REFUSED_FLAG =
  /^(?:--allow-[a-z-]*|--deny-[a-z-]*|--unstable(?:-[a-z0-9-]*)?|--v8-flags|--permission-set|-[ARWNESPI])(?:=.*)?$/;

const STAGE_EXTENSIONS = /\.(?:ts|js|mts|mjs|tsx)$/;

/** A checked stage command. */
export interface Command {
  /** `["deno", "run", script, ...args]`, or for a host program the command as given. */
  readonly cmd: string[];
  /** The Deno stage script; `""` for a host program. */
  readonly script: string;
  /** For a host program: `cmd[0]`, a name to find on PATH or an absolute path. */
  readonly program?: string;
  readonly args: string[];
  /** Index in the given array of each of `args`. */
  readonly argIndex: number[];
}

/** Check the stage command given at `loc`; the ignored flags are dropped. */
export function parseCommand(c: Checker, given: readonly string[], loc: Loc): Command {
  if (given[0] !== "deno") return parseHostCommand(c, given, loc);
  given.forEach((arg, i) => {
    if (i > 0 && REFUSED_FLAG.test(arg)) {
      const at = loc.child(i);
      c.fail(
        at,
        "REFUSED_FLAG",
        `Refused flag "${arg}" at "${at.shown}"`,
        "tusk adds the permission flags itself; remove it",
      );
    }
  });
  if (given[1] === undefined) {
    c.fail(
      loc.child(1),
      "BAD_COMMAND",
      `Missing "${loc.child(1).shown}"`,
      'follow "deno" with "run", then the stage script',
    );
  }
  if (given[1] !== "run") {
    c.fail(
      loc.child(1),
      "BAD_COMMAND",
      `Invalid deno subcommand "${given[1]}" at "${loc.child(1).shown}"`,
      'use "run": ["deno", "run", "stage.ts", …]',
    );
  }
  let i = 2;
  for (; i < given.length && given[i]!.startsWith("-"); i++) {
    if (!IGNORED_DENO_FLAGS.has(given[i]!)) {
      const at = loc.child(i);
      c.fail(
        at,
        "UNSUPPORTED_FLAG",
        `Unsupported deno flag "${given[i]}" at "${at.shown}"`,
        `tusk runs stages with its own flags; remove it (only ${
          [...IGNORED_DENO_FLAGS].map((f) => `"${f}"`).join(", ")
        } are accepted, and ignored)`,
      );
    }
  }
  const at = loc.child(i);
  const script = given[i];
  if (script === undefined || script === "") {
    c.fail(
      at,
      "BAD_COMMAND",
      `Missing stage script at "${at.shown}"`,
      'put it after "run": ["deno", "run", "stage.ts", …]',
    );
  }
  const bad = (advice: string): never =>
    c.fail(at, "BAD_STAGE_PATH", `Invalid stage script "${script}" at "${at.shown}"`, advice);
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(script)) {
    bad("give a local file, relative to the spec file's folder");
  }
  if (script.startsWith("/")) {
    bad('give a path relative to the spec file\'s folder, e.g. "train.ts"');
  }
  const segments = script.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.includes("..")) bad('it must stay inside the spec file\'s folder; remove ".."');
  if (!STAGE_EXTENSIONS.test(script)) bad("use a .ts, .js, .mts, .mjs or .tsx file");
  const stage = segments.join("/");
  const args = given.slice(i + 1);
  return {
    cmd: ["deno", "run", stage, ...args],
    script: stage,
    args,
    argIndex: args.map((_, k) => i + 1 + k),
  };
}

/** The longest argument a host program may be given (Linux's own limit is 128 KiB). */
export const MAX_ARG_BYTES = 64 * 1024;
/** The most bytes all arguments of a host program's command may hold together. */
export const MAX_COMMAND_BYTES = 256 * 1024;

/** A program name to find on PATH: no slash, no leading dash. */
const PROGRAM_NAME = /^[A-Za-z0-9_+][A-Za-z0-9_.+-]*$/;

/**
 * Check a command whose `cmd[0]` is a host program: a name found on the host's PATH
 * (`python3`) or an absolute path (`/usr/bin/python3`), never a relative path, a path the
 * sandbox makes (`/code`, `/pfs`, `/tmp`) or Deno by another name; its arguments within
 * what a process may be started with.
 */
function parseHostCommand(c: Checker, given: readonly string[], loc: Loc): Command {
  const at = loc.child(0);
  const program = given[0]!;
  const bad = (advice: string): never =>
    c.fail(at, "BAD_PROGRAM", `Invalid program ${describe(program)} at "${at.shown}"`, advice);
  if (program.includes("\0")) bad("a program name cannot hold a NUL character");
  if (program.startsWith("/")) {
    const segments = program.slice(1).split("/");
    if (segments.some((s) => s === "" || s === "." || s === "..")) {
      bad('give a normalised absolute path like "/usr/bin/python3", or a name on PATH');
    }
    if (/^\/(code|pfs|tmp)(\/|$)/.test(program)) {
      bad(
        `a program must come from the host, not from the sandbox's own "${
          program.split("/").slice(0, 2).join("/")
        }"; run a script there with its interpreter, e.g. ["sh", "${program}"]`,
      );
    }
  } else if (!PROGRAM_NAME.test(program)) {
    bad(
      program === ""
        ? 'name a program on the host\'s PATH, e.g. "python3"'
        : 'name a program on the host\'s PATH (e.g. "python3") or give its absolute path; a relative path is not allowed',
    );
  }
  if (program.split("/").pop() === "deno") {
    bad('a Deno stage starts with "deno" itself: ["deno", "run", "stage.ts", …]');
  }
  let total = 0;
  given.forEach((arg, i) => {
    const bytes = new TextEncoder().encode(arg).length;
    total += bytes + 1;
    if (arg.includes("\0")) {
      c.fail(
        loc.child(i),
        "BAD_COMMAND",
        `Invalid argument at "${loc.child(i).shown}"`,
        "it holds a NUL character",
      );
    }
    if (bytes > MAX_ARG_BYTES) {
      c.fail(
        loc.child(i),
        "TOO_LONG",
        `Argument at "${loc.child(i).shown}" is too long (${bytes} bytes)`,
        `give at most ${MAX_ARG_BYTES} bytes per argument; pass large data as an input`,
      );
    }
  });
  if (total > MAX_COMMAND_BYTES) {
    c.fail(
      loc,
      "TOO_LONG",
      `Command at "${loc.shown}" is too long (${total} bytes)`,
      `give at most ${MAX_COMMAND_BYTES} bytes of arguments; pass large data as an input`,
    );
  }
  const args = given.slice(1);
  return {
    cmd: [...given],
    script: "",
    program,
    args,
    argIndex: args.map((_, k) => k + 1),
  };
}

/** Refuse `/pfs/<x>` arguments where `<x>` is neither an input name nor `out`. */
export function checkPfsArgs(
  c: Checker,
  command: Command,
  loc: Loc,
  names: ReadonlySet<string>,
): void {
  command.args.forEach((arg, k) => {
    if (!arg.startsWith("/pfs/")) return;
    const name = arg.slice("/pfs/".length).split("/")[0]!;
    if (name === "" || name === "out" || names.has(name)) return;
    const at = loc.child(command.argIndex[k]!);
    const near = nearest(name, [...names, "out"]);
    c.fail(
      at,
      "UNKNOWN_INPUT",
      `Unknown input "${name}" in "${arg}" at "${at.shown}"`,
      near !== undefined
        ? `did you mean "/pfs/${near}/"?`
        : `the inputs are ${
          [...names].map((n) => `"/pfs/${n}/"`).join(", ")
        } and the output "/pfs/out/"`,
      near === undefined ? {} : { suggestion: `/pfs/${near}/` },
    );
  });
}
