/**
 * Iris inference stage: `infer.ts <model folder> <attributes folder> <out folder>`
 * (Pachyderm: `/pfs/model/ /pfs/attributes/ /pfs/out/`). Loads model.json (SVM or LDA) and,
 * like the tutorial's pyinfer.py, writes `<out>/<name without extension>` for every file
 * under the attributes folder, one species per line. A file with no rows (empty, or only
 * blank lines) gives an empty output file, so every input has an output to trace back.
 *
 * Datum batching: `infer.ts --batch [spec args…]` reads one JSON request per stdin line,
 * `{"datum":"<id>","args":["<model>","<attributes>","<out>"]}`, does a plain run's work for
 * each, and answers one stdout line per request, `{"datum":"<id>","status":"ok"}` or
 * `{"datum":"<id>","status":"error","message":"…"}`. A bad datum does not stop the others;
 * a model folder is loaded once. Logs go to stderr. The exit code is 0 when every request
 * was answered, 1 when a line was not a request at all (it is reported on stderr).
 */
import { inferFolder, IrisError, loadModel, type Model } from "./iris.ts";

/** One datum of a batch, as tusk sends it. */
export interface BatchRequest {
  readonly datum: string;
  readonly args: readonly [string, string, string];
}

/** The answer to one batch request. */
export type BatchAck =
  | { readonly datum: string; readonly status: "ok" }
  | { readonly datum: string; readonly status: "error"; readonly message: string };

/** Loads each model folder once, keeping what it loaded. */
export class ModelCache {
  readonly #models = new Map<string, Promise<Model>>();

  /** The model in `dir`, loaded on first use; a failed load is not kept. */
  get(dir: string): Promise<Model> {
    let model = this.#models.get(dir);
    if (model === undefined) {
      model = loadModel(dir);
      this.#models.set(dir, model);
      model.catch(() => this.#models.delete(dir));
    }
    return model;
  }
}

/** Do one plain run's work: predict for every attributes file, log one line per output. */
export async function inferDatum(
  args: readonly string[],
  options: { cache?: ModelCache; log?: (line: string) => void } = {},
): Promise<void> {
  const [modelDir, attributesDir, outDir] = args;
  if (args.length !== 3 || !modelDir || !attributesDir || !outDir) {
    throw new IrisError(
      "BAD_REQUEST",
      `Expected 3 arguments <model folder> <attributes folder> <out folder>, got ${
        JSON.stringify(args)
      }`,
      { args },
    );
  }
  const model = await (options.cache ?? new ModelCache()).get(modelDir);
  const written = await inferFolder(model, { attributes: attributesDir, out: outDir });
  for (const w of written) {
    options.log?.(`${w.file} -> ${w.output} (${w.rows} ${w.rows === 1 ? "row" : "rows"})`);
  }
}

/** Parse one request line; throws with the datum id when it can be read. */
export function parseRequest(line: string): BatchRequest {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch {
    throw new IrisError("BAD_REQUEST", `Not a JSON request: ${JSON.stringify(line.slice(0, 200))}`);
  }
  const obj = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof obj.datum !== "string") {
    throw new IrisError("BAD_REQUEST", `Request has no "datum" id: ${line.slice(0, 200)}`);
  }
  const args = obj.args;
  if (!Array.isArray(args) || args.length !== 3 || args.some((a) => typeof a !== "string")) {
    throw new IrisError(
      "BAD_REQUEST",
      `Datum ${JSON.stringify(obj.datum)}: "args" must be 3 folder paths`,
      { datum: obj.datum },
    );
  }
  return { datum: obj.datum, args: args as unknown as BatchRequest["args"] };
}

/** The lines of a byte stream as they arrive (LF or CRLF). */
async function* readLines(input: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of input.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl).replace(/\r$/, "");
      buffer = buffer.slice(nl + 1);
    }
  }
  if (buffer !== "") yield buffer.replace(/\r$/, "");
}

/** Where runBatch() sends acks (one JSON line each) and log lines. */
export interface BatchIo {
  readonly write: (line: string) => Promise<void>;
  readonly log: (line: string) => void;
}

/**
 * Serve batch requests from `input` until it ends, answering each with one JSON line through
 * `io.write`. Returns how many lines were not requests at all (nothing could be answered).
 */
export async function runBatch(input: ReadableStream<Uint8Array>, io: BatchIo): Promise<number> {
  const { write, log } = io;
  const cache = new ModelCache();
  let unanswerable = 0;
  for await (const line of readLines(input)) {
    if (line.trim() === "") continue;
    let request: BatchRequest;
    try {
      request = parseRequest(line);
    } catch (e) {
      const datum = e instanceof IrisError ? e.data.datum : undefined;
      const message = (e as Error).message;
      if (typeof datum === "string") {
        await write(JSON.stringify({ datum, status: "error", message } satisfies BatchAck));
      } else {
        unanswerable++;
        log(`infer: ${message}`);
      }
      continue;
    }
    let ack: BatchAck;
    try {
      await inferDatum(request.args, { cache, log: (l) => log(`${request.datum}: ${l}`) });
      ack = { datum: request.datum, status: "ok" };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      log(`${request.datum}: ${message}`);
      ack = { datum: request.datum, status: "error", message };
    }
    await write(JSON.stringify(ack));
  }
  return unanswerable;
}

async function writeStdout(line: string): Promise<void> {
  const bytes = new TextEncoder().encode(line + "\n");
  for (let done = 0; done < bytes.length;) done += await Deno.stdout.write(bytes.subarray(done));
}

/** Run the stage: a plain run on `[model, attributes, out]`, or `--batch`. */
export async function main(args: readonly string[]): Promise<number> {
  if (args[0] === "--batch") {
    const bad = await runBatch(Deno.stdin.readable, {
      write: writeStdout,
      log: (l) => console.error(l),
    });
    return bad === 0 ? 0 : 1;
  }
  if (args.length !== 3) {
    console.error("Usage: infer.ts <model folder> <attributes folder> <out folder> | --batch");
    return 2;
  }
  try {
    await inferDatum(args, { log: (l) => console.log(l) });
    return 0;
  } catch (e) {
    console.error(`infer: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
