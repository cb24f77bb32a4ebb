/**
 * Sandbox flags, as pure functions: the `deno run` permission flags of layer 1, the
 * `bwrap` namespace and mount flags of layer 2, the stage's environment and the rewriting
 * of Pachyderm's `/pfs/…` arguments. Nothing here touches the disk or spawns anything.
 */
import { InvalidArgumentError } from "../errors.ts";
import { validateStageEnv } from "../pipeline/env.ts";

export { validateStageEnv };

/** Which sandbox a stage runs in: Deno's permissions alone, or those inside bubblewrap. */
export type SandboxMode = "deno" | "bwrap";

/** A host folder already holding the datum's input files for input `name`. */
export interface StageInput {
  readonly name: string;
  readonly dir: string;
}

/** What the sandbox needs to know about a stage run: code, arguments, folders, env, memory. */
export interface StageSpec {
  /** Host path of a self-contained JS bundle (`deno bundle` output): the stage code. */
  readonly bundle: string;
  /** Stage arguments as in the spec, with Pachyderm's `/pfs/<name>/` and `/pfs/out/` paths. */
  readonly args: readonly string[];
  readonly inputs: readonly StageInput[];
  /** Host folder the stage writes its outputs to (`/pfs/out`). */
  readonly outDir: string;
  /** Host folder for the stage's temporary files (`/tmp` inside bwrap, `TMPDIR` outside). */
  readonly scratchDir: string;
  readonly mode: SandboxMode;
  /** The spec's `transform.env`: the only environment variables the stage can read. */
  readonly env?: Readonly<Record<string, string>> | undefined;
  /** `resourceLimits.memory`, in bytes. */
  readonly memoryBytes?: number | undefined;
}

/** Host programs and files the sandbox is built from (found by `hostTools()`). */
export interface HostTools {
  /** The native Deno binary (`Deno.execPath()`). */
  readonly deno: string;
  /** util-linux `setsid`: puts the stage in its own session and process group. */
  readonly setsid: string | null;
  /** util-linux `setpriv`: kills a deno-mode stage when its supervisor dies. */
  readonly setpriv: string | null;
  /** bash, which samples the stage's memory from /proc (Deno may not read /proc). */
  readonly bash: string | null;
  /**
   * coreutils `stat`, which the bash monitor runs for the disk a stage takes (free space,
   * deleted files it keeps open); without it only the out and scratch folders are counted.
   */
  readonly stat: string | null;
  /** bubblewrap, or null where it is not installed. */
  readonly bwrap: string | null;
  /** Shared libraries of the Deno binary: bind `source` read-only at `target` in bwrap. */
  readonly libraries: readonly { readonly source: string; readonly target: string }[];
}

/** The process to spawn for one stage run. */
export interface SandboxCommand {
  readonly program: string;
  readonly args: readonly string[];
  /** The complete environment of the spawned process (spawn it with `clearEnv: true`). */
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
}

/** Fixed paths inside the bwrap sandbox. */
export const SANDBOX_PATHS = {
  deno: "/usr/bin/deno",
  bundle: "/tusk/stage.js",
  pfs: "/pfs",
  out: "/pfs/out",
  tmp: "/tmp",
} as const;

/**
 * `DENO_DIR` of every stage: a path that cannot be created (below a character device), so
 * Deno keeps its caches in memory and writes nothing to the host, and no two stages share
 * a cache. `HOME` is a folder that does not exist, so Deno reads no `.npmrc`.
 */
export const STAGE_DENO_DIR = "/dev/null/deno";
/** `HOME` of every stage (see `STAGE_DENO_DIR`). */
export const STAGE_HOME = "/nonexistent";

const MIB = 1024 * 1024;

const INPUT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throw for input names that are not usable as `/pfs/<name>` (or are `out`). */
export function validateInputs(inputs: readonly StageInput[]): void {
  const seen = new Set<string>();
  for (const { name, dir } of inputs) {
    if (!INPUT_NAME.test(name) || name === "out" || name === "." || name === "..") {
      throw new InvalidArgumentError(
        `Cannot use "${name}" as an input name: use letters, digits, "_", "-" and ".", not "out"`,
        { name },
      );
    }
    if (seen.has(name)) {
      throw new InvalidArgumentError(`Cannot run a stage with two inputs named "${name}"`, {
        name,
      });
    }
    seen.add(name);
    requireAbsolute(dir, `input "${name}"`);
  }
}

/** Throw `TypeError` unless `path` is an absolute, normalised host path. */
export function requireAbsolute(path: string, what: string): void {
  if (
    !path.startsWith("/") || path.includes("\0") || /(^|\/)\.\.?(\/|$)/.test(path) ||
    (path.length > 1 && path.endsWith("/"))
  ) {
    throw new TypeError(`The ${what} folder must be an absolute, normalised path: "${path}"`);
  }
}

/** The memory cap of a stage whose spec sets no `resourceLimits.memory` when RAM is unknown. */
export const FALLBACK_MEMORY_BYTES = 2 * 1024 * MIB;

/**
 * The memory cap of a stage whose spec sets no `resourceLimits.memory`: a quarter of the
 * machine's RAM (`totalBytes`), or `FALLBACK_MEMORY_BYTES` when that is unknown.
 */
export function defaultMemoryBytes(totalBytes: number | null): number {
  if (totalBytes === null || !(totalBytes > 0)) return FALLBACK_MEMORY_BYTES;
  return Math.max(64 * MIB, Math.floor(totalBytes / 4 / MIB) * MIB);
}

/** Deno's `--max-old-space-size` in MiB for a memory limit: three quarters, at least 16. */
export function oldSpaceMiB(memoryBytes: number): number {
  return Math.max(16, Math.floor((memoryBytes * 3) / 4 / MIB));
}

/**
 * Rewrite an argument naming `/pfs/<input>` or `/pfs/out` (alone or followed by `/…`)
 * to the matching host folder; any other argument is returned as is.
 */
export function mapPfsArg(
  arg: string,
  inputs: readonly StageInput[],
  outDir: string,
): string {
  const m = /^\/pfs\/([^/]+)(\/.*)?$/.exec(arg);
  if (!m) return arg;
  const name = m[1]!;
  const rest = m[2] ?? "";
  const dir = name === "out" ? outDir : inputs.find((i) => i.name === name)?.dir;
  return dir === undefined ? arg : dir + rest;
}

/** The folders and paths a stage run sees, as the stage names them. */
interface StageView {
  readonly bundle: string;
  readonly inputs: readonly string[];
  readonly out: string;
  readonly tmp: string;
}

/** One file or folder of a stage run: its host path and where bwrap mounts it. */
interface Mount {
  readonly host: string;
  readonly at: string;
}

/** The files and folders of a stage run, each with where bwrap mounts it. */
interface Mounts {
  /** The bundle, read-only at `/tusk/stage.js`. */
  readonly bundle: Mount;
  /** Each input, read-only at `/pfs/<name>`. */
  readonly inputs: readonly Mount[];
  /** The out folder, writable at `/pfs/out`. */
  readonly out: Mount;
  /** The scratch folder, writable at `/tmp`. */
  readonly scratch: Mount;
}

function mounts(spec: StageSpec): Mounts {
  return {
    bundle: { host: spec.bundle, at: SANDBOX_PATHS.bundle },
    inputs: spec.inputs.map((i) => ({ host: i.dir, at: `${SANDBOX_PATHS.pfs}/${i.name}` })),
    out: { host: spec.outDir, at: SANDBOX_PATHS.out },
    scratch: { host: spec.scratchDir, at: SANDBOX_PATHS.tmp },
  };
}

/** Where the stage sees mount `m`: at its mount point inside bwrap, on the host otherwise. */
function seen(spec: StageSpec, m: Mount): string {
  return spec.mode === "bwrap" ? m.at : m.host;
}

/**
 * Where the stage of `spec` sees host path `path`, which lies in one of the run's files or
 * folders (its bundle, an input, out or scratch): inside bwrap, under that folder's mount;
 * in deno mode, where it is. Throws `TypeError` for a path outside all of them.
 */
export function stagePath(spec: StageSpec, path: string): string {
  const { bundle, inputs, out, scratch } = mounts(spec);
  let found: Mount | undefined;
  for (const m of [bundle, ...inputs, out, scratch]) {
    const inside = path === m.host || path.startsWith(`${m.host}/`);
    if (inside && m.host.length > (found?.host.length ?? -1)) found = m;
  }
  if (found === undefined) {
    throw new TypeError(`The path "${path}" lies outside every folder of the stage run`);
  }
  return seen(spec, found) + path.slice(found.host.length);
}

/**
 * `args` as the stage of `spec` is given them: each `/pfs/<input>` and `/pfs/out` argument
 * names where the stage sees that folder (`mapPfsArg()`). `folders` are the folders they
 * name, the run's own by default; a batched datum's lie inside the batch's.
 */
export function stageArgs(
  spec: StageSpec,
  args: readonly string[],
  folders: Pick<StageSpec, "inputs" | "outDir"> = spec,
): string[] {
  const inputs = folders.inputs.map((i) => ({ name: i.name, dir: stagePath(spec, i.dir) }));
  const out = stagePath(spec, folders.outDir);
  return args.map((a) => mapPfsArg(a, inputs, out));
}

/**
 * `deno run` flags of layer 1 for `view`: no prompt, no config, lock, remote or npm
 * modules; an import map that sends every `file:` URL but the bundle to an unreachable
 * remote (Deno loads statically analysable imports without a read permission check);
 * read only the bundle, inputs, out and temp; write only out and temp; env only `envNames`.
 */
export function denoRunFlags(
  view: StageView,
  options: { envNames?: readonly string[]; memoryBytes?: number | undefined } = {},
): string[] {
  const list = (paths: readonly string[]): string => {
    for (const p of paths) {
      if (p.includes(",")) {
        throw new InvalidArgumentError(
          `Cannot sandbox path "${p}" with Deno permissions: it holds a comma`,
          { path: p },
        );
      }
    }
    return paths.join(",");
  };
  const bundleUrl = fileUrl(view.bundle);
  const importMap = { imports: { [bundleUrl]: bundleUrl, "file:///": "https://blocked.invalid/" } };
  const flags = [
    "run",
    "--no-prompt",
    "--no-config",
    "--no-remote",
    "--no-npm",
    "--cached-only",
    "--no-lock",
    "--quiet",
    `--import-map=data:application/json,${encodeURIComponent(JSON.stringify(importMap))}`,
    `--allow-read=${list([view.bundle, ...view.inputs, view.out, view.tmp])}`,
    `--allow-write=${list([view.out, view.tmp])}`,
  ];
  const envNames = options.envNames ?? [];
  if (envNames.length > 0) flags.push(`--allow-env=${envNames.join(",")}`);
  if (options.memoryBytes !== undefined) {
    flags.push(`--v8-flags=--max-old-space-size=${oldSpaceMiB(options.memoryBytes)}`);
  }
  return flags;
}

/**
 * The `file://` URL Deno gives the module at absolute `path`: the URL parser escapes what
 * a path segment may not hold, nothing more (an import map key must match it exactly).
 */
export function fileUrl(path: string): string {
  const url = new URL("file:///");
  url.pathname = path.replace(/%/g, "%25").replace(/\\/g, "%5C");
  return url.href;
}

/**
 * `bwrap` flags every sandbox starts with: fresh user, pid, net, ipc, uts and cgroup
 * namespaces, no capabilities, no nested user namespaces, its own session, killed with
 * its parent; a root holding only the Deno binary and its libraries, a new `/proc` and a
 * minimal, read-only `/dev`.
 */
export function bwrapBaseFlags(tools: HostTools): string[] {
  const flags = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
  ];
  for (const lib of tools.libraries) flags.push("--ro-bind", lib.source, lib.target);
  flags.push("--ro-bind", tools.deno, SANDBOX_PATHS.deno, "--proc", "/proc", "--dev", "/dev");
  // /dev is a tmpfs: read-only, it holds no file a stage could fill memory or disk with.
  flags.push("--remount-ro", "/dev");
  return flags;
}

/**
 * `bwrap` flags of layer 2 for one stage: the base flags, then the bundle, `/pfs/<name>`
 * read-only, `/pfs/out` and `/tmp` (the scratch folder) writable, and the root read-only.
 * Ends with `--`; the command follows.
 */
export function bwrapFlags(spec: StageSpec, tools: HostTools): string[] {
  const { bundle, inputs, out, scratch } = mounts(spec);
  const flags = bwrapBaseFlags(tools);
  for (const m of [bundle, ...inputs]) flags.push("--ro-bind", m.host, m.at);
  for (const m of [out, scratch]) flags.push("--bind", m.host, m.at);
  // The root is a tmpfs too: read-only once every mount point is made in it, so out and
  // scratch are all the stage can write, both on the disk the supervisor watches.
  flags.push("--remount-ro", "/", "--chdir", SANDBOX_PATHS.tmp, "--");
  return flags;
}

/**
 * The complete command for one stage run in `spec.mode`: `setsid` (own process group),
 * then in deno mode `setpriv --pdeathsig KILL` (dies with its supervisor) and the Deno
 * binary on host paths; in bwrap mode `bwrap` and the Deno binary on Pachyderm's paths.
 */
export function stageCommand(spec: StageSpec, tools: HostTools): SandboxCommand {
  const specEnv = spec.env ?? {};
  validateInputs(spec.inputs);
  validateStageEnv(specEnv);
  requireAbsolute(spec.bundle, "bundle");
  requireAbsolute(spec.outDir, "out");
  requireAbsolute(spec.scratchDir, "scratch");
  const envNames = Object.keys(specEnv).sort();
  const prefix: string[] = tools.setsid ? [tools.setsid] : [];
  const m = mounts(spec);
  const view: StageView = {
    bundle: seen(spec, m.bundle),
    inputs: m.inputs.map((i) => seen(spec, i)),
    out: seen(spec, m.out),
    tmp: seen(spec, m.scratch),
  };
  const deno = [
    ...denoRunFlags(view, { envNames, memoryBytes: spec.memoryBytes }),
    view.bundle,
    ...stageArgs(spec, spec.args),
  ];
  if (spec.mode === "bwrap") {
    if (!tools.bwrap) throw new TypeError("Cannot run a stage in bwrap mode without bwrap");
    const argv = [tools.bwrap, ...bwrapFlags(spec, tools), SANDBOX_PATHS.deno, ...deno];
    return {
      program: prefix[0] ?? argv[0]!,
      args: prefix.length > 0 ? argv : argv.slice(1),
      env: stageEnv(specEnv, view.tmp),
      cwd: spec.scratchDir,
    };
  }
  const argv = [
    ...(tools.setpriv ? [tools.setpriv, "--pdeathsig", "KILL", "--"] : []),
    tools.deno,
    ...deno,
  ];
  const all = [...prefix, ...argv];
  return {
    program: all[0]!,
    args: all.slice(1),
    env: stageEnv(specEnv, view.tmp),
    cwd: spec.scratchDir,
  };
}

/** The spawned process's environment: the spec's env plus what Deno needs to start clean. */
export function stageEnv(
  specEnv: Readonly<Record<string, string>>,
  tmp: string,
): Record<string, string> {
  return {
    // Uncoloured logs and failure reasons, unless the spec asks for colours.
    NO_COLOR: "1",
    ...specEnv,
    DENO_DIR: STAGE_DENO_DIR,
    DENO_NO_UPDATE_CHECK: "1",
    HOME: STAGE_HOME,
    TMPDIR: tmp,
  };
}
