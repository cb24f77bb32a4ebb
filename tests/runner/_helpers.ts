/**
 * Helpers of the runner tests: the sandbox modes that work here, a datum workspace with a
 * secret outside it, the runStage() options of a run in it, the hostile fixtures, and a
 * loopback server in its own process.
 */
import assert from "node:assert/strict";
import { detectSandbox } from "../../lib/runner/detect.ts";
import type { SandboxMode } from "../../lib/runner/sandbox.ts";
import type { RunStageOptions, StageResult } from "../../lib/runner/run_stage.ts";

/** Absolute path of the project root. */
export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
/** Folder of the hostile fixture stages. */
export const HOSTILE = `${ROOT}/tests/fixtures/hostile`;

/** The sandbox modes to test in: deno always, bwrap where it works on this machine. */
export const MODES: readonly SandboxMode[] = (await detectSandbox("auto")).mode === "bwrap"
  ? ["deno", "bwrap"]
  : ["deno"];

/** A datum's host folders, with a secret file and secret modules outside them. */
export interface Workspace extends AsyncDisposable {
  readonly root: string;
  /** Holds input "data" (with a.txt) at `inputDir`. */
  readonly inputDir: string;
  readonly outDir: string;
  readonly scratchDir: string;
  /** `<root>/secret.txt`, outside every folder the stage is given. */
  readonly secretPath: string;
  /** `<root>/secret.js` and `<root>/secret.json`, modules exporting the secret. */
  readonly secretJs: string;
  readonly secretJson: string;
  /** Random bytes that must never reach the stage. */
  readonly secret: string;
}

/** A fresh workspace, removed when disposed: `await using ws = await workspace()`. */
export async function workspace(): Promise<Workspace> {
  const root = await Deno.makeTempDir({ prefix: "tusk-runner-" });
  const secret = `TUSK-SECRET-${crypto.randomUUID()}`;
  const inputDir = `${root}/in/data`;
  await Deno.mkdir(inputDir, { recursive: true });
  await Deno.writeTextFile(`${inputDir}/a.txt`, "alpha\n", { mode: 0o444 });
  await Deno.writeTextFile(`${root}/secret.txt`, secret);
  await Deno.writeTextFile(`${root}/secret.js`, `export default ${JSON.stringify(secret)};\n`);
  await Deno.writeTextFile(`${root}/secret.json`, JSON.stringify(secret));
  return {
    root,
    inputDir,
    outDir: `${root}/out`,
    scratchDir: `${root}/scratch`,
    secretPath: `${root}/secret.txt`,
    secretJs: `${root}/secret.js`,
    secretJson: `${root}/secret.json`,
    secret,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/** What a test picks of a run: the bundle and its arguments, and anything to add or override. */
export type StageRun = Pick<RunStageOptions, "bundle" | "args"> & Partial<RunStageOptions>;

/**
 * runStage() options for `run` in `ws` under sandbox `mode`: input "data" from the
 * workspace, its out and scratch folders, and a 20 s datum timeout.
 */
export function stageOptions(ws: Workspace, mode: SandboxMode, run: StageRun): RunStageOptions {
  return {
    inputs: [{ name: "data", dir: ws.inputDir }],
    outDir: ws.outDir,
    scratchDir: ws.scratchDir,
    mode,
    timeoutMs: 20_000,
    ...run,
  };
}

/** The host path of hostile fixture `name` (a plain-JS stage). */
export function hostile(name: string): string {
  return `${HOSTILE}/${name}.js`;
}

/** Write `code` as a bundle in the workspace and return its path. */
export async function writeBundle(ws: Workspace, code: string, name = "stage.js"): Promise<string> {
  const path = `${ws.root}/${name}`;
  await Deno.writeTextFile(path, code);
  return path;
}

/** Bundle a TypeScript stage with `deno bundle` into `dest`. */
export async function bundle(entry: string, dest: string): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", dest, entry],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

/** Every file under `dir` with its content, for looking for the secret. */
async function allFileText(dir: string): Promise<string> {
  let text = "";
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (e.isFile) text += await Deno.readTextFile(p).catch(() => "");
      else text += `${p} is not a regular file\n`;
    }
  };
  await walk(dir).catch(() => {});
  return text;
}

/**
 * Assert the secret appears nowhere in what the stage left (stdout, stderr, the out and
 * scratch folders), the secret file is unchanged, and the stage got to its end (`done`).
 */
export async function assertContained(
  ws: Workspace,
  result: StageResult,
  options: { finished?: boolean } = {},
): Promise<void> {
  const seen = [result.stdout, result.stderr, result.message, await allFileText(ws.outDir)];
  seen.push(await allFileText(ws.scratchDir));
  for (const text of seen) assert.ok(!text.includes(ws.secret), `secret leaked:\n${text}`);
  assert.equal(await Deno.readTextFile(ws.secretPath), ws.secret, "secret file changed");
  assert.ok(!result.stdout.includes("got:"), `an attempt succeeded:\n${result.stdout}`);
  if (options.finished ?? true) {
    assert.match(
      result.stdout,
      /^done$/m,
      `stage did not finish:\n${result.stdout}\n${result.stderr}`,
    );
    assert.match(result.stdout, /^blocked: /m);
  }
}

/** A loopback server in its own process; `hits` counts the connections it accepted. */
export interface LoopbackServer extends AsyncDisposable {
  readonly port: number;
  hits(): Promise<number>;
}

/** Start the loopback server serving `secret` (needs only --allow-run here). */
export async function loopbackServer(secret: string): Promise<LoopbackServer> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-config",
      "--allow-net=127.0.0.1",
      `${ROOT}/tests/runner/_loopback_server.ts`,
      secret,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  const { promise: portPromise, resolve: resolvePort } = Promise.withResolvers<number>();
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        const m = /^port (\d+)$/.exec(line);
        if (m) resolvePort(Number(m[1]));
      }
    }
  })();
  const port = await portPromise;
  return {
    port,
    async hits() {
      await new Promise((r) => setTimeout(r, 50));
      return lines.filter((l) => l === "hit").length;
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await reading;
    },
  };
}

/**
 * `/proc/<pid>/cmdline` files naming `needle`, found by `grep` (Deno may not read /proc);
 * the needle goes in on stdin so the search itself does not match.
 */
export async function processesMentioning(needle: string): Promise<string[]> {
  const child = new Deno.Command("sh", {
    args: ["-c", "grep -l -a -F -f /dev/stdin /proc/[0-9]*/cmdline 2>/dev/null || true"],
    stdin: "piped",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(needle + "\n"));
  await writer.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l !== "");
}
