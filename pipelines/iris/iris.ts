/**
 * Shared code of the iris stages: CSV rows, the model file (an SVM or an LDA, plain data),
 * prediction, and inference over a folder of attribute files. Self-contained on purpose:
 * stage scripts run sandboxed from a bundle and import nothing from tusk's `lib/`.
 */

/** The four measurements of an iris, in file column order. */
export const FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"] as const;

/** Version of the model.json layout; loading refuses any other. */
export const MODEL_SCHEMA = 1;

/**
 * Versions of the npm packages the stages' numbers come from (the pins in the project's
 * import map): ml-matrix runs the LDA. The SVM uses none: its solver is smo.ts.
 */
export const VERSIONS = { "ml-matrix": "6.15.1" } as const;

/** Error codes of the iris stages, stable for callers and tests. */
export type IrisErrorCode =
  | "BAD_ROW"
  | "BAD_PARAMS"
  | "BAD_MODEL"
  | "NO_TRAINING_DATA"
  | "TRAINING_FAILED"
  | "OUTPUT_CONFLICT"
  | "BAD_REQUEST";

/** A failure of an iris stage: a stable `code`, the values it is about in `data`. */
export class IrisError extends Error {
  /** Stable code of the condition. */
  readonly code: IrisErrorCode;
  /** The values the error is about (file, line, path…). */
  readonly data: Readonly<Record<string, unknown>>;

  constructor(code: IrisErrorCode, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = "IrisError";
    this.code = code;
    this.data = data;
  }
}

/** Training rows: the four measurements and the species of each. */
export interface TrainingSet {
  readonly x: number[][];
  readonly y: string[];
}

/** Fitted linear SVM for one pair of classes: decision > 0 votes `classes[0]`, else `[1]`. */
export interface SvmPair {
  /** Indices into the model's `classes`, lower first (as libsvm and scikit-learn). */
  readonly classes: [number, number];
  readonly weights: number[];
  readonly bias: number;
  /**
   * Row numbers (0-based, over all training files in name order) of the support vectors:
   * those of `classes[0]`, then those of `classes[1]`.
   */
  readonly supportVectors: number[];
  /** SMO steps the fit took. */
  readonly iterations: number;
}

/** Fields every model.json has. */
interface ModelBase {
  readonly schema: typeof MODEL_SCHEMA;
  readonly features: string[];
  readonly classes: string[];
  readonly trainingRows: number;
  readonly trainingAccuracy: number;
  readonly versions: Record<string, string>;
}

/** A one-vs-one linear SVM (LIBSVM's SMO, smo.ts), saved as plain numbers. */
export interface SvmModel extends ModelBase {
  readonly kind: "svm";
  readonly params: {
    readonly C: number;
    readonly kernel: "linear";
    readonly tol: number;
    readonly maxIterations: number;
  };
  /** How the pairs were fitted, for readers of model.json. */
  readonly solver: string;
  readonly pairs: SvmPair[];
}

/** Linear discriminant analysis (scikit-learn's svd solver), saved as plain numbers. */
export interface LdaModel extends ModelBase {
  readonly kind: "lda";
  readonly priors: number[];
  readonly means: number[][];
  /** Per class: score = coef · x + intercept; the highest score wins. */
  readonly coef: number[][];
  readonly intercept: number[];
  readonly scalings: number[][];
}

/** Any model an iris training stage writes. */
export type Model = SvmModel | LdaModel;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Decode a file's bytes as UTF-8 (a leading BOM dropped), naming the file if it is not. */
export function decodeText(bytes: Uint8Array, file: string): string {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new IrisError("BAD_ROW", `${file}: not UTF-8 text`, { file });
  }
  return text.startsWith("\ufeff") ? text.slice(1) : text;
}

/** The non-blank lines of a text with their 1-based line numbers; LF or CRLF. */
function* lines(text: string): Generator<[number, string]> {
  const all = text.split("\n");
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.endsWith("\r") ? all[i]!.slice(0, -1) : all[i]!;
    if (line.trim() !== "") yield [i + 1, line];
  }
}

function numbers(fields: string[], file: string, line: number): number[] {
  return fields.map((field, i) => {
    const value = Number(field);
    if (!NUMBER.test(field) || !Number.isFinite(value)) {
      throw new IrisError(
        "BAD_ROW",
        `${file} line ${line}: expected 4 numbers, got "${field}" in column ${i + 1}`,
        { file, line, column: i + 1 },
      );
    }
    return value;
  });
}

/**
 * Parse attribute rows (4 numbers each, no header). Blank lines are skipped; `file` names
 * the file in error messages ("2.csv line 3: expected 4 numbers, got 3").
 */
export function parseAttributes(text: string, file: string): number[][] {
  const rows: number[][] = [];
  for (const [line, content] of lines(text)) {
    const fields = content.split(",").map((f) => f.trim());
    if (fields.length !== FEATURES.length) {
      throw new IrisError(
        "BAD_ROW",
        `${file} line ${line}: expected 4 numbers, got ${fields.length}`,
        { file, line, fields: fields.length },
      );
    }
    rows.push(numbers(fields, file, line));
  }
  return rows;
}

/** Attribute rows packed four numbers per row in one array, for large files. */
export interface PackedRows {
  /** Row `r`'s measurements are `values[4 * r]` to `values[4 * r + 3]`. */
  readonly values: Float64Array;
  readonly count: number;
}

/** Powers of ten that are exact doubles: a decimal of at most 15 digits divides exactly. */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);
const MAX_FAST_DIGITS = 15;

/**
 * Read the plain form `5.1,3.5,1.4,0.2` (LF or CRLF, empty lines skipped) straight from the
 * bytes, with no string per line or field; null at the first byte outside that form. A
 * value of at most 15 digits is an exact integer over an exact power of ten, so the one
 * division rounds exactly as `Number()` does.
 */
function fastRows(bytes: Uint8Array): PackedRows | null {
  const n = bytes.length;
  let values = new Float64Array(Math.max(64, Math.ceil(n / 4)));
  let count = 0;
  let i = 0;
  while (i < n) {
    let c = bytes[i]!;
    if (c === 10) {
      i++;
      continue;
    }
    if (c === 13 && bytes[i + 1] === 10) {
      i += 2;
      continue;
    }
    if (4 * count + 4 > values.length) {
      const grown = new Float64Array(values.length * 2);
      grown.set(values);
      values = grown;
    }
    for (let f = 0; f < 4; f++) {
      const negative = c === 45;
      if (negative) c = bytes[++i] ?? 0;
      let mantissa = 0;
      let digits = 0;
      let decimals = 0;
      while (c >= 48 && c <= 57) {
        mantissa = mantissa * 10 + (c - 48);
        digits++;
        c = bytes[++i] ?? 0;
      }
      if (digits === 0) return null;
      if (c === 46) {
        c = bytes[++i] ?? 0;
        while (c >= 48 && c <= 57) {
          mantissa = mantissa * 10 + (c - 48);
          digits++;
          decimals++;
          c = bytes[++i] ?? 0;
        }
        if (decimals === 0) return null;
      }
      if (digits > MAX_FAST_DIGITS) return null;
      const value = decimals === 0 ? mantissa : mantissa / POW10[decimals]!;
      values[4 * count + f] = negative ? -value : value;
      if (f < 3) {
        if (c !== 44) return null;
        c = bytes[++i] ?? 0;
      }
    }
    if (c === 13) c = bytes[++i] ?? 0;
    if (i < n) {
      if (c !== 10) return null;
      i++;
    }
    count++;
  }
  return { values: values.subarray(0, 4 * count), count };
}

/**
 * The rows of an attributes file's bytes, packed: what `parseAttributes()` gives for the
 * decoded text, with its errors. Plain rows are read by a fast path; a file with any other
 * line (spaces, exponents, a byte order mark, a bad row) is parsed by `parseAttributes()`.
 */
export function readAttributes(bytes: Uint8Array, file: string): PackedRows {
  const fast = fastRows(bytes);
  if (fast) return fast;
  const rows = parseAttributes(decodeText(bytes, file), file);
  const values = new Float64Array(rows.length * 4);
  rows.forEach((row, r) => values.set(row, 4 * r));
  return { values, count: rows.length };
}

/** Parse training rows (4 numbers and a species each, no header); blank lines are skipped. */
export function parseTraining(text: string, file: string): TrainingSet {
  const x: number[][] = [];
  const y: string[] = [];
  for (const [line, content] of lines(text)) {
    const fields = content.split(",").map((f) => f.trim());
    if (fields.length !== FEATURES.length + 1 || fields[4] === "") {
      throw new IrisError(
        "BAD_ROW",
        `${file} line ${line}: expected 4 numbers and a species, got ${fields.length} fields`,
        { file, line, fields: fields.length },
      );
    }
    x.push(numbers(fields.slice(0, 4), file, line));
    y.push(fields[4]!);
  }
  return { x, y };
}

async function isFile(path: string, entry: Deno.DirEntry): Promise<boolean> {
  return entry.isFile || (entry.isSymlink && (await Deno.stat(path)).isFile);
}

/**
 * Read every `*.csv` directly in `dir` (other files and folders, e.g. a cron tick, are
 * ignored), in name order, as one training set.
 */
export async function readTrainingSet(dir: string): Promise<TrainingSet> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.endsWith(".csv") && await isFile(`${dir}/${entry.name}`, entry)) {
      names.push(entry.name);
    }
  }
  names.sort();
  const x: number[][] = [];
  const y: string[] = [];
  for (const name of names) {
    const set = parseTraining(decodeText(await Deno.readFile(`${dir}/${name}`), name), name);
    x.push(...set.x);
    y.push(...set.y);
  }
  if (x.length === 0) {
    throw new IrisError(
      "NO_TRAINING_DATA",
      `No training rows in "${dir}": put a *.csv of "${FEATURES.join(",")},species" rows there`,
      { dir, files: names },
    );
  }
  return { x, y };
}

/** The distinct labels, sorted (as scikit-learn's `classes_`); at least two are needed. */
export function classesOf(y: readonly string[]): string[] {
  const classes = [...new Set(y)].sort();
  if (classes.length < 2) {
    throw new IrisError(
      "NO_TRAINING_DATA",
      `Cannot train on ${classes.length} species (${JSON.stringify(classes)}): need at least 2`,
      { classes },
    );
  }
  return classes;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** Index of the first maximum (ties go to the lowest index, as libsvm and numpy). */
function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The species a model predicts for each row. */
export function predict(model: Model, rows: readonly number[][]): string[] {
  return rows.map((row) => {
    if (model.kind === "lda") {
      return model.classes[argmax(model.coef.map((c, k) => dot(c, row) + model.intercept[k]!))]!;
    }
    const votes = new Array<number>(model.classes.length).fill(0);
    for (const pair of model.pairs) {
      const winner = dot(pair.weights, row) + pair.bias > 0 ? pair.classes[0] : pair.classes[1];
      votes[winner]!++;
    }
    return model.classes[argmax(votes)]!;
  });
}

/**
 * The index into `model.classes` predicted for each packed row: the same arithmetic, in
 * the same order, as `predict()`, without an array per row.
 */
export function predictIndices(model: Model, rows: PackedRows): Uint32Array {
  const out = new Uint32Array(rows.count);
  const v = rows.values;
  const k = model.classes.length;
  const dot4 = (w: readonly number[], at: number): number => {
    let sum = 0;
    for (let j = 0; j < 4; j++) sum += w[j]! * v[at + j]!;
    return sum;
  };
  const votes = new Array<number>(k);
  for (let r = 0; r < rows.count; r++) {
    const at = 4 * r;
    let best = 0;
    if (model.kind === "lda") {
      let bestScore = -Infinity;
      for (let c = 0; c < k; c++) {
        const score = dot4(model.coef[c]!, at) + model.intercept[c]!;
        if (c === 0 || score > bestScore) {
          best = c;
          bestScore = score;
        }
      }
    } else {
      votes.fill(0);
      for (const pair of model.pairs) {
        const winner = dot4(pair.weights, at) + pair.bias > 0 ? pair.classes[0] : pair.classes[1];
        votes[winner]!++;
      }
      for (let c = 1; c < k; c++) if (votes[c]! > votes[best]!) best = c;
    }
    out[r] = best;
  }
  return out;
}

/** One species per line for predicted class indices, as UTF-8 bytes. */
export function encodePredictions(model: Model, indices: Uint32Array): Uint8Array {
  const names = model.classes.map((c) => new TextEncoder().encode(c + "\n"));
  let size = 0;
  for (const i of indices) size += names[i]!.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const i of indices) {
    out.set(names[i]!, at);
    at += names[i]!.length;
  }
  return out;
}

/** Fraction of rows whose prediction equals the label. */
export function accuracy(predicted: readonly string[], actual: readonly string[]): number {
  let hits = 0;
  for (let i = 0; i < actual.length; i++) if (predicted[i] === actual[i]) hits++;
  return actual.length === 0 ? 0 : hits / actual.length;
}

/** The exact bytes of model.json for a model (stable key order, newline-terminated). */
export function encodeModel(model: Model): string {
  return JSON.stringify(model, null, 2) + "\n";
}

/** Write model.json and model.txt (the human summary) into `outDir`. */
export async function writeModel(
  outDir: string,
  files: { model: Model; summary: string },
): Promise<void> {
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.writeTextFile(`${outDir}/model.json`, encodeModel(files.model));
  await Deno.writeTextFile(`${outDir}/model.txt`, files.summary);
}

/** The lines of model.txt after the estimator's repr: classes and training accuracy. */
export function summaryTail(model: Model): string {
  const hits = Math.round(model.trainingAccuracy * model.trainingRows);
  return [
    `classes: ${model.classes.join(", ")}`,
    `features: ${model.features.join(", ")}`,
    `training accuracy: ${model.trainingAccuracy.toFixed(4)} (${hits}/${model.trainingRows})`,
    ...(Object.keys(model.versions).length === 0 ? [] : [
      `libraries: ${Object.entries(model.versions).map(([k, v]) => `${k}@${v}`).join(", ")}`,
    ]),
  ].join("\n") + "\n";
}

// ---- loading and validating model.json ----

type Json = unknown;

class Invalid extends Error {}

function isRecord(v: Json): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function field(obj: Record<string, Json>, key: string, where: string): Json {
  if (!(key in obj)) throw new Invalid(`${where}${key} is missing`);
  return obj[key];
}

function finite(v: Json, where: string): number {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new Invalid(`${where} is not a number`);
  return v;
}

function vector(v: Json, length: number, where: string): number[] {
  if (!Array.isArray(v) || v.length !== length) {
    throw new Invalid(`${where} is not a list of ${length} numbers`);
  }
  return v.map((e, i) => finite(e, `${where}[${i}]`));
}

function matrix(v: Json, rows: number, cols: number, where: string): number[][] {
  if (!Array.isArray(v) || v.length !== rows) {
    throw new Invalid(`${where} does not have ${rows} rows`);
  }
  return v.map((row, i) => vector(row, cols, `${where}[${i}]`));
}

function strings(v: Json, where: string): string[] {
  if (!Array.isArray(v) || v.some((s) => typeof s !== "string" || s === "")) {
    throw new Invalid(`${where} is not a list of names`);
  }
  return v as string[];
}

function validate(doc: Json): Model {
  if (!isRecord(doc)) throw new Invalid("it is not a JSON object");
  const kind = field(doc, "kind", "");
  if (kind !== "svm" && kind !== "lda") {
    throw new Invalid(`kind is ${JSON.stringify(kind)}, expected "svm" or "lda"`);
  }
  if (field(doc, "schema", "") !== MODEL_SCHEMA) {
    throw new Invalid(`schema is ${JSON.stringify(doc.schema)}, expected ${MODEL_SCHEMA}`);
  }
  const features = strings(field(doc, "features", ""), "features");
  if (features.join() !== FEATURES.join()) {
    throw new Invalid(
      `features are ${JSON.stringify(features)}, expected ${JSON.stringify(FEATURES)}`,
    );
  }
  const classes = strings(field(doc, "classes", ""), "classes");
  if (classes.length < 2 || new Set(classes).size !== classes.length) {
    throw new Invalid("classes must be 2 or more distinct names");
  }
  const k = classes.length;
  const n = FEATURES.length;
  if (kind === "lda") {
    matrix(field(doc, "coef", ""), k, n, "coef");
    vector(field(doc, "intercept", ""), k, "intercept");
    return doc as unknown as LdaModel;
  }
  const pairs = field(doc, "pairs", "");
  if (!Array.isArray(pairs) || pairs.length !== (k * (k - 1)) / 2) {
    throw new Invalid(`pairs is not a list of ${(k * (k - 1)) / 2} class pairs`);
  }
  pairs.forEach((pair: Json, i) => {
    const where = `pairs[${i}].`;
    if (!isRecord(pair)) throw new Invalid(`pairs[${i}] is not an object`);
    const [a, b] = vector(field(pair, "classes", where), 2, `${where}classes`);
    if (!Number.isInteger(a) || !Number.isInteger(b) || a! < 0 || b! >= k || a! >= b!) {
      throw new Invalid(`${where}classes is not two class indices, lower first`);
    }
    vector(field(pair, "weights", where), n, `${where}weights`);
    finite(field(pair, "bias", where), `${where}bias`);
  });
  return doc as unknown as SvmModel;
}

/**
 * Parse model.json and check every field prediction relies on (kind, schema, features,
 * classes, and the SVM pairs or LDA coef/intercept); `path` names the file in messages.
 */
export function parseModel(text: string, path: string): Model {
  if (text.trim() === "") {
    throw new IrisError(
      "BAD_MODEL",
      `Cannot load model "${path}": the file is empty (${text.length} bytes); re-run training`,
      { path },
    );
  }
  let doc: Json;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new IrisError(
      "BAD_MODEL",
      `Cannot load model "${path}": not valid JSON (${(e as Error).message})`,
      { path },
    );
  }
  try {
    return validate(doc);
  } catch (e) {
    if (!(e instanceof Invalid)) throw e;
    throw new IrisError("BAD_MODEL", `Cannot load model "${path}": ${e.message}`, { path });
  }
}

/** Read and check `<dir>/model.json`. */
export async function loadModel(dir: string): Promise<Model> {
  const path = `${dir.replace(/\/+$/, "")}/model.json`;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new IrisError(
      "BAD_MODEL",
      `Cannot find model "${path}": the model folder must hold the model.json of a training stage`,
      { path },
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new IrisError("BAD_MODEL", `Cannot load model "${path}": not UTF-8 text`, { path });
  }
  return parseModel(text, path);
}

// ---- inference over a folder ----

/** The output name of an attributes file: its base name without the last extension. */
export function outputName(file: string): string {
  const base = file.slice(file.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Every regular file under `dir` (recursively, as os.walk), relative paths in name order. */
async function listFiles(dir: string, prefix = ""): Promise<string[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(`${dir}/${prefix}`)) entries.push(entry);
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files: string[] = [];
  for (const entry of entries) {
    const rel = prefix + entry.name;
    const info = entry.isSymlink ? await Deno.stat(`${dir}/${rel}`) : entry;
    if (info.isDirectory) files.push(...await listFiles(dir, `${rel}/`));
    else if (info.isFile) files.push(rel);
  }
  return files;
}

/** What one inference run wrote: output name → number of predictions. */
export type InferResult = { file: string; output: string; rows: number }[];

/**
 * Predict the species of every row of every file under `folders.attributes` (a folder, or a
 * single file) and write one file per input, `<folders.out>/<name without extension>`, one
 * species per line. A file with no rows gives an empty output file. Nothing is written if
 * any input is bad.
 */
export async function inferFolder(
  model: Model,
  folders: { attributes: string; out: string },
): Promise<InferResult> {
  const root = folders.attributes.replace(/(.)\/+$/, "$1");
  const single = (await Deno.stat(root)).isFile;
  const base = single ? root.slice(0, root.lastIndexOf("/")) : root;
  const files = single ? [root.slice(root.lastIndexOf("/") + 1)] : await listFiles(root);
  const byOutput = new Map<string, string>();
  const results: (InferResult[number] & { bytes: Uint8Array })[] = [];
  for (const file of files) {
    const output = outputName(file);
    const other = byOutput.get(output);
    if (other !== undefined) {
      throw new IrisError(
        "OUTPUT_CONFLICT",
        `${other} and ${file} would both be written to "${output}": rename one of them`,
        { files: [other, file], output },
      );
    }
    byOutput.set(output, file);
    const path = base === "" ? file : `${base}/${file}`;
    const rows = readAttributes(await Deno.readFile(path), file);
    const bytes = encodePredictions(model, predictIndices(model, rows));
    results.push({ file, output, rows: rows.count, bytes });
  }
  await Deno.mkdir(folders.out, { recursive: true });
  for (const r of results) await Deno.writeFile(`${folders.out}/${r.output}`, r.bytes);
  return results.map(({ file, output, rows }) => ({ file, output, rows }));
}
