/**
 * Finding the host program a stage runs: `cmd[0]` looked up on the host's PATH (or taken as
 * the absolute path it is), kept only where the sandbox mounts programs (`/usr`, `/bin`,
 * `/lib*`…: a `python3` shim under a home folder is passed over for the system's), checked
 * by starting it inside the sandbox (`<program> --version`, whose first line is its version
 * line), and fingerprinted (SHA-256 of the file that runs). At `create pipeline` a program
 * that cannot be found or started there, or a sandbox that does not work, is refused with
 * a `SpecError` saying why and what to do; at job time the recorded program is checked
 * again and its provenance taken. The store remembers what it checked (`program_cache.ts`):
 * a program file checked once is not started or hashed again while it is the same file.
 */
import { NotFoundError, SandboxUnavailableError } from "../errors.ts";
import type { HostProgram, ResolveProgramOptions } from "../pipeline/program.ts";
import { SpecError } from "../pipeline/spec/spec_error.ts";
import { sha256Async } from "../store/hash.ts";
import { hostTools } from "./detect.ts";
import type { ProgramCache } from "./program_cache.ts";
import {
  HOST_PATHS,
  hostBaseFlags,
  hostStageEnv,
  hostSystem,
  inSystemFolders,
  SYSTEM_FOLDERS,
} from "./host_stage.ts";

/** Which sandbox was asked for (`--sandbox`, `$TUSK_SANDBOX`). */
export type SandboxRequest = "auto" | "deno" | "bwrap";

/** Folders searched after PATH, as `which` would not but a login shell would. */
const FALLBACK_DIRS = [
  "/usr/local/bin",
  "/usr/bin",
  "/bin",
  "/usr/local/sbin",
  "/usr/sbin",
  "/sbin",
];

/** How long `<program> --version` may take inside the sandbox. */
const TRIAL_TIMEOUT_MS = 10_000;

/** The most output of `--version` read. */
const TRIAL_MAX_BYTES = 16 * 1024;

/** The longest version line kept. */
const MAX_VERSION_CHARS = 200;

/** How `<program> --version` went inside the sandbox. */
export type ProgramTrial =
  | { readonly ok: true; readonly version: string | null }
  | { readonly ok: false; readonly sandbox: boolean; readonly why: string };

/** The host's PATH folders (absolute ones) and then the usual folders, once each. */
function searchDirs(): string[] {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    // No env permission: the usual folders still apply.
  }
  return [...new Set([...path.split(":").filter((d) => d.startsWith("/")), ...FALLBACK_DIRS])];
}

/** Is `path` an executable regular file (links followed)? */
async function isExecutable(path: string): Promise<boolean> {
  const info = await Deno.stat(path).catch(() => null);
  return info !== null && info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
}

/** Read at most `max` bytes of `stream`, then drain and drop the rest. */
async function readCapped(stream: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for await (const chunk of stream) {
    if (kept >= max) continue;
    const part = chunk.subarray(0, max - kept);
    chunks.push(part);
    kept += part.length;
  }
  const all = new Uint8Array(kept);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  return new TextDecoder().decode(all);
}

/** The first non-empty line of `text`, printable, cut to `MAX_VERSION_CHARS`. */
function firstLine(text: string): string | null {
  // deno-lint-ignore no-control-regex
  const line = text.split("\n").map((l) => l.replace(/[\x00-\x1f\x7f]/g, "").trim())
    .find((l) => l !== "");
  if (line === undefined) return null;
  return line.length > MAX_VERSION_CHARS ? `${line.slice(0, MAX_VERSION_CHARS)}…` : line;
}

/**
 * Start `<path> --version` inside the host-program sandbox (no code, no inputs, a read-only
 * empty `/tmp`): whether the sandbox works here, whether the program starts in it, and its
 * version line (null when it has no `--version`).
 */
export async function trialProgram(path: string): Promise<ProgramTrial> {
  const tools = await hostTools();
  if (!tools.bwrap) return { ok: false, sandbox: true, why: "bwrap is not installed" };
  const system = await hostSystem();
  const env = Object.entries(hostStageEnv({})).flatMap(([k, v]) => ["--setenv", k, v]);
  const child = new Deno.Command(tools.bwrap, {
    args: [
      ...env,
      ...hostBaseFlags(system),
      "--dir",
      HOST_PATHS.tmp,
      "--remount-ro",
      "/",
      "--chdir",
      "/",
      "--",
      path,
      "--version",
    ],
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }, TRIAL_TIMEOUT_MS);
  try {
    const [stdout, stderr, status] = await Promise.all([
      readCapped(child.stdout, TRIAL_MAX_BYTES),
      readCapped(child.stderr, TRIAL_MAX_BYTES),
      child.status,
    ]);
    const bwrapSaid = stderr.split("\n").find((l) => l.startsWith("bwrap: "));
    if (bwrapSaid !== undefined && !status.success) {
      const why = bwrapSaid.slice("bwrap: ".length).trim();
      if (/execvp/.test(why)) return { ok: false, sandbox: false, why };
      return { ok: false, sandbox: true, why: `bwrap cannot make the sandbox here (${why})` };
    }
    if (!status.success) return { ok: true, version: null };
    return { ok: true, version: firstLine(stdout) ?? firstLine(stderr) };
  } finally {
    clearTimeout(timer);
  }
}

const hashes = new Map<string, string>();

/** The identity of the file at real path `path` whose `stat` is `info`. */
function fileKey(path: string, info: Deno.FileInfo): string {
  return `${path}\0${info.ino}\0${info.size}\0${info.mtime?.getTime()}`;
}

/** SHA-256 of the file at real path `path` (whose `stat` is `info`), cached by its identity. */
async function fileHash(path: string, info: Deno.FileInfo): Promise<string> {
  const key = fileKey(path, info);
  const known = hashes.get(key);
  if (known !== undefined) return known;
  // Web Crypto's native digest: a 7 MB interpreter in milliseconds, no node:crypto to load.
  const hash = await sha256Async(await Deno.readFile(path));
  hashes.set(key, hash);
  return hash;
}

/** Where `name` is found: the first executable in the system folders, and those passed over. */
async function findProgram(
  name: string,
): Promise<{ found: { path: string; realPath: string } | undefined; skipped: string[] }> {
  const skipped: string[] = [];
  const candidates = name.startsWith("/") ? [name] : searchDirs().map((d) => `${d}/${name}`);
  for (const path of candidates) {
    if (!(await isExecutable(path))) continue;
    const realPath = await Deno.realPath(path);
    if (inSystemFolders(path) && inSystemFolders(realPath)) {
      return { found: { path, realPath }, skipped };
    }
    skipped.push(realPath === path ? `"${path}"` : `"${path}" (a link to "${realPath}")`);
  }
  return { found: undefined, skipped };
}

/** The trial of `path` in the sandbox and the hash of its real file, side by side. */
function checkProgram(
  path: string,
  realPath: string,
  info: Deno.FileInfo,
): Promise<[ProgramTrial, string]> {
  return Promise.all([trialProgram(path), fileHash(realPath, info)]);
}

/** A program's check started ahead of its spec's parse: the file it checks, and how. */
export interface EarlyCheck {
  /** The program as found (on PATH, or as given). */
  readonly path: string;
  /** The file that runs, and its `stat` when the check started. */
  readonly realPath: string;
  readonly info: Deno.FileInfo;
  /** Its trial in the sandbox and the file's SHA-256. */
  readonly check: Promise<[ProgramTrial, string]>;
}

/**
 * Start checking host program `name` as `resolveHostProgram()` would — its trial in the
 * sandbox and its hash — ahead of its call, so they run while the spec is parsed; nothing
 * is recorded, so a spec refused meanwhile changes nothing. Null when there is nothing to
 * start: `name` is not found in the system folders, or `cache` knows the file already.
 */
export function checkAhead(
  name: string,
  options: ProgramCacheOption = {},
): Promise<EarlyCheck | null> {
  const early = (async (): Promise<EarlyCheck | null> => {
    const { found } = await findProgram(name);
    if (!found) return null;
    const info = await Deno.stat(found.realPath);
    const { bwrap } = await hostTools();
    if (!bwrap || await options.cache?.lookup(found.realPath, info, bwrap)) return null;
    const check = checkProgram(found.path, found.realPath, info);
    check.catch(() => {});
    return { path: found.path, realPath: found.realPath, info, check };
  })();
  early.catch(() => {});
  return early;
}

/** Options of `resolveHostProgram()` and `currentProgram()` on their store's cache. */
export interface ProgramCacheOption {
  /** What the store remembers of programs it checked; none: every program is checked. */
  readonly cache?: ProgramCache | undefined;
}

/** What to do to make a sandbox that does not work here work. */
function enableAdvice(why: string): string {
  if (/not installed/.test(why)) {
    return 'install bubblewrap ("apt-get install bubblewrap"), then create the pipeline again';
  }
  return "allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on " +
    "Ubuntu also kernel.apparmor_restrict_unprivileged_userns=0), or run tusk where they are " +
    '("tusk doctor" says which sandbox works)';
}

/**
 * Find and check host program `name` for a stage (see the module comment), with the
 * sandbox `sandbox` asked for: `"deno"` refuses at once, since such a stage never runs
 * with less than bwrap. Throws `SpecError` (exit 2) saying why and what to do.
 */
export async function resolveHostProgram(
  name: string,
  options: ResolveProgramOptions & ProgramCacheOption & {
    readonly sandbox: SandboxRequest;
    /**
     * The check of `name` started ahead (`checkAhead()`): taken when it checked the file
     * found now, else the program is checked afresh.
     */
    readonly ahead?: Promise<EarlyCheck | null> | undefined;
  },
): Promise<HostProgram> {
  const at = `${options.field}[0]`;
  const fail = (rule: "MISSING_PROGRAM" | "NEEDS_SANDBOX", message: string): never => {
    throw new SpecError(message, {
      rule,
      path: at,
      ...(options.specFile === undefined ? {} : { file: options.specFile }),
    });
  };
  const what = `Cannot run the host program "${name}" (${at})`;
  if (options.sandbox === "deno") {
    fail(
      "NEEDS_SANDBOX",
      `${what}: a stage that is a host program runs only inside the OS sandbox (bubblewrap), never under Deno's permissions alone, and --sandbox deno (or TUSK_SANDBOX=deno) was chosen; run without it, or with --sandbox bwrap`,
    );
  }
  const { found, skipped } = await findProgram(name);
  const folders = SYSTEM_FOLDERS.slice(0, 3).join(", ");
  if (found === undefined) {
    if (skipped.length > 0) {
      fail(
        "MISSING_PROGRAM",
        `${what}: ${skipped.join(", ")} ${
          skipped.length === 1 ? "is" : "are"
        } outside the system folders the sandbox shows (${folders}, /lib…); install it there with the system's package manager, or name one there by its absolute path`,
      );
    }
    fail(
      "MISSING_PROGRAM",
      name.startsWith("/")
        ? `${what}: there is no executable file at "${name}"`
        : `${what}: it is not on PATH; install it with the system's package manager, or give its absolute path`,
    );
  }
  const { path, realPath } = found!;
  const info = await Deno.stat(realPath);
  const { bwrap } = await hostTools();
  // Checked in the sandbox once (while bwrap and the file stay the same): not started again.
  const known = bwrap ? await options.cache?.lookup(realPath, info, bwrap) : undefined;
  if (known) return { name, path, realPath, version: known.version, sha256: known.sha256 };
  const early = await options.ahead?.catch(() => null);
  const same = early?.path === path &&
    fileKey(early.realPath, early.info) === fileKey(realPath, info);
  const [trial, hash] = same ? await early!.check : await checkProgram(path, realPath, info);
  if (!trial.ok) {
    if (trial.sandbox) {
      fail(
        "NEEDS_SANDBOX",
        `${what}: a stage that is a host program runs only inside the OS sandbox, and ${trial.why}; ${
          enableAdvice(trial.why)
        }`,
      );
    }
    fail(
      "MISSING_PROGRAM",
      `${what}: "${path}" does not start inside the sandbox (${trial.why}); it may need files outside ${folders}`,
    );
  }
  const version = trial.ok ? trial.version : null;
  if (bwrap) await options.cache?.remember(realPath, info, bwrap, { sha256: hash, version });
  return { name, path, realPath, version, sha256: hash };
}

/**
 * The recorded program `recorded` as it is now, for a job's provenance: the same record
 * when its file is unchanged, else its new real path, version line and hash. Throws
 * `NotFoundError` when it is gone, `SandboxUnavailableError` when it no longer starts in the
 * sandbox.
 */
export async function currentProgram(
  recorded: HostProgram,
  options: ProgramCacheOption = {},
): Promise<HostProgram> {
  let realPath: string;
  try {
    if (!(await isExecutable(recorded.path))) throw new Error("not executable");
    realPath = await Deno.realPath(recorded.path);
  } catch {
    throw new NotFoundError(
      `The host program "${recorded.path}" (${recorded.name}) is gone: install it again, or update the pipeline`,
      { program: recorded.path },
    );
  }
  if (!inSystemFolders(realPath)) {
    throw new NotFoundError(
      `The host program "${recorded.path}" is now a link to "${realPath}", outside the folders the sandbox shows: reinstall it, or update the pipeline`,
      { program: recorded.path },
    );
  }
  const info = await Deno.stat(realPath);
  const { bwrap } = await hostTools();
  const known = bwrap ? await options.cache?.lookup(realPath, info, bwrap) : undefined;
  const hash = known?.sha256 ?? await fileHash(realPath, info);
  if (hash === recorded.sha256 && realPath === recorded.realPath) return recorded;
  if (known) return { ...recorded, realPath, version: known.version, sha256: hash };
  const trial = await trialProgram(recorded.path);
  if (!trial.ok) {
    throw new SandboxUnavailableError(
      `The host program "${recorded.path}" (${recorded.name}) does not start in the sandbox: ${trial.why}`,
      { program: recorded.path },
    );
  }
  if (bwrap) {
    await options.cache?.remember(realPath, info, bwrap, { sha256: hash, version: trial.version });
  }
  return { ...recorded, realPath, version: trial.version, sha256: hash };
}
