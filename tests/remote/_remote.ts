/**
 * Helpers of the remote tests: the real CLI with the network permission S3 remotes need,
 * the test S3 server (`_s3_server.ts`) started on 127.0.0.1 for a test and stopped after it,
 * and a look at a remote's own files.
 */
import { MAIN, ROOT, TUSK_PERMS, type TuskResult } from "../_helpers.ts";

/** The CLI's permissions, as the `tusk` task grants them (S3 remotes need the network). */
export const NET_PERMS = [...TUSK_PERMS, "--allow-net"];

/** Options of `rtusk()`. */
export interface RunOptions {
  readonly store?: string;
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly stdin?: string;
}

/** Run `tusk <args>` with the network permission; TUSK_STORE only when `store` is given. */
export async function rtusk(args: readonly string[], o: RunOptions = {}): Promise<TuskResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...NET_PERMS, MAIN, ...args],
    cwd: o.cwd ?? ROOT,
    env: { NO_COLOR: "1", INIT_CWD: "", TUSK_STORE: o.store ?? "", ...o.env },
    stdin: o.stdin !== undefined ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (o.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(o.stdin));
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

/** `rtusk()`, failing with its output unless it exits 0. */
export async function rok(args: readonly string[], o: RunOptions = {}): Promise<TuskResult> {
  const r = await rtusk(args, o);
  if (r.code !== 0) {
    throw new Error(`tusk ${args.join(" ")} exited ${r.code}:\n${r.stderr}${r.stdout}`);
  }
  return r;
}

/** `rok()` with `--json` appended, parsed. */
export async function rjson<T>(args: readonly string[], o: RunOptions = {}): Promise<T> {
  return JSON.parse((await rok([...args, "--json"], o)).stdout) as T;
}

/** The test S3 server, running. */
export interface S3Server extends AsyncDisposable {
  readonly port: number;
  readonly endpoint: string;
  /** The folder holding its buckets (`<root>/<bucket>/<key>`). */
  readonly root: string;
  readonly bucket: string;
  /** The AWS environment that reaches it with the right credentials. */
  readonly env: Record<string, string>;
  /** Requests it has answered so far. */
  requests(): Promise<number>;
}

/**
 * Start the test S3 server with files under `root` (`hang`: one that never answers;
 * `ignoreConditions`: one that ignores `If-None-Match`).
 */
export async function startS3(
  root: string,
  options: { bucket?: string; hang?: boolean; ignoreConditions?: boolean } = {},
): Promise<S3Server> {
  const bucket = options.bucket ?? "tusk-test";
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--allow-net=127.0.0.1",
      `--allow-read=${root}`,
      `--allow-write=${root}`,
      `${ROOT}/tests/remote/_s3_server.ts`,
      "--root",
      root,
      "--bucket",
      bucket,
      "--key",
      "tusk-test-key",
      "--secret",
      "tusk-test-secret",
      ...(options.hang ? ["--hang"] : []),
      ...(options.ignoreConditions ? ["--ignore-conditions"] : []),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await Deno.mkdir(root, { recursive: true });
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/port \d+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error("The test S3 server did not start");
    text += value;
  }
  const port = Number(/port (\d+)/.exec(text)![1]);
  // Keep draining its output so it never blocks on a full pipe.
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    port,
    endpoint,
    root,
    bucket,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: "tusk-test-key",
      AWS_SECRET_ACCESS_KEY: "tusk-test-secret",
      AWS_REGION: "us-east-1",
      AWS_CONFIG_FILE: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    },
    async requests() {
      try {
        return (await Deno.readTextFile(`${root}/requests`)).split("\n").filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Gone already.
      }
      await child.status;
    },
  };
}

/** Every file under `dir` (relative paths), sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, rel: string) => {
    for await (const e of Deno.readDir(d)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(`${d}/${e.name}`, r);
      else out.push(r);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** A fingerprint of a remote folder's files (names and contents), temp files left out. */
export async function snapshotRemote(dir: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const lines: string[] = [];
  for (const f of await filesUnder(dir)) {
    if (f.startsWith("tmp/")) continue;
    lines.push(
      `${f} ${createHash("sha256").update(await Deno.readFile(`${dir}/${f}`)).digest("hex")}`,
    );
  }
  return lines.join("\n");
}

/** Flip one byte of `path` at `offset` (from the end when negative). */
export async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await Deno.readFile(path);
  const at = offset < 0 ? bytes.length + offset : offset;
  bytes[at] = bytes[at]! ^ 0xff;
  await Deno.writeFile(path, bytes);
}

/** The stage fixtures folder. */
export const STAGES = `${ROOT}/tests/fixtures/stages`;
