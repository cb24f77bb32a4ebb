/**
 * Stages that are host programs (`python3`, `sh`, `Rscript`, …): the bubblewrap command
 * that runs one, built by pure functions from the host's system folders (found once by
 * `hostSystem()`). Such a stage runs only inside bwrap, never under less:
 *
 * - fresh user, pid, net, ipc, uts and cgroup namespaces; no capabilities, no nested user
 *   namespaces, its own session (no terminal to inject keystrokes into), killed with its
 *   supervisor; an unprivileged user (uid and gid 65534) and a host name of its own;
 * - the host's `/usr` and its `/bin`, `/sbin`, `/lib*` read-only, and of `/etc` only the few
 *   files programs and their libraries read (the loader's cache, `alternatives`, time zone,
 *   interpreters' own folders) plus a `passwd`, `group` and `hosts` of the sandbox's own;
 * - nothing of `/home`, `/root`, the host's `/tmp`, the store or other datums;
 * - its code read-only at `/code` (where Pachyderm images keep theirs), `/pfs/<input>`
 *   read-only, `/pfs/out`, and a scratch `/tmp` and `/dev/shm` on disk (counted by the
 *   output limits); the root, `/dev` and everything else read-only;
 * - a fresh `/proc` (only the sandbox's processes) with what containers mask masked
 *   (`/proc/keys`, `/proc/kcore`, `/proc/timer_list`…), a minimal `/dev`;
 * - a seccomp filter refusing the kernel keyrings and a few large kernel surfaces
 *   (`_seccomp.ts`);
 * - a cleared environment: the spec's `env` over `PATH`, `HOME=/tmp`, `TMPDIR=/tmp`, `LANG`;
 * - at most `HOST_STAGE_MAX_TASKS` processes and threads: a pids cgroup of its own where tusk
 *   may make one, else the kernel's `RLIMIT_NPROC` set inside the sandbox with `prlimit`
 *   (which the kernel does not hold root to), and the supervisor's own count besides
 *   (`_task_watch.ts`).
 */
import { InvalidArgumentError } from "../errors.ts";
import { findExecutable, hostTools } from "./detect.ts";
import { probeTaskLimits } from "./_task_watch.ts";
import { seccompFilter } from "./_seccomp.ts";
import { validateStageEnv } from "../pipeline/env.ts";
import {
  type HostTools,
  mapPfsArg,
  requireAbsolute,
  type SandboxCommand,
  type StageInput,
  type StageSpec,
  validateInputs,
} from "./sandbox.ts";

/** Fixed paths inside a host-program stage's sandbox. */
export const HOST_PATHS = {
  code: "/code",
  pfs: "/pfs",
  out: "/pfs/out",
  tmp: "/tmp",
  shm: "/dev/shm",
} as const;

/** The uid and gid a host program runs as inside the sandbox. */
export const SANDBOX_UID = 65534;

/** The sandbox's host name (the host's own is not shown). */
export const SANDBOX_HOSTNAME = "tusk";

/** The most processes and threads a host-program stage may have at once. */
export const HOST_STAGE_MAX_TASKS = 2048;

/** `PATH` of a host-program stage, unless its spec's `env` sets one. */
export const SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Set (to `1`) in the environment of a host program that gets datums in a batch. */
export const BATCH_ENV = "TUSK_DATUM_BATCHING";

/** A stage that is a host program: what it runs and where its code is. */
export interface HostStage {
  /** Absolute host path of the program, inside the folders the sandbox mounts. */
  readonly program: string;
  /** Host folder holding the stage's code snapshot, mounted read-only at `/code`. */
  readonly codeDir: string;
  /** Host folder holding the sandbox's own `passwd`, `group` and `hosts` (`writeSandboxEtc()`). */
  readonly etcDir: string;
  /** Where the program starts, as the sandbox shows it (default `/code`). */
  readonly workingDir?: string | undefined;
}

/** One system folder of the host as the sandbox shows it: bound read-only, or a link. */
export type SystemMount =
  | { readonly kind: "bind"; readonly path: string }
  | { readonly kind: "symlink"; readonly path: string; readonly target: string };

/** The host's system folders and files a host-program sandbox shows, read-only. */
export interface HostSystem {
  /** `/usr`, `/bin`, `/sbin`, `/lib*`: bound, or links where the host has links. */
  readonly folders: readonly SystemMount[];
  /** Files and folders of `/etc` to bind read-only (absolute host paths). */
  readonly etc: readonly string[];
  /** util-linux `prlimit` inside `/usr`, to cap processes; null without it. */
  readonly prlimit: string | null;
  /**
   * A pids cgroup folder tusk may make a cgroup per stage run in (`probeTaskLimits()`), so
   * the kernel caps a stage's tasks even for root; null where there is none.
   */
  readonly pidsCgroup: string | null;
  /** tusk's uid: the kernel does not hold root to `RLIMIT_NPROC`. Null if unknown. */
  readonly uid: number | null;
  /** A POSIX shell (`/bin/sh`) that starts a stage (its cgroup, its seccomp filter). */
  readonly sh: string | null;
  /** The seccomp filter for this machine's architecture; null where none is known. */
  readonly seccomp: Uint8Array | null;
  /** Files and folders of `/proc` that exist here and are masked in the sandbox. */
  readonly masked: readonly { readonly path: string; readonly folder: boolean }[];
}

/** What containers mask of `/proc`: kernel memory and keys, timers, hardware. */
export const MASKED_PROC: readonly string[] = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/interrupts",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/sched_debug",
  "/proc/scsi",
  "/proc/timer_list",
  "/proc/timer_stats",
];

/** What caps a host-program stage's processes here, in words (for `tusk doctor`). */
export function taskLimitText(system: HostSystem): string {
  const n = `${HOST_STAGE_MAX_TASKS} processes and threads`;
  if (system.pidsCgroup) return `${n}, by a pids cgroup per stage (the kernel)`;
  if (system.prlimit && system.uid !== null && system.uid !== 0) {
    return `${n}, by RLIMIT_NPROC in the sandbox (the kernel)`;
  }
  return `${n}, counted by tusk's supervisor only (${
    system.uid === 0 ? "root is not held to RLIMIT_NPROC" : "no prlimit"
  } and no writable pids cgroup)`;
}

/** Top-level system folders a host program and its libraries live in. */
export const SYSTEM_FOLDERS: readonly string[] = [
  "/usr",
  "/bin",
  "/sbin",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
];

/**
 * Entries of `/etc` programs read beside their code: the dynamic loader's configuration,
 * Debian's `alternatives` (links many libraries go through), the time zone, MIME types,
 * fonts, and interpreters' own folders (`python3*`, `R`, `perl`). Nothing that names users,
 * holds keys or passwords, or configures the network.
 */
export const ETC_ENTRIES: readonly (string | RegExp)[] = [
  "ld.so.cache",
  "ld.so.conf",
  "ld.so.conf.d",
  "alternatives",
  "localtime",
  "timezone",
  "mime.types",
  "fonts",
  "matplotlibrc",
  "R",
  "perl",
  /^python3(\.\d+)?$/,
];

/** The sandbox's own `/etc` files: one unprivileged user and group, and localhost. */
export const SANDBOX_ETC: Readonly<Record<"passwd" | "group" | "hosts", string>> = {
  passwd: `tusk:x:${SANDBOX_UID}:${SANDBOX_UID}:tusk stage:/tmp:/usr/sbin/nologin\n`,
  group: `tusk:x:${SANDBOX_UID}:\n`,
  hosts: "127.0.0.1\tlocalhost\n::1\tlocalhost\n",
};

/** Is absolute path `path` inside one of the system folders the sandbox mounts? */
export function inSystemFolders(path: string): boolean {
  return SYSTEM_FOLDERS.some((d) => path === d || path.startsWith(`${d}/`));
}

let systemPromise: Promise<HostSystem> | null = null;

/** The host's system folders as the sandbox shows them, looked up once per process. */
export function hostSystem(): Promise<HostSystem> {
  systemPromise ??= (async () => {
    const folders: SystemMount[] = [];
    for (const path of SYSTEM_FOLDERS) {
      const info = await Deno.lstat(path).catch(() => null);
      if (info?.isSymlink) {
        folders.push({ kind: "symlink", path, target: await Deno.readLink(path) });
      } else if (info?.isDirectory) folders.push({ kind: "bind", path });
    }
    const etc: string[] = [];
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir("/etc")) names.push(e.name);
    } catch {
      // No /etc: the sandbox gets only its own files.
    }
    for (const name of names.sort()) {
      if (!ETC_ENTRIES.some((e) => typeof e === "string" ? e === name : e.test(name))) continue;
      // A link to nothing (a removed alternative, say) cannot be bound: leave it out.
      if (await Deno.stat(`/etc/${name}`).catch(() => null)) etc.push(`/etc/${name}`);
    }
    let prlimit: string | null = null;
    for (const candidate of ["/usr/bin/prlimit", "/bin/prlimit"]) {
      const info = await Deno.stat(candidate).catch(() => null);
      if (info?.isFile && ((info.mode ?? 0) & 0o111) !== 0) {
        prlimit = candidate;
        break;
      }
    }
    const { uid, pidsCgroup, proc } = await probeTaskLimits((await hostTools()).bash, MASKED_PROC);
    const sh = await findExecutable("sh");
    const seccomp = seccompFilter(Deno.build.arch);
    return { folders, etc, prlimit, pidsCgroup, uid, sh, seccomp, masked: proc };
  })();
  systemPromise.catch(() => {
    systemPromise = null;
  });
  return systemPromise;
}

/** The file of a host-program stage's etc folder holding its seccomp filter (not mounted). */
export const SECCOMP_FILE = "seccomp.bpf";

/**
 * Write the sandbox's own `passwd`, `group` and `hosts`, and the seccomp filter (when this
 * machine has one), into the folder `dir`, read-only.
 */
export async function writeSandboxEtc(dir: string): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(SANDBOX_ETC)) {
    await Deno.writeTextFile(`${dir}/${name}`, text, { mode: 0o444 });
  }
  const { seccomp } = await hostSystem();
  if (seccomp) await Deno.writeFile(`${dir}/${SECCOMP_FILE}`, seccomp, { mode: 0o444 });
}

/** The host folders of a host-program stage's scratch space: `/tmp` and `/dev/shm`. */
export function hostScratch(scratchDir: string): { tmp: string; shm: string } {
  return { tmp: `${scratchDir}/tmp`, shm: `${scratchDir}/shm` };
}

/**
 * `bwrap` flags every host-program sandbox starts with: the namespaces, the unprivileged
 * user, the system folders, `/etc`'s few files and the sandbox's own, a fresh `/proc` and
 * a minimal `/dev`. `shm` is the host folder shown as `/dev/shm` (none: no `/dev/shm`).
 * Mounts of the run follow; the caller ends with `--remount-ro /`.
 */
export function hostBaseFlags(
  system: HostSystem,
  options: { etcDir?: string | undefined; shm?: string | undefined } = {},
): string[] {
  const flags = [
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--cap-drop",
    "ALL",
    "--die-with-parent",
    "--new-session",
    "--uid",
    String(SANDBOX_UID),
    "--gid",
    String(SANDBOX_UID),
    "--hostname",
    SANDBOX_HOSTNAME,
  ];
  for (const m of system.folders) {
    if (m.kind === "bind") flags.push("--ro-bind", m.path, m.path);
    else flags.push("--symlink", m.target, m.path);
  }
  for (const path of system.etc) flags.push("--ro-bind", path, path);
  if (options.etcDir !== undefined) {
    for (const name of Object.keys(SANDBOX_ETC)) {
      flags.push("--ro-bind", `${options.etcDir}/${name}`, `/etc/${name}`);
    }
  }
  flags.push("--proc", "/proc");
  for (const m of system.masked) {
    if (m.folder) flags.push("--tmpfs", m.path, "--remount-ro", m.path);
    else flags.push("--ro-bind", "/dev/null", m.path);
  }
  flags.push("--dev", "/dev");
  if (options.shm !== undefined) flags.push("--bind", options.shm, HOST_PATHS.shm);
  flags.push("--remount-ro", "/dev");
  return flags;
}

/** Where the stage of `spec` sees host path `path`, which lies in an input, out or scratch. */
function hostPath(spec: StageSpec, path: string): string {
  const mounts = [
    ...spec.inputs.map((i) => ({ host: i.dir, at: `${HOST_PATHS.pfs}/${i.name}` })),
    { host: spec.outDir, at: HOST_PATHS.out },
    { host: hostScratch(spec.scratchDir).tmp, at: HOST_PATHS.tmp },
  ];
  let found: { host: string; at: string } | undefined;
  for (const m of mounts) {
    const inside = path === m.host || path.startsWith(`${m.host}/`);
    if (inside && m.host.length > (found?.host.length ?? -1)) found = m;
  }
  if (found === undefined) {
    throw new TypeError(`The path "${path}" lies outside every folder of the stage run`);
  }
  return found.at + path.slice(found.host.length);
}

/**
 * `args` as a host-program stage of `spec` is given them: each `/pfs/<input>` and
 * `/pfs/out` argument names where the stage sees that folder. `folders` are the folders
 * they name, the run's own by default; a batched datum's lie inside the batch's.
 */
export function hostStageArgs(
  spec: StageSpec,
  args: readonly string[],
  folders: Pick<StageSpec, "inputs" | "outDir"> = spec,
): string[] {
  const inputs: StageInput[] = folders.inputs.map((i) => ({
    name: i.name,
    dir: hostPath(spec, i.dir),
  }));
  return args.map((a) => mapPfsArg(a, inputs, hostPath(spec, folders.outDir)));
}

/**
 * The environment of a host-program stage: a default `PATH`, `LANG=C.UTF-8` and `NO_COLOR`,
 * then the spec's `env` (which may set those, not `HOME` or `TMPDIR`), `HOME` and `TMPDIR`
 * at the scratch `/tmp`; with `batch`, `TUSK_DATUM_BATCHING=1`.
 */
export function hostStageEnv(
  specEnv: Readonly<Record<string, string>>,
  options: { batch?: boolean } = {},
): Record<string, string> {
  return {
    PATH: SANDBOX_PATH,
    LANG: "C.UTF-8",
    // Uncoloured logs and failure reasons, unless the spec asks for colours.
    NO_COLOR: "1",
    ...specEnv,
    HOME: HOST_PATHS.tmp,
    TMPDIR: HOST_PATHS.tmp,
    ...(options.batch ? { [BATCH_ENV]: "1" } : {}),
  };
}

/**
 * `bwrap` flags of one host-program stage run: the base flags, then `/code` and each
 * `/pfs/<name>` read-only, `/pfs/out` and `/tmp` writable, the root read-only, and the
 * working folder. Ends with `--`; the command follows.
 */
export function hostBwrapFlags(spec: StageSpec, host: HostStage, system: HostSystem): string[] {
  const scratch = hostScratch(spec.scratchDir);
  const flags = hostBaseFlags(system, { etcDir: host.etcDir, shm: scratch.shm });
  flags.push("--ro-bind", host.codeDir, HOST_PATHS.code);
  for (const i of spec.inputs) flags.push("--ro-bind", i.dir, `${HOST_PATHS.pfs}/${i.name}`);
  flags.push("--bind", spec.outDir, HOST_PATHS.out, "--bind", scratch.tmp, HOST_PATHS.tmp);
  flags.push("--remount-ro", "/", "--chdir", host.workingDir ?? HOST_PATHS.code, "--");
  return flags;
}

/**
 * Starts a stage: moves itself into the cgroup `$2` (made here, capped at `$3` tasks, unless
 * an earlier run made it) when one is given, then runs the rest with the seccomp filter `$1`
 * (when given) open as fd 3 for bwrap's `--seccomp 3`. In a cgroup v1 hierarchy it moves by
 * writing `0` to the cgroup's `tasks`: the kernel moves the writing thread alone (the shell
 * has one) without its global cgroup lock, whose taking waits for an RCU grace period (5–15
 * ms) when a whole process is moved through `cgroup.procs`; everything the shell starts
 * afterwards is born in the cgroup. A POSIX shell, run with an empty
 * environment (but `PWD`, which it drops): the stage's reaches the sandbox through bwrap's
 * `--setenv`, never a shell or bwrap on the host (`ENV`, `BASH_ENV`, `LD_PRELOAD`), and
 * bwrap's own, which the sandbox's first process keeps, is empty.
 */
export const STAGE_WRAPPER =
  'unset PWD OLDPWD; f=$1 cg=$2 max=$3; shift 3; if [ -n "$cg" ]; then ' +
  '{ [ -d "$cg" ] || { mkdir -- "$cg" && echo "$max" > "$cg/pids.max"; }; } && ' +
  '{ if [ -e "$cg/tasks" ]; then echo 0 > "$cg/tasks"; else echo $$ > "$cg/cgroup.procs"; fi; } || ' +
  '{ echo "tusk: cannot set the stage\'s process limit (cgroup $cg)" >&2; exit 125; }; fi; ' +
  'if [ -n "$f" ]; then exec "$@" 3< "$f"; fi; exec "$@"';

/**
 * The complete command of one host-program stage run: a shell (`STAGE_WRAPPER`) that moves
 * it into the pids cgroup `cgroup`, when given, and opens its seccomp filter (in the etc
 * folder, where the machine has one); `bwrap` with the flags above (its own session, so no
 * `setsid`), the filter and the stage's environment as `--setenv`; `prlimit` capping its
 * tasks (where the kernel holds tusk's user to it); the program and its arguments. The
 * process itself starts with an empty environment. Throws `TypeError` without bwrap or a
 * shell: such a stage never runs with less.
 */
export function hostStageCommand(
  spec: StageSpec,
  host: HostStage,
  tools: HostTools,
  system: HostSystem,
  options: { batch?: boolean; cgroup?: string | undefined } = {},
): SandboxCommand {
  const specEnv = spec.env ?? {};
  validateInputs(spec.inputs);
  validateStageEnv(specEnv);
  for (
    const [what, path] of [["out", spec.outDir], ["scratch", spec.scratchDir], [
      "code",
      host.codeDir,
    ], ["etc", host.etcDir]] as const
  ) requireAbsolute(path, what);
  requireAbsolute(host.program, "program");
  if (!inSystemFolders(host.program)) {
    throw new InvalidArgumentError(
      `Cannot run "${host.program}" in the sandbox: it is outside ${SYSTEM_FOLDERS.join(", ")}`,
      { program: host.program },
    );
  }
  if (!tools.bwrap) {
    throw new TypeError("Cannot run a host-program stage without bwrap: it never runs with less");
  }
  // The kernel does not hold root to RLIMIT_NPROC: no use starting prlimit for it.
  const limit = system.prlimit && system.uid !== 0
    ? [system.prlimit, `--nproc=${HOST_STAGE_MAX_TASKS}:${HOST_STAGE_MAX_TASKS}`, "--"]
    : [];
  const env = Object.entries(hostStageEnv(specEnv, options)).flatMap(([k, v]) => [
    "--setenv",
    k,
    v,
  ]);
  const flags = hostBwrapFlags(spec, host, system);
  const seccomp = system.seccomp ? `${host.etcDir}/${SECCOMP_FILE}` : "";
  const argv = [
    tools.bwrap,
    ...(seccomp ? ["--seccomp", "3"] : []),
    ...env,
    ...flags,
    ...limit,
    host.program,
    ...hostStageArgs(spec, spec.args),
  ];
  const wrap = [
    requireShell(system, tools),
    "-c",
    STAGE_WRAPPER,
    "tusk-stage",
    seccomp,
    options.cgroup ?? "",
    String(HOST_STAGE_MAX_TASKS),
  ];
  // bwrap's working folder on the host is "/", which names nothing of the host.
  return { program: wrap[0]!, args: [...wrap.slice(1), ...argv], env: {}, cwd: "/" };
}

function requireShell(system: HostSystem, tools: HostTools): string {
  const shell = system.sh ?? tools.bash;
  if (!shell) throw new TypeError("Cannot put a stage in a cgroup without a shell");
  return shell;
}
