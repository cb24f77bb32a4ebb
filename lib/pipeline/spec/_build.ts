/**
 * Building a `PipelineSpec` from a spec's JSON: the fields read by the table, then every
 * rule of the spec checked, defaults filled in, and Pachyderm's canonical form kept. The
 * type check of fields it is not sure of is passed in: zod's, which `parse_spec.ts` loads
 * with the parser and `quick_parse_spec.ts` only for a spec it refuses.
 */
import { envSizeReason, envValueReason, reservedEnvReason } from "../env.ts";
import { DEFAULT_WORKING_DIR } from "./defaults.ts";
import { checkBranch, Checker, checkName, describe, isObject, type Loc } from "./_check.ts";
import { checkPfsArgs, type Command, parseCommand } from "./_command.ts";
import { buildInput } from "./_inputs.ts";
import { type RawSpec, readFields, type SchemaCheck } from "./fields.ts";
import type { Input } from "./input.ts";
import { durationMs, memoryBytes, secondsText } from "./units.ts";

/** A validated pipeline spec with every default filled in. */
export interface PipelineSpec {
  readonly name: string;
  readonly description: string;
  readonly transform: {
    /**
     * `["deno", "run", stage, ...args]` (the deno flags tusk ignores are dropped), or a
     * host program's command as given (`["python3", "/code/pytrain.py", …]`).
     */
    readonly cmd: readonly string[];
    readonly stdin: readonly string[];
    readonly env: Readonly<Record<string, string>>;
    /** Recorded, shown and exported; never pulled: stages run on the host. */
    readonly image?: string;
    readonly acceptReturnCode: readonly number[];
    /** `["deno", "run", script, ...args]` or a host program's command, checked like `cmd`. */
    readonly errCmd?: readonly string[];
    /** For a host program: where it starts, as the sandbox shows it (default `/code`). */
    readonly workingDir?: string;
  };
  /** cmd[2]: the Deno stage script path, relative to the spec file's folder; `""` for a host program */
  readonly stage: string;
  /**
   * For a stage that is a host program: `cmd[0]`, a name found on the host's PATH or an
   * absolute path. The spec's folder is then its code, mounted read-only at `/code`.
   */
  readonly program?: string;
  /** The stage arguments (e.g. "/pfs/training/", "/pfs/out/"): cmd[3..], or cmd[1..] for a host program */
  readonly args: readonly string[];
  readonly input: Input;
  /** `parallelismSpec.constant`; 0 means one worker per core. */
  readonly parallelism: number;
  readonly datumTimeoutMs?: number;
  readonly jobTimeoutMs?: number;
  /** How many times a datum is tried before the job fails (default 3). */
  readonly datumTries: number;
  /** `resourceLimits.memory` in bytes. */
  readonly memoryBytes?: number;
  readonly outputBranch: string;
  readonly reprocess: "until_success" | "every_job";
  readonly salt: string;
  readonly datumBatching: boolean;
  /**
   * The spec as given in Pachyderm's canonical JSON form (for export and hashing):
   * camelCase names, null fields dropped, integers as numbers, durations as seconds
   * (`"90s"`), `datumBatching` under `transform` where Pachyderm reads it. No defaults are
   * added; `parseSpec(raw)` gives the same spec back.
   */
  readonly raw: Readonly<Record<string, unknown>>;
}

/** Options of `parseSpec()` and `parseSpecText()`. */
export interface ParseSpecOptions {
  /** The spec file, named in errors. */
  readonly file?: string;
}

/**
 * Validate a parsed pipeline spec (Pachyderm's JSON) and fill in its defaults; `schema`
 * checks the types of fields the table's own check does not vouch for.
 */
export function buildSpec(
  json: unknown,
  options: ParseSpecOptions,
  schema: SchemaCheck,
): PipelineSpec {
  const c: Checker = new Checker(options.file);
  const root = c.root();
  if (!isObject(json)) {
    c.fail(
      root,
      "WRONG_TYPE",
      "Invalid pipeline spec",
      `expected a JSON object like {"pipeline": {"name": "model"}, …}, got ${describe(json)}`,
    );
  }
  const raw = readFields(c, json, schema);

  const nameLoc = root.child("pipeline").child("name");
  const name = raw.pipeline?.name;
  if (name === undefined) {
    c.fail(
      nameLoc,
      "MISSING_FIELD",
      `Missing "${nameLoc.shown}"`,
      'name the pipeline, e.g. "pipeline": {"name": "model"}',
    );
  }
  checkName(c, nameLoc, name, "pipeline name");

  const transform = buildTransform(c, raw, root);
  const inputLoc = root.child("input");
  if (raw.input === undefined) {
    c.fail(
      inputLoc,
      "MISSING_FIELD",
      `Missing "${inputLoc.shown}"`,
      'give the pipeline an input, e.g. "input": {"pfs": {"repo": "training", "glob": "/"}}',
    );
  }
  const names = new Map<string, string>();
  const input = buildInput(c, raw.input, inputLoc, {
    pipeline: name,
    names,
    parent: undefined,
    inJoin: false,
    inGroup: false,
  });
  const nameSet = new Set(names.keys());
  const tLoc = root.child("transform");
  checkPfsArgs(c, transform.command, tLoc.child("cmd"), nameSet);
  if (transform.errCommand) {
    checkPfsArgs(c, transform.errCommand, tLoc.child("errCmd"), nameSet);
  }
  const limits = buildLimits(c, raw, root);
  const outputBranch = raw.outputBranch || "master";
  checkBranch(c, root.child("outputBranch"), outputBranch, true);

  const { command, errCommand, env, stdin, acceptReturnCode, image, datumBatching } = transform;
  const workingDir = buildWorkingDir(c, raw, tLoc, command, errCommand, nameSet);
  const { datumTimeoutMs, jobTimeoutMs, memory } = limits;
  return deepFreeze({
    name,
    description: raw.description ?? "",
    transform: {
      cmd: command.cmd,
      stdin,
      env,
      ...(image === undefined ? {} : { image }),
      acceptReturnCode,
      ...(errCommand === undefined ? {} : { errCmd: errCommand.cmd }),
      ...(workingDir === undefined ? {} : { workingDir }),
    },
    stage: command.script,
    ...(command.program === undefined ? {} : { program: command.program }),
    args: command.args,
    input,
    parallelism: limits.parallelism,
    ...(datumTimeoutMs === undefined ? {} : { datumTimeoutMs }),
    ...(jobTimeoutMs === undefined ? {} : { jobTimeoutMs }),
    datumTries: limits.datumTries,
    ...(memory === undefined ? {} : { memoryBytes: memory }),
    outputBranch,
    reprocess: raw.reprocessSpec ?? "until_success",
    salt: raw.salt ?? "",
    datumBatching,
    raw: canonical(raw, datumTimeoutMs, jobTimeoutMs),
  });
}

/** The checked `transform` of a spec (and the top-level `datumBatching` Pachyderm also reads). */
function buildTransform(c: Checker, raw: RawSpec, root: Loc) {
  const t = raw.transform ?? {};
  const tLoc = root.child("transform");
  const cmdLoc = tLoc.child("cmd");
  if (t.cmd === undefined || t.cmd.length === 0) {
    c.fail(
      cmdLoc,
      "MISSING_FIELD",
      `Missing "${cmdLoc.shown}"`,
      'give the stage command, e.g. ["deno", "run", "stage.ts", "/pfs/in/", "/pfs/out/"]',
    );
  }
  const command = parseCommand(c, t.cmd, cmdLoc);
  const errCommand = t.errCmd === undefined || t.errCmd.length === 0
    ? undefined
    : parseCommand(c, t.errCmd, tLoc.child("errCmd"));
  if (
    errCommand !== undefined &&
    (errCommand.program === undefined) !== (command.program === undefined)
  ) {
    const at = tLoc.child("errCmd").child(0);
    c.fail(
      at,
      "CONFLICTING_FIELDS",
      `"${at.shown}" runs ${
        command.program === undefined ? "a host program" : "Deno"
      } where "${cmdLoc.shown}" runs ${command.program === undefined ? "Deno" : "a host program"}`,
      'errCmd runs as cmd does, as in Pachyderm, where both run in one image: make both "deno run" stages or both host programs',
    );
  }
  const env = t.env ?? {};
  checkEnv(c, env, tLoc.child("env"));
  const acceptReturnCode = t.acceptReturnCode ?? [];
  acceptReturnCode.forEach((code, i) => {
    if (code < 0 || code > 255) {
      const at = tLoc.child("acceptReturnCode").child(i);
      c.fail(
        at,
        "OUT_OF_RANGE",
        `Invalid exit code ${code} at "${at.shown}"`,
        "use a number from 0 to 255",
      );
    }
  });
  if (raw.datumBatching !== undefined && t.datumBatching !== undefined) {
    const at = root.child("datumBatching");
    c.fail(
      at,
      "DUPLICATE_FIELD",
      `"${at.shown}" is given twice, also as "${tLoc.child("datumBatching").shown}"`,
      `keep "${tLoc.child("datumBatching").shown}", where Pachyderm reads it`,
    );
  }
  const datumBatching = t.datumBatching ?? raw.datumBatching ?? false;
  const stdin = t.stdin ?? [];
  if (datumBatching && stdin.length > 0) {
    const at = tLoc.child("stdin");
    c.fail(
      at,
      "CONFLICTING_FIELDS",
      `"${at.shown}" cannot be used with datum batching`,
      'a batching stage reads its datums on stdin; remove "stdin" or "datumBatching"',
    );
  }
  return { command, errCommand, env, stdin, acceptReturnCode, image: t.image, datumBatching };
}

/**
 * The checked `transform.workingDir`: only for a stage (or errCmd) that is a host program,
 * and a normalised absolute path inside a folder the sandbox shows it: `/code`, `/tmp`,
 * `/pfs/out` or `/pfs/<input>`.
 */
function buildWorkingDir(
  c: Checker,
  raw: RawSpec,
  tLoc: Loc,
  command: Command,
  errCommand: Command | undefined,
  inputs: ReadonlySet<string>,
): string | undefined {
  const dir = raw.transform?.workingDir;
  if (dir === undefined || dir === "") return undefined;
  const at = tLoc.child("workingDir");
  if (command.program === undefined && errCommand?.program === undefined) {
    c.fail(
      at,
      "BAD_WORKING_DIR",
      `"${at.shown}" is given to a Deno stage`,
      "a Deno stage runs in its scratch folder; workingDir applies to stages that are host programs",
    );
  }
  const segments = dir.slice(1).split("/");
  const root = segments[0] === "pfs" ? `/pfs/${segments[1] ?? ""}` : `/${segments[0]}`;
  const known = root === DEFAULT_WORKING_DIR || root === "/tmp" || root === "/pfs/out" ||
    (segments[0] === "pfs" && inputs.has(segments[1] ?? ""));
  if (
    !dir.startsWith("/") || dir.includes("\0") ||
    segments.some((s) => s === "" || s === "." || s === "..") || !known
  ) {
    c.fail(
      at,
      "BAD_WORKING_DIR",
      `Invalid working folder ${describe(dir)} at "${at.shown}"`,
      `give an absolute path inside "/code" (the default), "/tmp", "/pfs/out" or ${
        [...inputs].map((n) => `"/pfs/${n}"`).join(", ") || "an input's /pfs/ folder"
      }: the stage sees nothing else`,
    );
  }
  return dir;
}

/** The most datums of one job run at once (`parallelismSpec.constant`). */
export const MAX_PARALLELISM = 256;

/** The most runs of one datum (`datumTries`). */
export const MAX_DATUM_TRIES = 100;

/** The checked worker count, timeouts, tries and memory limit of a spec. */
function buildLimits(c: Checker, raw: RawSpec, root: Loc) {
  const parallelism = raw.parallelismSpec?.constant ?? 0;
  if (parallelism < 0 || parallelism > MAX_PARALLELISM) {
    const at = root.child("parallelismSpec").child("constant");
    c.fail(
      at,
      "OUT_OF_RANGE",
      `Invalid worker count ${parallelism} at "${at.shown}"`,
      `use 0 (one worker per core) or a number from 1 to ${MAX_PARALLELISM}`,
    );
  }
  const duration = (key: "datumTimeout" | "jobTimeout"): number | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    const d = durationMs(value);
    if (!d.ok) {
      c.fail(
        root.child(key),
        "BAD_DURATION",
        `Invalid duration ${describe(value)} at "${root.child(key).shown}"`,
        d.advice,
      );
    }
    return d.value;
  };
  const datumTimeoutMs = duration("datumTimeout");
  const jobTimeoutMs = duration("jobTimeout");
  const datumTries = raw.datumTries ?? 3;
  if (datumTries < 1 || datumTries > MAX_DATUM_TRIES) {
    const at = root.child("datumTries");
    c.fail(
      at,
      "OUT_OF_RANGE",
      `Invalid datum tries ${datumTries} at "${at.shown}"`,
      `use a number from 1 (no retry) to ${MAX_DATUM_TRIES}`,
    );
  }
  let memory: number | undefined;
  if (raw.resourceLimits?.memory !== undefined) {
    const value = raw.resourceLimits.memory;
    const m = memoryBytes(value);
    const at = root.child("resourceLimits").child("memory");
    if (!m.ok) {
      c.fail(
        at,
        "BAD_MEMORY",
        `Invalid memory limit ${describe(value)} at "${at.shown}"`,
        m.advice,
      );
    }
    memory = m.value;
  }
  return { parallelism, datumTimeoutMs, jobTimeoutMs, datumTries, memory };
}

/** The spec in Pachyderm's canonical JSON form (see `PipelineSpec.raw`). */
function canonical(
  raw: RawSpec,
  datumTimeoutMs?: number,
  jobTimeoutMs?: number,
): Record<string, unknown> {
  const out = structuredClone(raw) as Record<string, unknown> & RawSpec;
  if (datumTimeoutMs !== undefined) out.datumTimeout = secondsText(datumTimeoutMs);
  if (jobTimeoutMs !== undefined) out.jobTimeout = secondsText(jobTimeoutMs);
  if (typeof out.resourceLimits?.memory === "number") {
    out.resourceLimits.memory = String(out.resourceLimits.memory);
  }
  if (out.datumBatching !== undefined) {
    out.transform = { ...out.transform, datumBatching: out.datumBatching };
    delete out.datumBatching;
  }
  return out;
}

const ENV_NAME = /^[^=\0]+$/;

function checkEnv(c: Checker, env: Readonly<Record<string, string>>, loc: Loc): void {
  for (const key of Object.keys(env)) {
    const at = loc.child(key);
    if (!ENV_NAME.test(key)) {
      c.fail(
        at,
        "REFUSED_ENV",
        `Invalid environment variable name ${describe(key)} at "${at.shown}"`,
        'use a name without "=" or NUL',
      );
    }
    const why = reservedEnvReason(key);
    if (why !== null) {
      c.fail(
        at,
        "REFUSED_ENV",
        `Refused environment variable "${key}" at "${at.shown}"`,
        `${why}; remove it`,
      );
    }
    const bad = envValueReason(key, env[key]!);
    if (bad !== null) {
      c.fail(
        at,
        "REFUSED_ENV",
        `Refused value of environment variable "${key}" at "${at.shown}"`,
        bad,
      );
    }
  }
  const big = envSizeReason(env);
  if (big !== null) {
    c.fail(
      loc,
      "REFUSED_ENV",
      `Refused environment at "${loc.shown}"`,
      `${big}; pass large data as an input`,
    );
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
