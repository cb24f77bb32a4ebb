/**
 * Datum batching's protocol (Pachyderm's `datumBatching`): one sandboxed process handles
 * many datums. It gets `--batch` and the spec's args, then one JSON line per datum on stdin
 * (`{"datum","args"}`, the args pointing at that datum's inputs and its own out folder) and
 * acknowledges each with a JSON line on stdout (`{"datum","status":"ok"|"error","message"}`).
 * The first datum not yet answered, in order, is the one in progress: its datumTimeout runs
 * from when the one before it was answered (the first's from the start; at the end the
 * process is ended and that datum has failed a try), and the lines printed meanwhile are
 * its logs. A datum answered before its turn ran alongside the one in progress.
 *
 * The protocol is language-neutral: any stage reads lines and writes lines. A stage that is
 * a host program is not given `--batch` (its program would take it as its own option) but
 * `TUSK_DATUM_BATCHING=1` in its environment.
 */
import {
  durationText,
  runStage,
  type Spawner,
  type StageResult,
  StageTimeout,
} from "./run_stage.ts";
import type { OutputFile } from "./harvest.ts";
import { type SandboxMode, stageArgs, type StageInput, type StageSpec } from "./sandbox.ts";
import { type HostStage, hostStageArgs } from "./host_stage.ts";
import type { BatchFolders } from "./workspace.ts";
import { concatBytes } from "../store/fs_util.ts";

/** One datum of a batch: its id (also its out folder's name) and its input folders. */
export interface BatchDatum {
  readonly id: string;
  /** Its inputs' host folders, laid out under the batch's `in` folder. */
  readonly inputs: readonly StageInput[];
}

/** Options of `runStageBatch()`: the stage, the batch's folders and datums, and limits. */
export interface StageBatchOptions {
  readonly bundle: string;
  /** For a stage that is a host program: the program and its code (`bundle` is not used). */
  readonly host?: HostStage | undefined;
  /** The spec's arguments, with Pachyderm's `/pfs/<name>/` and `/pfs/out/` paths. */
  readonly args: readonly string[];
  readonly folders: BatchFolders;
  readonly datums: readonly BatchDatum[];
  readonly mode: SandboxMode;
  readonly env?: Readonly<Record<string, string>> | undefined;
  readonly memoryBytes?: number | undefined;
  readonly defaultMemoryBytes?: number | undefined;
  /** Each datum's datumTimeout, from when it becomes the datum in progress. */
  readonly datumTimeoutMs?: number | undefined;
  /** Ends the process (a job stop or timeout), as `runStage()`'s signal does. */
  readonly signal?: AbortSignal | undefined;
  readonly spawn?: Spawner | undefined;
  /** A datum became the one in progress (or was answered before its turn). */
  readonly onStarted?: ((datum: string) => void) | undefined;
  /** A log line the stage printed while `datum` was in progress. */
  readonly onLog?: ((datum: string, stream: "stdout" | "stderr", line: string) => void) | undefined;
}

/** What the stage made of one datum of the batch. */
export interface DatumAnswer {
  readonly id: string;
  /** The stage worked on it (it was in progress or answered); if not, it used no try. */
  readonly reached: boolean;
  /** From when it was reached to its answer (or the end of the process). */
  readonly durationMs: number;
  /** The stage's acknowledgement, if it gave one. */
  readonly ack?: { readonly status: string; readonly message?: string };
  /** Its datumTimeout ended the process. */
  readonly timedOut: boolean;
  /** The lines printed while it was in progress. */
  readonly stdout: string;
  readonly stderr: string;
  /** Its host out folder. */
  readonly outDir: string;
  /** The files harvested from its out folder, paths relative to it. */
  readonly outputs: readonly OutputFile[];
}

/** How a batched run went: the process's result and an answer per datum, in order. */
export interface StageBatch {
  readonly result: StageResult;
  readonly answers: readonly DatumAnswer[];
}

/** One datum's request and what the session saw of it. */
interface Request {
  readonly id: string;
  readonly line: Uint8Array;
  /** When it became the datum in progress (or was answered, if that came first). */
  startedAt?: number;
  answeredAt?: number;
  ack?: { status: string; message?: string };
  readonly stdout: string[];
  readonly stderr: string[];
}

/** The per-datum clock of one batched process: which datum is in progress, and since when. */
class Session {
  readonly #requests: readonly Request[];
  readonly #byId: ReadonlyMap<string, Request>;
  readonly #timeoutMs: number | undefined;
  readonly #onStarted: ((datum: string) => void) | undefined;
  /** The request whose answer comes next in order: the datum the stage works on. */
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Aborted when the datum in progress times out: the process is ended. */
  readonly stop = new AbortController();
  /** The request whose datumTimeout ended the process. */
  timedOut: Request | null = null;

  constructor(
    requests: readonly Request[],
    timeoutMs: number | undefined,
    onStarted: ((datum: string) => void) | undefined,
  ) {
    this.#requests = requests;
    this.#byId = new Map(requests.map((r) => [r.id, r]));
    this.#timeoutMs = timeoutMs;
    this.#onStarted = onStarted;
  }

  #started(r: Request, at: number): void {
    r.startedAt = at;
    this.#onStarted?.(r.id);
  }

  /** Make the head request the datum in progress: its clock starts now. */
  startHead(): void {
    clearTimeout(this.#timer);
    const r = this.#requests[this.#head];
    if (r === undefined) return;
    this.#started(r, performance.now());
    const ms = this.#timeoutMs;
    if (ms) {
      this.#timer = setTimeout(() => {
        this.timedOut = r;
        this.stop.abort(
          new StageTimeout(`Stage exceeded its datum timeout of ${durationText(ms)}`),
        );
      }, ms);
    }
  }

  /** Take a stdout line that acknowledges a datum; false when it is a log line. */
  answer(line: string): boolean {
    if (!line.startsWith("{")) return false;
    let a: { datum?: unknown; status?: unknown; message?: unknown };
    try {
      a = JSON.parse(line);
    } catch {
      return false;
    }
    if (typeof a?.datum !== "string" || typeof a.status !== "string") return false;
    const r = this.#byId.get(a.datum);
    if (r === undefined) return false;
    if (r.ack) return true; // answered already: the first answer stands
    r.ack = { status: a.status, ...(typeof a.message === "string" ? { message: a.message } : {}) };
    r.answeredAt = performance.now();
    // Answered out of order: it ran alongside the datum in progress.
    if (r.startedAt === undefined) {
      this.#started(r, this.#requests[this.#head]?.startedAt ?? r.answeredAt);
    }
    if (r === this.#requests[this.#head]) {
      while (this.#requests[this.#head]?.ack) this.#head++;
      this.startHead();
    }
    return true;
  }

  /** Keep a log line as the datum in progress's; returns that datum. */
  log(stream: "stdout" | "stderr", line: string): string {
    const r = this.#requests[Math.min(this.#head, this.#requests.length - 1)]!;
    r[stream].push(line);
    return r.id;
  }

  /** Stop the datum clock. */
  close(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Run the stage once on every datum of a batch (the protocol above) and say what became of
 * each. Throws only as `runStage()` does; a batch of no datums runs nothing.
 */
export async function runStageBatch(options: StageBatchOptions): Promise<StageBatch> {
  const { folders } = options;
  const host = options.host;
  const spec: StageSpec = {
    bundle: options.bundle,
    args: host ? options.args : ["--batch", ...options.args],
    inputs: [{ name: "batch", dir: folders.in }],
    outDir: folders.out,
    scratchDir: folders.scratch,
    mode: options.mode,
    env: options.env,
    memoryBytes: options.memoryBytes,
  };
  const utf8 = new TextEncoder();
  const requests: Request[] = options.datums.map((d) => {
    const datumFolders = { inputs: d.inputs, outDir: `${folders.out}/${d.id}` };
    const args = host
      ? hostStageArgs(spec, options.args, datumFolders)
      : stageArgs(spec, options.args, datumFolders);
    const line = utf8.encode(JSON.stringify({ datum: d.id, args }) + "\n");
    return { id: d.id, line, stdout: [], stderr: [] };
  });
  const session = new Session(requests, options.datumTimeoutMs, options.onStarted);
  const signals = [...(options.signal ? [options.signal] : []), session.stop.signal];
  let result: StageResult;
  try {
    result = await runStage({
      ...spec,
      ...(host ? { host, batch: true } : {}),
      outFolders: requests.map((r) => r.id),
      stdin: concatBytes(requests.map((r) => r.line)),
      defaultMemoryBytes: options.defaultMemoryBytes,
      signal: AbortSignal.any(signals),
      harvestAlways: true,
      spawn: options.spawn,
      onStart: () => session.startHead(),
      onProtocolLine: (line) => session.answer(line),
      onLog: (stream, line) => {
        const datum = session.log(stream, line);
        options.onLog?.(datum, stream, line);
      },
    });
  } finally {
    session.close();
  }
  const ended = performance.now();

  /** Harvested files by the datum whose out folder holds them. */
  const byDatum = new Map<string, OutputFile[]>();
  for (const o of result.outputs) {
    const rel = o.path.startsWith("/") ? o.path.slice(1) : o.path;
    const i = rel.indexOf("/");
    if (i < 0) continue;
    const list = byDatum.get(rel.slice(0, i)) ?? [];
    list.push({ path: rel.slice(i), size: o.size });
    byDatum.set(rel.slice(0, i), list);
  }
  const answers = requests.map((r): DatumAnswer => ({
    id: r.id,
    reached: r.startedAt !== undefined,
    durationMs: r.startedAt === undefined
      ? 0
      : Math.max(0, Math.round((r.answeredAt ?? ended) - r.startedAt)),
    ...(r.ack ? { ack: r.ack } : {}),
    timedOut: session.timedOut === r,
    stdout: r.stdout.join("\n"),
    stderr: r.stderr.join("\n"),
    outDir: `${folders.out}/${r.id}`,
    outputs: byDatum.get(r.id) ?? [],
  }));
  return { result, answers };
}
