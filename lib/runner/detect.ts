/**
 * Which sandbox is in force on this machine: the host programs a stage run needs (the
 * native Deno binary, its shared libraries, `setsid`, `setpriv`, `bwrap`) and a trial run
 * of Deno inside bubblewrap to tell whether namespaces work here.
 */
import { SandboxUnavailableError } from "../errors.ts";
import {
  bwrapBaseFlags,
  type HostTools,
  SANDBOX_PATHS,
  type SandboxMode,
  STAGE_DENO_DIR,
  STAGE_HOME,
} from "./sandbox.ts";

export type { SandboxMode } from "./sandbox.ts";

/** The sandbox in force and, in words, why. */
export interface SandboxChoice {
  readonly mode: SandboxMode;
  readonly reason: string;
}

const SEARCH_DIRS = ["/usr/local/bin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"];
const LIBRARY_DIRS = ["/lib", "/lib64", "/usr/lib", "/usr/lib64"];
const TRIAL_TIMEOUT_MS = 10_000;

/** Absolute path of the executable `name` on PATH (or in the usual folders), or null. */
export async function findExecutable(name: string): Promise<string | null> {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    // No env permission: the usual folders below still apply.
  }
  const dirs = [...path.split(":").filter((d) => d.startsWith("/")), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = `${dir}/${name}`;
    try {
      const info = await Deno.stat(candidate);
      if (info.isFile && ((info.mode ?? 0) & 0o111) !== 0) return candidate;
    } catch {
      // Not there: try the next folder.
    }
  }
  return null;
}

/** The shared libraries a loader's trace (what `ldd` prints) lists, each at its real path. */
async function tracedLibraries(text: string): Promise<{ source: string; target: string }[]> {
  const libs: { source: string; target: string }[] = [];
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)\s*$/.exec(line.trim());
    if (!m || seen.has(m[1]!)) continue;
    seen.add(m[1]!);
    libs.push({ source: await Deno.realPath(m[1]!), target: m[1]! });
  }
  return libs;
}

/** What `program args…` prints on stdout with the environment `env`; null when it fails. */
async function outputOf(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string | null> {
  try {
    const out = await new Deno.Command(program, {
      args,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/**
 * Shared libraries the Deno binary loads, each bound read-only at the path the loader looks
 * for it: as glibc's loader lists them when asked to trace the binary (what `ldd` does, in
 * one process instead of `ldd`'s four), else from `ldd`. Without either (or for a static
 * binary) the usual library folders.
 */
async function denoLibraries(
  deno: string,
): Promise<{ source: string; target: string }[]> {
  // A loader that does not trace runs `deno --version`, whose output lists no library.
  const traced = await outputOf(deno, ["--version"], { LD_TRACE_LOADED_OBJECTS: "1" });
  const fromTrace = traced === null ? [] : await tracedLibraries(traced);
  if (fromTrace.length > 0) return fromTrace;
  const ldd = await findExecutable("ldd");
  const text = ldd ? await outputOf(ldd, [deno]) : null;
  if (text !== null) return await tracedLibraries(text);
  const libs: { source: string; target: string }[] = [];
  for (const dir of LIBRARY_DIRS) {
    try {
      libs.push({ source: await Deno.realPath(dir), target: dir });
    } catch {
      // Folder absent on this system.
    }
  }
  return libs;
}

let toolsPromise: Promise<HostTools> | null = null;

/** The host programs and libraries stage runs are built from, looked up once per process. */
export function hostTools(): Promise<HostTools> {
  toolsPromise ??= (async () => {
    const deno = await Deno.realPath(Deno.execPath());
    const [setsid, setpriv, bash, stat, bwrap, libraries] = await Promise.all([
      findExecutable("setsid"),
      findExecutable("setpriv"),
      findExecutable("bash"),
      findExecutable("stat"),
      findExecutable("bwrap"),
      denoLibraries(deno),
    ]);
    return { deno, setsid, setpriv, bash, stat, bwrap, libraries };
  })();
  toolsPromise.catch(() => {
    toolsPromise = null;
  });
  return toolsPromise;
}

let memoryPromise: Promise<number | null> | null = null;

/**
 * The machine's RAM (`MemTotal` of `/proc/meminfo`) in bytes, read once per process by bash
 * (Deno reads `/proc` only with `--allow-all`); null when it cannot be read.
 */
export function machineMemoryBytes(): Promise<number | null> {
  memoryPromise ??= (async () => {
    const { bash } = await hostTools();
    if (!bash) return null;
    try {
      const out = await new Deno.Command(bash, {
        args: [
          "-c",
          'while read -r k v _; do [[ $k == MemTotal: ]] && { echo "$v"; exit 0; }; done < /proc/meminfo; exit 1',
        ],
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "null",
      }).output();
      const kib = Number(new TextDecoder().decode(out.stdout).trim());
      return out.success && Number.isSafeInteger(kib) && kib > 0 ? kib * 1024 : null;
    } catch {
      return null;
    }
  })();
  return memoryPromise;
}

/** Run `deno --version` inside the bwrap base sandbox; null when it works, else why not. */
async function bwrapTrial(tools: HostTools): Promise<string | null> {
  if (!tools.bwrap) return "bwrap is not installed";
  const child = new Deno.Command(tools.bwrap, {
    args: [...bwrapBaseFlags(tools), "--", SANDBOX_PATHS.deno, "--version"],
    clearEnv: true,
    env: { DENO_DIR: STAGE_DENO_DIR, HOME: STAGE_HOME, DENO_NO_UPDATE_CHECK: "1" },
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
    const out = await child.output();
    const stdout = new TextDecoder().decode(out.stdout);
    if (out.success && stdout.startsWith("deno ")) return null;
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
    return `bwrap cannot run Deno in fresh namespaces here (${stderr || `exit code ${out.code}`})`;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Pick the sandbox for `requested`: `"auto"` is bwrap when a trial run of Deno inside it
 * works here, else deno with the reason; `"bwrap"` throws `SandboxUnavailableError` when
 * that trial fails; `"deno"` is taken as asked.
 */
export async function detectSandbox(
  requested: "auto" | "deno" | "bwrap",
): Promise<SandboxChoice> {
  if (requested === "deno") {
    return { mode: "deno", reason: "Deno permissions only, as requested (--sandbox deno)" };
  }
  const tools = await hostTools();
  const failure = await bwrapTrial(tools);
  if (failure === null) {
    return {
      mode: "bwrap",
      reason: "bwrap works here: stages run in fresh namespaces under Deno permissions",
    };
  }
  if (requested === "bwrap") {
    throw new SandboxUnavailableError(
      `Cannot use the bwrap sandbox: ${failure}; run with --sandbox deno or auto`,
      { requested, failure },
    );
  }
  return { mode: "deno", reason: `${failure}: stages run under Deno permissions only` };
}
