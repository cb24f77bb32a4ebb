/**
 * Helpers of the host-program runner tests: whether bwrap can run host programs here, a
 * stage's code and `/etc` folders beside a datum workspace, the runStage() options of a
 * host-program run, and the host-side network listeners of the hostile tests.
 */
import { trialProgram } from "../../lib/runner/host_program.ts";
import { type HostStage, writeSandboxEtc } from "../../lib/runner/host_stage.ts";
import type { RunStageOptions } from "../../lib/runner/run_stage.ts";
import { ROOT, type Workspace } from "./_helpers.ts";

/** Folder of the hostile host-program fixtures. */
export const HOSTILE_HOST = `${ROOT}/tests/fixtures/hostile-host`;

/** Debian's Python, with scikit-learn and pandas. */
export const PYTHON = "/usr/bin/python3";
/** The POSIX shell. */
export const SH = "/bin/sh";

/** Does bwrap run host programs here (the trial `create pipeline` makes)? */
export const HOST_SANDBOX: boolean = (await trialProgram(SH)).ok;

/**
 * Make `<ws.root>/code` holding `files` (name → text), and `<ws.root>/etc`; returns the
 * HostStage running `program` on them.
 */
export async function hostCode(
  ws: Workspace,
  program: string,
  files: Readonly<Record<string, string>>,
  options: { workingDir?: string } = {},
): Promise<HostStage> {
  const codeDir = `${ws.root}/code`;
  await Deno.mkdir(codeDir, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(`${codeDir}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(`${codeDir}/${name}`, text, { mode: 0o555 });
  }
  const etcDir = `${ws.root}/etc`;
  await writeSandboxEtc(etcDir);
  return { program, codeDir, etcDir, ...options };
}

/** Copy hostile fixtures `names` into the workspace's code folder. */
export async function hostileCode(
  ws: Workspace,
  program: string,
  names: readonly string[],
): Promise<HostStage> {
  const files: Record<string, string> = {};
  for (const n of names) files[n] = await Deno.readTextFile(`${HOSTILE_HOST}/${n}`);
  return await hostCode(ws, program, files);
}

/**
 * runStage() options for a host-program run in `ws`: input "data" from the workspace, its
 * out and scratch folders, bwrap mode and a 60 s datum timeout.
 */
export function hostOptions(
  ws: Workspace,
  host: HostStage,
  args: readonly string[],
  extra: Partial<RunStageOptions> = {},
): RunStageOptions {
  return {
    bundle: "",
    host,
    args,
    inputs: [{ name: "data", dir: ws.inputDir }],
    outDir: ws.outDir,
    scratchDir: ws.scratchDir,
    mode: "bwrap",
    timeoutMs: 60_000,
    ...extra,
  };
}

/** The host's listeners (TCP, UDP, unix socket by path and abstract), each answering the secret. */
export interface NetListeners extends AsyncDisposable {
  readonly tcp: number;
  readonly udp: number;
  readonly path: string;
  readonly abstract: string;
  /** The kinds of listener reached so far. */
  hits(): Promise<string[]>;
}

/** Start the host's listeners (`_net_listener.py`), the socket file in `folder`. */
export async function netListeners(secret: string, folder: string): Promise<NetListeners> {
  const child = new Deno.Command(PYTHON, {
    args: [`${ROOT}/tests/runner/_net_listener.py`, secret, folder],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const lines: string[] = [];
  const { promise, resolve } = Promise.withResolvers<string[]>();
  const reading = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        if (line.startsWith("ready ")) resolve(line.split(" ").slice(1));
      }
    }
  })();
  const [tcp, udp, path, abstract] = await promise;
  return {
    tcp: Number(tcp),
    udp: Number(udp),
    path: path!,
    abstract: abstract!,
    async hits() {
      await new Promise((r) => setTimeout(r, 100));
      return lines.filter((l) => l.startsWith("hit ")).map((l) => l.slice(4));
    },
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await reading;
    },
  };
}
