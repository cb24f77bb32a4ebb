/**
 * `metrics show` and `metrics diff`: the numeric metrics that the commits of a branch hold
 * in a metrics file (`/metrics.json` by default; `repo@ref:/path` names another), with the
 * input commits each came from. Returns data; nothing is printed here.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import type { Commit } from "../store/codec.ts";
import { didYouMean, formatPath, parsePath, parseRef, type Ref } from "../store/names.ts";
import type { Store } from "../store/store.ts";
import {
  METRICS_FILE,
  type MetricsDoc,
  type MetricsRead,
  readMetricsFile,
} from "./_metrics_file.ts";

/** Commits whose metrics file is read ahead of the row being made. */
const READ_AHEAD = 16;

/** One commit that holds a metrics file, as `metrics show` lists it. */
export interface MetricsRow {
  readonly repo: string;
  readonly commit: string;
  readonly time: string;
  /** The metrics file's path in the commit. */
  readonly path: string;
  /** The input commits of a pipeline's output commit (its provenance); none for others. */
  readonly inputs: readonly { readonly repo: string; readonly commit: string }[];
  /** The file's top-level `params` object. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Every numeric metric by flattened name (`cv.accuracy`, `per_class.Iris-setosa.f1`). */
  readonly metrics: Readonly<Record<string, number>>;
  /** Why the file could not be read (not JSON, not an object…); `metrics` is then empty. */
  readonly error?: string;
}

/** Options of `metricsShow()`. */
export interface MetricsShowOptions {
  /** At most this many rows (commits holding the file). */
  readonly limit?: number;
  /** Look at no more than this many commits from the head back (the dashboard's bound). */
  readonly depth?: number;
  /**
   * Keep only the metrics these names or patterns match (`*` stands for any characters but
   * `.`: `per_class.*.f1`). A name that matches no metric of any row is refused.
   */
  readonly metrics?: readonly string[];
}

/** A metrics row with what plots draw beyond it. */
export interface MetricsRecord {
  readonly row: MetricsRow;
  readonly doc?: MetricsDoc;
}

/** The path segments of a reference's metrics file (`/metrics.json` when it names none). */
function fileOf(ref: Ref, text: string): string[] {
  const segments = parsePath(ref.path === undefined || ref.path === "" ? METRICS_FILE : ref.path);
  if (segments.length === 0) {
    throw new InvalidArgumentError(
      `"${text}" names the root folder: give the metrics file, e.g. ${ref.repo}@${ref.ref}:${METRICS_FILE}`,
      { ref: text },
    );
  }
  return segments;
}

function rowOf(
  repo: string,
  id: string,
  commit: Commit,
  path: string,
  read: { doc: MetricsDoc } | { error: string },
): MetricsRow {
  return {
    repo,
    commit: id,
    time: commit.time,
    path,
    inputs: (commit.provenance?.inputs ?? []).map((i) => ({ repo: i.repo, commit: i.commit })),
    params: "doc" in read ? read.doc.params : {},
    metrics: "doc" in read ? read.doc.metrics : {},
    ...("error" in read ? { error: read.error } : {}),
  };
}

/**
 * The commits from `refText` (`repo@branch`, a commit, `repo@branch^2`, `…:/path`) back that
 * hold the metrics file, newest first, each with its metrics; `[]` for a branch with no
 * commits or none holding the file.
 */
export async function readMetricsHistory(
  store: Store,
  refText: string,
  options: Omit<MetricsShowOptions, "metrics"> = {},
): Promise<MetricsRecord[]> {
  const ref = parseRef(refText);
  const segments = fileOf(ref, refText);
  const path = formatPath(segments);
  const r = await store.resolve(await store.state(), ref);
  const out: MetricsRecord[] = [];
  const full = () => options.limit !== undefined && out.length >= options.limit;
  // Files are read ahead of the rows, a few commits at a time, while the walk goes on. A read
  // that fails is held as its error (not left a rejected promise no one awaits yet) and
  // thrown when its row's turn comes.
  const pending: {
    id: string;
    commit: Commit;
    read: Promise<MetricsRead | { failed: unknown }>;
  }[] = [];
  const settle = async () => {
    const { id, commit, read } = pending.shift()!;
    const got = await read;
    if ("failed" in got) throw got.failed;
    if (!got.found) return;
    out.push({
      row: rowOf(r.repo, id, commit, path, got),
      ...("doc" in got ? { doc: got.doc } : {}),
    });
  };
  let looked = 0;
  for await (const { id, commit } of store.history(r.id)) {
    if (options.depth !== undefined && looked++ >= options.depth) break;
    const read = readMetricsFile(store, commit, segments).catch((failed) => ({ failed }));
    pending.push({ id, commit, read });
    if (pending.length >= READ_AHEAD) await settle();
    if (full()) break;
  }
  while (pending.length > 0 && !full()) await settle();
  return out;
}

/** Whether `text` (one level, no `.`) matches `glob`, where `*` is any run of characters. */
function globLevel(glob: string, text: string): boolean {
  // The classic wildcard walk: back up only to the last `*`, so the time is at most the
  // product of the lengths (a regular expression backtracks exponentially in the stars).
  let g = 0, t = 0, star = -1, mark = 0;
  while (t < text.length) {
    if (g < glob.length && glob[g] === "*") {
      star = g++;
      mark = t;
    } else if (g < glob.length && glob[g] === text[t]) {
      g++;
      t++;
    } else if (star >= 0) {
      g = star + 1;
      t = ++mark;
    } else return false;
  }
  while (g < glob.length && glob[g] === "*") g++;
  return g === glob.length;
}

/** A `--metric` name or pattern as a test of flattened names. */
function matcher(pattern: string): (name: string) => boolean {
  if (!pattern.includes("*")) return (name) => name === pattern;
  // `*` never matches `.`, so the pattern's levels line up with the name's one for one.
  const levels = pattern.split(".");
  return (name) => {
    const parts = name.split(".");
    return parts.length === levels.length && levels.every((l, i) => globLevel(l, parts[i]!));
  };
}

/**
 * The names of `names` that `patterns` pick, in the patterns' order (each pattern's matches
 * in `names` order). A pattern that picks none is refused, naming the nearest metric.
 */
export function pickMetrics(patterns: readonly string[], names: readonly string[]): string[] {
  const picked = new Set<string>();
  for (const p of patterns) {
    if (p === "") throw new InvalidArgumentError('Invalid --metric "": give a metric name', {});
    const matches = names.filter(matcher(p));
    if (matches.length === 0) {
      throw new NotFoundError(`No metric "${p}"${didYouMean(p, names)}`, { metric: p });
    }
    for (const m of matches) picked.add(m);
  }
  return [...picked];
}

/** Every metric name of `rows`, in the order they first appear. */
export function metricNames(rows: readonly MetricsRow[]): string[] {
  const names = new Set<string>();
  for (const r of rows) for (const name of Object.keys(r.metrics)) names.add(name);
  return [...names];
}

/**
 * The metric a branch is summed up by: `cv.accuracy`, else `accuracy`, else the first of
 * `names`; null when there is none.
 */
export function headlineMetric(names: readonly string[]): string | null {
  for (const preferred of ["cv.accuracy", "accuracy"]) {
    if (names.includes(preferred)) return preferred;
  }
  return names[0] ?? null;
}

/** `metrics show repo@branch[:/path]`: see `readMetricsHistory()` and `MetricsShowOptions`. */
export async function metricsShow(
  store: Store,
  refText: string,
  options: MetricsShowOptions = {},
): Promise<MetricsRow[]> {
  const { metrics: patterns, ...rest } = options;
  const rows = (await readMetricsHistory(store, refText, rest)).map((r) => r.row);
  if (!patterns?.length || rows.length === 0) return rows;
  const keep = new Set(pickMetrics(patterns, metricNames(rows)));
  return rows.map((r) => ({
    ...r,
    metrics: Object.fromEntries(Object.entries(r.metrics).filter(([name]) => keep.has(name))),
  }));
}

/** One side of a metrics diff: the commit and what its metrics file held. */
export interface MetricsSide {
  readonly repo: string;
  /** Null on the old side of a first commit, which has no parent. */
  readonly commit: string | null;
  readonly path: string;
  /** Whether the commit holds the metrics file. */
  readonly found: boolean;
  readonly params: Readonly<Record<string, unknown>>;
  /** Why the file could not be read; no metrics are compared then. */
  readonly error?: string;
}

/** How one metric differs between the two sides. */
export interface MetricChange {
  readonly name: string;
  readonly old: number | null;
  readonly new: number | null;
  /** `new - old`; null when the metric is on one side only. */
  readonly change: number | null;
  readonly state: "added" | "removed" | "changed" | "unchanged";
}

/** `metrics diff`'s result. */
export interface MetricsDiff {
  readonly old: MetricsSide;
  readonly new: MetricsSide;
  /** Every metric of either side: the new side's in its order, then those removed. */
  readonly metrics: readonly MetricChange[];
}

async function sideOf(
  store: Store,
  repo: string,
  id: string | null,
  segments: readonly string[],
): Promise<{ side: MetricsSide; metrics: Readonly<Record<string, number>> }> {
  const path = formatPath(segments);
  const none = { side: { repo, commit: id, path, found: false, params: {} }, metrics: {} };
  if (id === null) return none;
  const read = await readMetricsFile(store, await store.readCommit(id), segments);
  if (!read.found) return none;
  if ("error" in read) {
    return { side: { ...none.side, found: true, error: read.error }, metrics: {} };
  }
  return {
    side: { repo, commit: id, path, found: true, params: read.doc.params },
    metrics: read.doc.metrics,
  };
}

/**
 * `metrics diff <ref> [<ref>]`: with one reference, its commit against its parent; with
 * two, the first is the old side and the second the new (a second reference without
 * `repo@` names a commit or branch of the first's repo). A side without the metrics file
 * counts as having no metrics, so every metric of the other shows as added or removed.
 */
export async function metricsDiff(
  store: Store,
  refTexts: readonly [string] | readonly [string, string],
): Promise<MetricsDiff> {
  const state = await store.state();
  const first = parseRef(refTexts[0]);
  const secondText = refTexts[1] === undefined || refTexts[1].includes("@")
    ? refTexts[1]
    : `${first.repo}@${refTexts[1]}`;
  const second = secondText === undefined ? undefined : parseRef(secondText);
  const resolve = async (ref: Ref, text: string) => {
    const r = await store.resolve(state, ref);
    if (r.id === null || r.commit === null) {
      throw new NotFoundError(
        `Branch "${ref.ref}" of repo "${ref.repo}" has no commits yet: nothing to compare`,
        { repo: ref.repo, ref: text },
      );
    }
    return { repo: r.repo, id: r.id, commit: r.commit };
  };
  // Each side reads its own reference's path, else the other side's, else /metrics.json.
  const pathOf = (ref: Ref, other: Ref | undefined, text: string) =>
    fileOf(ref.path ? ref : other?.path ? other : ref, text);
  let oldSide, newSide;
  if (second === undefined) {
    const n = await resolve(first, refTexts[0]);
    const segments = pathOf(first, undefined, refTexts[0]);
    newSide = await sideOf(store, n.repo, n.id, segments);
    oldSide = await sideOf(store, n.repo, n.commit.parent, segments);
  } else {
    const o = await resolve(first, refTexts[0]);
    const n = await resolve(second, secondText!);
    oldSide = await sideOf(store, o.repo, o.id, pathOf(first, second, refTexts[0]));
    newSide = await sideOf(store, n.repo, n.id, pathOf(second, first, secondText!));
  }
  const metrics: MetricChange[] = [];
  if (oldSide.side.error === undefined && newSide.side.error === undefined) {
    const before = oldSide.metrics;
    const after = newSide.metrics;
    for (const [name, value] of Object.entries(after)) {
      const old = Object.hasOwn(before, name) ? before[name]! : null;
      metrics.push({
        name,
        old,
        new: value,
        change: old === null ? null : value - old,
        state: old === null ? "added" : old === value ? "unchanged" : "changed",
      });
    }
    for (const [name, value] of Object.entries(before)) {
      if (Object.hasOwn(after, name)) continue;
      metrics.push({ name, old: value, new: null, change: null, state: "removed" });
    }
  }
  return { old: oldSide.side, new: newSide.side, metrics };
}
