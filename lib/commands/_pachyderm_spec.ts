/**
 * A pipeline's spec in Pachyderm's forms, for `export pachyderm` (pure): which fields carry
 * over (camelCase, integers as numbers, durations as `"600s"`), the container command that
 * runs the stage bundle from its code repo, and for a host-program stage its image and
 * Dockerfile.
 */
import type { Pipeline } from "../pipeline/pipelines.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { parseDuration } from "../pipeline/spec/units.ts";
import { oldSpaceMiB } from "../runner/sandbox.ts";

/** File name of the stage bundle, in the export folder and in the code repo. */
export const STAGE_FILE = "stage.js";
/** File name of the error handler's bundle (`transform.errCmd`), beside the stage's. */
export const ERR_STAGE_FILE = "err_stage.js";

/**
 * A Pachyderm field tree: which fields of the tusk spec carry over. Every field tusk
 * accepts is here except `datumBatching` and a pfs input's `optional` (see `dropReason`).
 */
type Keep = true | { readonly fields: Readonly<Record<string, Keep>> } | {
  readonly list: () => Keep;
};

const PFS_KEEP: Keep = {
  fields: {
    name: true,
    repo: true,
    branch: true,
    glob: true,
    joinOn: true,
    groupBy: true,
    outerJoin: true,
    emptyFiles: true,
  },
};
const CRON_KEEP: Keep = {
  fields: { name: true, repo: true, spec: true, overwrite: true, start: true },
};
const INPUT_KEEP: Keep = {
  fields: {
    pfs: PFS_KEEP,
    cron: CRON_KEEP,
    cross: { list: () => INPUT_KEEP },
    union: { list: () => INPUT_KEEP },
    join: { list: () => INPUT_KEEP },
    group: { list: () => INPUT_KEEP },
  },
};
const TRANSFORM_FIELDS: Readonly<Record<string, Keep>> = {
  image: true,
  cmd: true,
  errCmd: true,
  env: true,
  stdin: true,
  acceptReturnCode: true,
};
const SPEC_FIELDS: Readonly<Record<string, Keep>> = {
  pipeline: { fields: { name: true } },
  description: true,
  transform: { fields: TRANSFORM_FIELDS },
  parallelismSpec: { fields: { constant: true } },
  input: INPUT_KEEP,
  outputBranch: true,
  resourceLimits: { fields: { memory: true } },
  datumTimeout: true,
  jobTimeout: true,
  datumTries: true,
  salt: true,
  reprocessSpec: true,
};
const SPEC_KEEP: Keep = { fields: SPEC_FIELDS };

/** What carries over of a host program's spec: the same, and its working folder. */
const HOST_SPEC_KEEP: Keep = {
  fields: {
    ...SPEC_FIELDS,
    transform: { fields: { ...TRANSFORM_FIELDS, workingDir: true } },
  },
};

function dropReason(path: string): string {
  if (path === "datumBatching" || path === "transform.datumBatching") {
    return `${path}: tusk's batching protocol (datums as JSON lines on stdin) is not Pachyderm's; ` +
      "the stage runs once per datum with its arguments, as without batching";
  }
  if (/(^|\.)pfs\.optional$/.test(path)) {
    return `${path}: tusk's optional input (an empty folder when the repo has no commit or no ` +
      "matching file) has no Pachyderm equivalent; there the input is required: the pipeline " +
      "makes no datums until a file matching its glob is committed to it";
  }
  return `${path}: not a Pachyderm pipeline field`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Copy the fields `keep` names; report the others in `dropped`. */
function pick(value: unknown, keep: Keep, path: string, dropped: string[]): unknown {
  if (keep === true) return structuredClone(value);
  if ("list" in keep) {
    return Array.isArray(value)
      ? value.map((v, i) => pick(v, keep.list(), `${path}[${i}]`, dropped))
      : value;
  }
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const here = path === "" ? key : `${path}.${key}`;
    const sub = Object.hasOwn(keep.fields, key) ? keep.fields[key] : undefined;
    if (sub === undefined) dropped.push(dropReason(here));
    else if (v !== null && v !== undefined) out[key] = pick(v, sub, here, dropped);
  }
  return out;
}

function seconds(value: unknown, path: string): string {
  const ms = parseDuration(value as string | number, path);
  return `${ms / 1000}s`;
}

/** How a kept top-level field is written in Pachyderm's form; a field not here is copied. */
const CONVERT: Readonly<Record<string, (value: unknown, key: string) => unknown>> = {
  datumTimeout: seconds,
  jobTimeout: seconds,
  datumTries: Number,
  parallelismSpec: (v) =>
    isObject(v) ? (v.constant === undefined ? {} : { constant: Number(v.constant) }) : v,
  resourceLimits: (v) =>
    isObject(v) ? (v.memory === undefined ? {} : { memory: String(v.memory) }) : v,
};

/** A kept top-level field in Pachyderm's form (see `CONVERT`). */
function convert(key: string, value: unknown): unknown {
  const to = Object.hasOwn(CONVERT, key) ? CONVERT[key] : undefined;
  return to ? to(value, key) : value;
}

/** Add to `spec`, in their order, the kept fields it lacks but those in `skip`, converted. */
function copyRest(
  kept: Record<string, unknown>,
  spec: Record<string, unknown>,
  skip: readonly string[],
): void {
  for (const [key, value] of Object.entries(kept)) {
    if (!(key in spec) && !skip.includes(key)) spec[key] = convert(key, value);
  }
}

/** The image every exported pipeline runs in. */
export function denoImage(version: string = Deno.version.deno): string {
  return `denoland/deno:${version}`;
}

/**
 * The container command of a stage: Deno with exactly the permissions tusk gives it
 * locally (read its inputs, its code, `/pfs/out` and `/tmp`; write `/pfs/out` and `/tmp`;
 * the spec's env names; no net, run, ffi or sys), on the bundle at `script`.
 */
function containerCommand(p: Pipeline, codeRepo: string, script: string): string[] {
  const names = [...new Set(inputLeaves(p.parsed.input).map((i) => `/pfs/${i.name}`))];
  const reads = [...names, `/pfs/${codeRepo}`, "/pfs/out", "/tmp"];
  const env = Object.keys(p.parsed.transform.env).sort();
  return [
    "deno",
    "run",
    "--no-prompt",
    "--no-config",
    "--no-remote",
    "--no-npm",
    `--allow-read=${reads.join(",")}`,
    "--allow-write=/pfs/out,/tmp",
    ...(env.length > 0 ? [`--allow-env=${env.join(",")}`] : []),
    ...(p.parsed.memoryBytes !== undefined
      ? [`--v8-flags=--max-old-space-size=${oldSpaceMiB(p.parsed.memoryBytes)}`]
      : []),
    `/pfs/${codeRepo}/${script}`,
  ];
}

/**
 * The Pachyderm spec of one pipeline version: its camelCase spec with tusk-only fields
 * left out, `image` set to `image`, the command pointed at the bundle in `codeRepo`, and
 * the code repo crossed with its input. Pure.
 */
export function pachydermSpec(
  p: Pipeline,
  options: { readonly image: string; readonly codeRepo: string },
): { spec: Record<string, unknown>; dropped: string[] } {
  const dropped: string[] = [];
  const kept = pick(p.spec, SPEC_KEEP, "", dropped) as Record<string, unknown>;
  const { codeRepo } = options;
  const transform: Record<string, unknown> = {
    image: options.image,
    cmd: [...containerCommand(p, codeRepo, STAGE_FILE), ...p.parsed.args],
  };
  for (const [key, value] of Object.entries(isObject(kept.transform) ? kept.transform : {})) {
    if (!(key in transform)) transform[key] = value;
  }
  const errCmd = p.parsed.transform.errCmd;
  if (errCmd !== undefined) {
    transform.errCmd = [...containerCommand(p, codeRepo, ERR_STAGE_FILE), ...errCmd.slice(3)];
  }
  if (Array.isArray(transform.acceptReturnCode)) {
    transform.acceptReturnCode = transform.acceptReturnCode.map(Number);
  }
  const code = { pfs: { repo: codeRepo, glob: "/" } };
  const input = isObject(kept.input) && Array.isArray(kept.input.cross)
    ? { cross: [...kept.input.cross, code] }
    : { cross: [kept.input, code] };
  const spec: Record<string, unknown> = {
    pipeline: { name: p.name },
    ...(p.parsed.description !== "" ? { description: p.parsed.description } : {}),
    transform,
    ...(isObject(kept.parallelismSpec)
      ? { parallelismSpec: convert("parallelismSpec", kept.parallelismSpec) }
      : {}),
    input,
  };
  copyRest(kept, spec, ["description", "parallelismSpec"]);
  return { spec, dropped };
}

/** The image of a host-program pipeline: its spec's, else one named after it and its code. */
export function hostImage(p: Pipeline): string {
  return p.parsed.transform.image ?? `tusk/${p.name.toLowerCase()}:${p.codeHash.slice(0, 12)}`;
}

/**
 * The Pachyderm spec of a pipeline whose stage is a host program: its camelCase spec with
 * tusk-only fields left out, its command (and workingDir) as given and its image. Pure.
 */
export function hostPachydermSpec(
  p: Pipeline,
): { spec: Record<string, unknown>; dropped: string[] } {
  const dropped: string[] = [];
  const kept = pick(p.spec, HOST_SPEC_KEEP, "", dropped) as Record<string, unknown>;
  const transform: Record<string, unknown> = {
    ...(isObject(kept.transform) ? kept.transform : {}),
    image: hostImage(p),
  };
  if (Array.isArray(transform.acceptReturnCode)) {
    transform.acceptReturnCode = transform.acceptReturnCode.map(Number);
  }
  const spec: Record<string, unknown> = {
    pipeline: { name: p.name },
    ...(p.parsed.description !== "" ? { description: p.parsed.description } : {}),
    transform,
  };
  copyRest(kept, spec, ["description"]);
  return { spec, dropped };
}

/** Programs every base image has: no package to install for them. */
const BASE_PROGRAMS = new Set(["sh", "bash", "dash", "env", "cat", "awk", "sed", "grep", "true"]);

/**
 * The Dockerfile of a host-program pipeline's image: a base like the host's system (from
 * `osRelease`, `/etc/os-release`'s text), the program's package, the code at `/code`, and
 * a note saying what tusk ran and what to add. Pure.
 */
export function hostDockerfile(p: Pipeline, osRelease: string | null): string {
  const field = (name: string) =>
    new RegExp(`^${name}="?([^"\n]*)"?$`, "m").exec(osRelease ?? "")?.[1];
  const id = field("ID");
  const version = field("VERSION_ID");
  const base = id === "debian" && version
    ? `debian:${version}-slim`
    : id === "ubuntu" && version
    ? `ubuntu:${version}`
    : "debian:stable-slim";
  const program = p.program!;
  const name = program.name.split("/").pop()!;
  const image = hostImage(p);
  const lines = [
    `# The image of tusk pipeline "${p.name}", written by tusk export pachyderm.`,
    `# Build it from this folder and push it as the image its spec names:`,
    `#   docker build -t ${image} . && docker push ${image}`,
    "#",
    `# tusk ran the stage with the host's ${program.path}${
      program.realPath !== program.path ? ` (${program.realPath})` : ""
    }${program.version ? `, ${program.version}` : ""},`,
    "# the code below read-only at /code, and the host's system packages. tusk cannot tell",
    "# which packages the code imports: add them (for the iris example, python3-sklearn and",
    "# python3-pandas on Debian).",
    `FROM ${base}`,
  ];
  if (!BASE_PROGRAMS.has(name)) {
    lines.push(
      "RUN apt-get update \\",
      ` && apt-get install -y --no-install-recommends ${name} \\`,
      " && rm -rf /var/lib/apt/lists/*",
    );
  }
  lines.push("COPY code/ /code/", `WORKDIR ${p.parsed.transform.workingDir ?? "/code"}`, "");
  return lines.join("\n");
}
