/**
 * A metrics file (`metrics.json`) as `metrics show`, `metrics diff`, `plots` and the
 * dashboard read it from a commit: its parameters, every numeric metric under a flattened
 * name, and the confusion matrix plots draw. A file that is not a JSON object is an error
 * of that commit, not of the command.
 *
 * Flattening: object keys are joined with `.`, array items by their index (`cv.folds.0`,
 * `confusion_matrix.matrix.1.2`); every finite number is a metric; strings, booleans and
 * nulls are not; the top-level `params` object is the run's parameters, not metrics.
 */
import type { Commit } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import type { Store } from "../store/store.ts";

/** The file read when a reference names none. */
export const METRICS_FILE = "/metrics.json";

/** A metrics file larger than this is reported as an error rather than read. */
export const MAX_METRICS_BYTES = 1 << 20;

/**
 * A `params` object nested deeper than this is reported as an error: it is printed whole (in
 * `--json`, labels, diffs), and printing nests as deep as the value does.
 */
export const MAX_PARAMS_DEPTH = 64;

/** A confusion matrix: `matrix[actual][predicted]` counts, rows and columns in `labels` order. */
export interface ConfusionMatrix {
  readonly labels: readonly string[];
  readonly matrix: readonly (readonly number[])[];
}

/** What a metrics file holds. */
export interface MetricsDoc {
  /** The top-level `params` object (`{}` when there is none). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Every numeric metric by flattened name, in the file's order. */
  readonly metrics: Readonly<Record<string, number>>;
  /** A well-formed top-level `confusion_matrix`, if any. */
  readonly confusion?: ConfusionMatrix;
}

/** A commit's metrics file: absent, unreadable (`error`), or read. */
export type MetricsRead =
  | { readonly found: false }
  | { readonly found: true; readonly error: string }
  | { readonly found: true; readonly doc: MetricsDoc };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Every finite number under `value`, by flattened name (see the module's doc). */
export function flattenMetrics(value: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  // An explicit stack, in document order: a deeply nested file cannot exhaust the call stack.
  const stack: { name: string; value: unknown }[] = [{ name: "", value }];
  while (stack.length > 0) {
    const { name, value: v } = stack.pop()!;
    if (typeof v === "number") {
      if (Number.isFinite(v) && name !== "") out[name] = v;
      continue;
    }
    const entries: [string, unknown][] = Array.isArray(v)
      ? v.map((item, i) => [String(i), item])
      : isObject(v)
      ? Object.entries(v)
      : [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, item] = entries[i]!;
      if (name === "" && key === "params") continue;
      stack.push({ name: name === "" ? key : `${name}.${key}`, value: item });
    }
  }
  return out;
}

/** How deeply `value` nests objects and arrays (0 for a plain value), without recursion. */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    deepest = Math.max(deepest, depth + 1);
    for (const item of Object.values(v)) stack.push([item, depth + 1]);
  }
  return deepest;
}

function confusionOf(value: unknown): ConfusionMatrix | undefined {
  if (!isObject(value)) return undefined;
  const { labels, matrix } = value;
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === "string")) return undefined;
  if (!Array.isArray(matrix) || matrix.length !== labels.length) return undefined;
  const square = matrix.every((row) =>
    Array.isArray(row) && row.length === labels.length &&
    row.every((n) => typeof n === "number" && Number.isFinite(n))
  );
  return square ? { labels: labels as string[], matrix: matrix as number[][] } : undefined;
}

/** Parse a metrics file's text; throws `SyntaxError` saying why it is not a metrics file. */
export function parseMetrics(text: string): MetricsDoc {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new SyntaxError(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isObject(value)) {
    throw new SyntaxError(
      `not a JSON object (it is ${Array.isArray(value) ? "an array" : JSON.stringify(value)})`,
    );
  }
  const params = isObject(value.params) ? value.params : {};
  if (depthOf(params) > MAX_PARAMS_DEPTH) {
    throw new SyntaxError(`its params object is nested more than ${MAX_PARAMS_DEPTH} levels deep`);
  }
  const confusion = confusionOf(value.confusion_matrix);
  return { params, metrics: flattenMetrics(value), ...(confusion ? { confusion } : {}) };
}

/** Parsed files by blob hash: a blob's content never changes, so neither does its parse. */
const parsed = new Map<Hash, MetricsRead>();
const CACHE_SIZE = 512;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A metrics file's bytes as read, or why they cannot be. */
function parseBytes(bytes: Uint8Array): MetricsRead {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { found: true, error: "not valid UTF-8 text" };
  }
  try {
    return { found: true, doc: parseMetrics(text) };
  } catch (e) {
    if (!(e instanceof SyntaxError)) throw e;
    return { found: true, error: e.message };
  }
}

/** The metrics file at `segments` of `commit`'s tree. */
export async function readMetricsFile(
  store: Store,
  commit: Commit,
  segments: readonly string[],
): Promise<MetricsRead> {
  const entry = await store.lookup(commit.tree, segments);
  if (!entry) return { found: false };
  if (entry.kind === "dir") return { found: true, error: "a folder, not a metrics file" };
  if (entry.size > MAX_METRICS_BYTES) {
    return {
      found: true,
      error:
        `${entry.size} bytes: larger than the ${MAX_METRICS_BYTES} bytes a metrics file may be`,
    };
  }
  const known = parsed.get(entry.hash);
  if (known) return known;
  const bytes = await store.objects.read(entry.hash);
  const read = parseBytes(bytes);
  if (parsed.size >= CACHE_SIZE) parsed.delete(parsed.keys().next().value!);
  parsed.set(entry.hash, read);
  return read;
}
