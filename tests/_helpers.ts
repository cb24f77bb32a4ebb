/**
 * Shared test helpers: temporary folders, a fresh store, and running the real `tusk` CLI as
 * a subprocess (the native Deno binary on `main.ts`), capturing its output and exit code.
 */

/** Absolute path of the project root. */
export const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
/** Absolute path of the CLI entry point. */
export const MAIN = `${ROOT}/main.ts`;
/** Permission flags the CLI runs with in tests (never -A). */
export const TUSK_PERMS = [
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-run",
];

/** A temporary folder removed when disposed: `await using dir = await tempDir()`. */
export async function tempDir(prefix = "tusk-test-"): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** The result of one CLI run. */
export interface TuskResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Uint8Array;
}

/** Options of `tusk()`. */
export interface TuskOptions {
  /** Working folder of the process (and INIT_CWD unless `initCwd` is given). */
  readonly cwd?: string;
  /** Store folder, passed as TUSK_STORE. */
  readonly store?: string;
  readonly env?: Record<string, string>;
  readonly stdin?: Uint8Array | string;
  /** Set INIT_CWD as `deno task` does (default: not set). */
  readonly initCwd?: string;
}

/** Run `tusk <args>` as a real subprocess and collect its output. */
export async function tusk(
  args: readonly string[],
  options: TuskOptions = {},
): Promise<TuskResult> {
  const env: Record<string, string> = { NO_COLOR: "1", ...options.env };
  if (options.store) env.TUSK_STORE = options.store;
  if (options.initCwd) env.INIT_CWD = options.initCwd;
  const cmd = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, ...args],
    cwd: options.cwd ?? ROOT,
    env,
    stdin: options.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(
      typeof options.stdin === "string" ? new TextEncoder().encode(options.stdin) : options.stdin,
    );
    await w.close();
  }
  const r = await child.output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
    stdoutBytes: r.stdout,
  };
}

/** Run `tusk` and fail with its stderr when it does not exit 0. */
export async function tuskOk(
  args: readonly string[],
  options: TuskOptions = {},
): Promise<TuskResult> {
  const r = await tusk(args, options);
  if (r.code !== 0) {
    throw new Error(`tusk ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/** A fresh initialised store in a temp folder; `store` is its path for TUSK_STORE. */
export async function tempStore(): Promise<AsyncDisposable & { path: string; store: string }> {
  const dir = await tempDir();
  const store = `${dir.path}/.tusk`;
  await tuskOk(["init"], { store });
  return {
    path: dir.path,
    store,
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/**
 * A fingerprint of a store's files (names, sizes and content hashes), to assert that a
 * failed command changed nothing. Temp files and lock files are left out.
 */
export async function snapshotStore(store: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const lines: string[] = [];
  const walk = async (dir: string, rel: string) => {
    const names: string[] = [];
    for await (const e of Deno.readDir(dir)) names.push(e.name);
    for (const name of names.sort()) {
      const p = `${dir}/${name}`;
      const r = rel ? `${rel}/${name}` : name;
      if (r === "tmp" || r.endsWith(".lock") || r === "lock") continue;
      const st = await Deno.lstat(p);
      if (st.isDirectory) await walk(p, r);
      else {
        const h = createHash("sha256").update(await Deno.readFile(p)).digest("hex");
        lines.push(`${r} ${st.size} ${h}`);
      }
    }
  };
  await walk(store, "");
  return lines.join("\n");
}
