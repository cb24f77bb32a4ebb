/**
 * `deno task install`: install the `tusk` command with `deno install -g`, then make it start
 * the Deno that ran the install by its absolute path, so that it works where no `deno` is on
 * PATH (Deno from npm: `npx -y deno@2.9.6 task install`). The command runs `main.ts` with the
 * permissions and V8 flags of the `tusk` task (`tusk up` with the `up` task's V8 flags and the
 * environment it sets), never `-A`. It lands in `DIR/bin/tusk` for `--root DIR`, else
 * `$DENO_INSTALL_ROOT/bin`, else `~/.deno/bin`; the script says where, and what to add to PATH
 * when that folder is not on it.
 */
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** A problem with the command line (exit 2) or with the install itself (exit 1). */
export class InstallError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

/** The Deno flags of the `tusk` task (`deno run <flags> main.ts`): the installed command's. */
export function taskFlags(config: { tasks?: Record<string, unknown> }): string[] {
  const words = taskWords(config, "tusk");
  if (words[0] !== "deno" || words[1] !== "run" || words.at(-1) !== "main.ts") {
    throw new InstallError('deno.json\'s "tusk" task is not "deno run <flags> main.ts"', 1);
  }
  const flags = words.slice(2, -1);
  if (flags.some((f) => f === "-A" || f === "--allow-all")) {
    throw new InstallError('deno.json\'s "tusk" task grants -A: refusing to install it', 1);
  }
  return flags;
}

/** The install root: `--root DIR` from `args`, else `$DENO_INSTALL_ROOT`, else `$HOME/.deno`. */
export function installRoot(args: readonly string[], env: (name: string) => string | undefined) {
  let root: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--root" && args[i + 1] !== undefined) root = args[++i];
    else if (a.startsWith("--root=")) root = a.slice("--root=".length);
    else {
      throw new InstallError(`Unknown argument "${a}": deno task install takes --root DIR`, 2);
    }
  }
  if (root === "") throw new InstallError('Invalid --root "": give a folder', 2);
  root ??= env("DENO_INSTALL_ROOT") || undefined;
  if (root === undefined) {
    const home = env("HOME");
    if (!home) {
      throw new InstallError("Neither HOME nor DENO_INSTALL_ROOT is set: pass --root DIR", 2);
    }
    root = `${home}/.deno`;
  }
  const cwd = env("INIT_CWD") || Deno.cwd();
  return (root.startsWith("/") ? root : `${cwd}/${root}`).replace(/\/+$/, "");
}

/** `text` quoted for a POSIX shell. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * The shim `deno install -g` wrote, made to run the Deno at `denoPath` instead of whichever
 * `deno` is first on PATH when it runs.
 */
export function pinDeno(shim: string, denoPath: string): string {
  const lines = shim.split("\n");
  const i = lines.findIndex((l) => l.startsWith("exec deno "));
  if (i < 0 || lines.filter((l) => l.startsWith("exec ")).length !== 1) {
    throw new InstallError(
      `The command "deno install" wrote is not the expected shell script:\n${shim}`,
      1,
    );
  }
  lines[i] = `exec ${shellQuote(denoPath)} ${lines[i]!.slice("exec deno ".length)}`;
  return lines.join("\n");
}

/** The `--v8-flags=…` word of task `name` (`deno run <flags> main.ts …`), if it has one. */
export function taskV8Flag(
  config: { tasks?: Record<string, unknown> },
  name: string,
): string | undefined {
  return taskWords(config, name).find((w) => w.startsWith("--v8-flags="));
}

/**
 * The `NAME=value` words task `name`'s command starts with: the environment it sets for
 * `deno run` (the `up` task's malloc settings).
 */
export function taskEnv(config: { tasks?: Record<string, unknown> }, name: string): string[] {
  const words = taskWords(config, name);
  const end = words.findIndex((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
  return end < 0 ? words : words.slice(0, end);
}

/** The words of task `name`'s command in deno.json (a string, or `{ command }`); none if none. */
function taskWords(config: { tasks?: Record<string, unknown> }, name: string): string[] {
  const task = config.tasks?.[name];
  const command = typeof task === "string"
    ? task
    : (task as { command?: unknown } | undefined)?.command;
  return typeof command === "string" ? command.trim().split(/\s+/) : [];
}

/**
 * The pinned shim made to run `tusk up` (its first word `up`) with the `up` task's V8 flag
 * `upV8` and environment `upEnv` (`NAME=value` words), and every other command with the `tusk`
 * task's `tuskV8`: the dashboard runs with a smaller young generation (and one malloc arena)
 * than the commands that move data. Unchanged when the flags are equal and `upEnv` is empty.
 */
export function upFlags(
  shim: string,
  tuskV8: string,
  upV8: string,
  upEnv: readonly string[] = [],
): string {
  if (tuskV8 === upV8 && upEnv.length === 0) return shim;
  const lines = shim.split("\n");
  const i = lines.findIndex((l) => l.startsWith("exec "));
  const words = lines[i]?.split(" ") ?? [];
  if (i < 0 || words.filter((w) => w === tuskV8).length !== 1) {
    throw new InstallError(
      `The command "deno install" wrote does not pass ${tuskV8} once:\n${shim}`,
      1,
    );
  }
  lines[i] = words.map((w) => w === tuskV8 ? '"$v8"' : w).join(" ");
  const exports = upEnv.length === 0 ? "" : `; export ${
    upEnv.map((w) => {
      const at = w.indexOf("=");
      return `${w.slice(0, at)}=${shellQuote(w.slice(at + 1))}`;
    }).join(" ")
  }`;
  lines.splice(
    i,
    0,
    `case "$1" in up) v8=${shellQuote(upV8)}${exports} ;; *) v8=${shellQuote(tuskV8)} ;; esac`,
  );
  return lines.join("\n");
}

async function install(args: readonly string[]): Promise<string> {
  const root = installRoot(args, (name) => Deno.env.get(name));
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const flags = taskFlags(config);
  const deno = Deno.execPath();
  const r = await new Deno.Command(deno, {
    args: [
      "install",
      "-g",
      "-f",
      "-n",
      "tusk",
      "--root",
      root,
      ...flags,
      "--config",
      `${ROOT}/deno.json`,
      `${ROOT}/main.ts`,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (r.code !== 0) {
    const dec = new TextDecoder();
    throw new InstallError(
      `deno install failed (exit ${r.code}):\n${dec.decode(r.stdout)}${dec.decode(r.stderr)}`,
      1,
    );
  }
  const shim = `${root}/bin/tusk`;
  let pinned = pinDeno(await Deno.readTextFile(shim), deno);
  const [tuskV8, upV8] = [taskV8Flag(config, "tusk"), taskV8Flag(config, "up")];
  if (tuskV8 !== undefined && upV8 !== undefined) {
    pinned = upFlags(pinned, tuskV8, upV8, taskEnv(config, "up"));
  }
  const tmp = `${shim}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, pinned, { mode: 0o755 });
  await Deno.chmod(tmp, 0o755);
  await Deno.rename(tmp, shim);

  const bin = `${root}/bin`;
  let text = `Installed tusk: ${shim}\nIt runs the Deno that installed it: ${deno}\n`;
  if (deno.includes("/_npx/")) {
    text += "That Deno lives in npm's npx cache: if the cache is cleared, install again.\n";
  }
  const path = (Deno.env.get("PATH") ?? "").split(":");
  if (!path.includes(bin)) {
    text += `${bin} is not on your PATH: add it, e.g. in ~/.bashrc or ~/.zshrc:\n` +
      `  export PATH="${bin}:$PATH"\n`;
  }
  return text;
}

if (import.meta.main) {
  try {
    console.log((await install(Deno.args)).trimEnd());
  } catch (e) {
    if (!(e instanceof InstallError)) throw e;
    console.error(`install: ${e.message}`);
    Deno.exit(e.exitCode);
  }
}
