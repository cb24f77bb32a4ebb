/**
 * Training parameters: the `params.json` of a parameters folder (a pipeline's
 * `/pfs/parameters/`), a JSON object with any of
 *   "model": "svm" or "lda", the kind of model (default: the stage's own kind);
 *   "C": a finite number > 0, the SVM's regularisation (default 1; SVM only).
 * Only params.json is read: a folder without one gives the defaults. Anything else in the
 * file (another key, another type, JSON that is not an object) is refused, naming the key.
 */
import { decodeText, IrisError } from "./iris.ts";

/** The name of the parameters file in the parameters folder. */
export const PARAMS_FILE = "params.json";

/** The kinds of model the training stages fit. */
export const MODEL_KINDS = ["svm", "lda"] as const;

/** A kind of model. */
export type ModelKind = typeof MODEL_KINDS[number];

/** What params.json asks for; an absent key takes the default. */
export interface Params {
  readonly model?: ModelKind;
  readonly C?: number;
}

/** The settings of one fit: params.json over the defaults. */
export type TrainSettings =
  | { readonly model: "svm"; readonly C: number }
  | { readonly model: "lda" };

/** The SVM's C when params.json gives none (scikit-learn's default). */
export const DEFAULT_C = 1;

const KEYS = ["model", "C"] as const;

function bad(message: string, key?: string): IrisError {
  return new IrisError("BAD_PARAMS", `${PARAMS_FILE}: ${message}`, {
    file: PARAMS_FILE,
    ...(key === undefined ? {} : { key }),
  });
}

function describe(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return JSON.stringify(value);
}

/** Parse and check the text of params.json. */
export function parseParams(text: string): Params {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON (${(e as Error).message})`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw bad(`expected a JSON object such as {"C": 0.1}, got ${describe(doc)}`);
  }
  const record = doc as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if ((KEYS as readonly string[]).includes(key)) continue;
    const near = KEYS.find((k) => k.toLowerCase() === key.toLowerCase());
    throw bad(
      `unknown key "${key}": ${near ? `did you mean "${near}"?` : `the keys are "model" and "C"`}`,
      key,
    );
  }
  const params: { model?: ModelKind; C?: number } = {};
  if ("model" in record) {
    const model = record.model;
    if (typeof model !== "string" || !(MODEL_KINDS as readonly string[]).includes(model)) {
      throw bad(`"model" must be "svm" or "lda", got ${describe(model)}`, "model");
    }
    params.model = model as ModelKind;
  }
  if ("C" in record) {
    const c = record.C;
    if (typeof c !== "number" || !Number.isFinite(c) || c <= 0) {
      throw bad(`"C" must be a finite number greater than 0, got ${describe(c)}`, "C");
    }
    params.C = c;
  }
  return params;
}

/**
 * Read `<dir>/params.json`; a folder without one gives no parameters. A `dir` that is not
 * a folder fails, naming it.
 */
export async function readParams(dir: string): Promise<Params> {
  const folder = dir.replace(/(.)\/+$/, "$1");
  const info = await Deno.stat(folder).catch((e) => {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  });
  if (!info?.isDirectory) {
    throw new IrisError(
      "BAD_PARAMS",
      `Cannot read parameters from "${folder}": ${info ? "not a folder" : "no such folder"}; ` +
        `pass the folder that holds ${PARAMS_FILE}`,
      { dir: folder },
    );
  }
  const path = `${folder === "/" ? "" : folder}/${PARAMS_FILE}`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    if (e instanceof Deno.errors.IsADirectory) throw bad("is a folder, not a file");
    throw e;
  }
  let text: string;
  try {
    text = decodeText(bytes, PARAMS_FILE);
  } catch {
    throw bad("not UTF-8 text");
  }
  return parseParams(text);
}

/** The settings of a fit: `params` over the defaults of a stage whose own kind is `model`. */
export function settingsOf(params: Params, model: ModelKind): TrainSettings {
  const kind = params.model ?? model;
  if (kind === "svm") return { model: "svm", C: params.C ?? DEFAULT_C };
  if (params.C !== undefined) {
    throw bad(`"C" applies to the svm model only, not lda: remove it, or set "model": "svm"`, "C");
  }
  return { model: "lda" };
}
