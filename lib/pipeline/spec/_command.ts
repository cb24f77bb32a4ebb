/**
 * A stage command (`transform.cmd`, `transform.errCmd`): `deno run`, the flags tusk
 * ignores, a local stage script beside the spec, and arguments whose `/pfs/` paths name
 * inputs or the output.
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
  /** `["deno", "run", script, ...args]`. */
  readonly cmd: string[];
  readonly script: string;
  readonly args: string[];
  /** Index in the given array of each of `args`. */
  readonly argIndex: number[];
}

/** Check the stage command given at `loc`; the ignored flags are dropped. */
export function parseCommand(c: Checker, given: readonly string[], loc: Loc): Command {
  if (given[0] !== "deno") {
    c.fail(
      loc.child(0),
      "BAD_COMMAND",
      `Invalid command ${describe(given[0])} at "${loc.child(0).shown}"`,
      `stages run on Deno; start "${loc.shown}" with "deno", "run" and the stage script`,
    );
  }
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
