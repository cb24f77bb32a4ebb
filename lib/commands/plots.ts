/**
 * `plots repo@branch -o FILE.svg|FILE.html`: metrics over a branch's commits and the newest
 * confusion matrix, drawn with Vega-Lite (as DVC's plots) into an SVG file, or an HTML page
 * that holds the SVG and the spec. The renderer (vega, vega-lite) loads on first use.
 */
import { InvalidArgumentError, NotFoundError } from "../errors.ts";
import { type PlotData, plotPage, plotSpec } from "../format/plot_spec.ts";
import type { Store } from "../store/store.ts";
import { hostOutputError } from "./_host_output.ts";
import { METRICS_FILE } from "./_metrics_file.ts";
import { headlineMetric, metricNames, pickMetrics, readMetricsHistory } from "./metrics.ts";

type Render = typeof import("../format/plot_render.ts");

/**
 * A confusion matrix of more classes than this is not drawn: its cells would be too small to
 * read, and a few hundred classes make a picture of tens of megabytes.
 */
export const MAX_HEATMAP_CLASSES = 50;

/** The most metrics one plot draws: more are more colours than can be told apart. */
export const MAX_PLOTTED_METRICS = 20;

/** Options of `plots()`. */
export interface PlotsOptions {
  /** The file to write: its extension, `.svg` or `.html`, says which. */
  readonly output: string;
  /** The folder a relative `output` is in (default: the working folder). */
  readonly cwd?: string;
  /** Metrics or patterns to plot (default: `cv.accuracy`, else `accuracy`, else the first). */
  readonly metrics?: readonly string[];
  /** Plot only the newest this many commits that hold metrics. */
  readonly limit?: number;
}

/** What `plots()` wrote. */
export interface PlotsResult {
  /** The absolute path written. */
  readonly path: string;
  readonly format: "svg" | "html";
  readonly metrics: readonly string[];
  /** Commits on the x axis. */
  readonly commits: number;
  /** The commit whose confusion matrix is drawn, or null when none has one. */
  readonly confusion: string | null;
  readonly bytes: number;
}

/** The format `-o`'s extension names; a usage error for any other. */
export function plotFormat(output: string): "svg" | "html" {
  if (/\.svg$/i.test(output)) return "svg";
  if (/\.html?$/i.test(output)) return "html";
  throw new InvalidArgumentError(
    `Cannot tell what to write to "${output}": give -o a file ending in .svg or .html`,
    { option: "-o", path: output },
  );
}

/** Write `text` to `path` whole or not at all: a temporary file beside it, then a rename. */
async function writeWhole(path: string, text: string): Promise<number> {
  const bytes = new TextEncoder().encode(text);
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    if ((await Deno.stat(path).catch(() => null))?.isDirectory) {
      throw new Deno.errors.IsADirectory(path);
    }
    await Deno.writeFile(tmp, bytes);
    await Deno.rename(tmp, path);
  } catch (err) {
    await Deno.remove(tmp).catch(() => {});
    throw hostOutputError(err, path, "file");
  }
  return bytes.length;
}

/** Draw the metrics of `refText` (`repo@branch[:/path]`) into `options.output`. */
export async function plots(
  store: Store,
  refText: string,
  options: PlotsOptions,
): Promise<PlotsResult> {
  const format = plotFormat(options.output);
  const records = await readMetricsHistory(
    store,
    refText,
    options.limit === undefined ? {} : { limit: options.limit },
  );
  const readable = records.filter((r) => r.doc !== undefined);
  const path = records[0]?.row.path ?? METRICS_FILE;
  if (readable.length === 0) {
    throw new NotFoundError(
      records.length === 0
        ? `No commit of ${refText} holds ${path}: nothing to plot`
        : `No ${path} of ${refText} is readable (${records[0]!.row.error}): nothing to plot`,
      { ref: refText, path },
    );
  }
  const names = metricNames(readable.map((r) => r.row));
  const chosen = options.metrics?.length
    ? pickMetrics(options.metrics, names)
    : [headlineMetric(names)].filter((m) => m !== null);
  if (chosen.length > MAX_PLOTTED_METRICS) {
    throw new InvalidArgumentError(
      `--metric ${options.metrics!.join(" ")} picks ${chosen.length} metrics; plots draws at ` +
        `most ${MAX_PLOTTED_METRICS}: name fewer`,
      { option: "--metric", metrics: chosen.length },
    );
  }
  if (chosen.length === 0) {
    throw new NotFoundError(`${path} of ${refText} holds no numeric metric: nothing to plot`, {
      ref: refText,
      path,
    });
  }
  const oldestFirst = readable.toReversed();
  // The newest matrix, unless it has more classes than a heatmap can show.
  const newest = readable.find((r) => r.doc?.confusion);
  const withConfusion = (newest?.doc?.confusion?.labels.length ?? 0) <= MAX_HEATMAP_CLASSES
    ? newest
    : undefined;
  const data: PlotData = {
    title: refText,
    metrics: chosen,
    commits: oldestFirst
      .filter((r) => chosen.some((m) => Object.hasOwn(r.row.metrics, m)))
      .map((r) => ({
        id: r.row.commit,
        params: r.row.params,
        values: Object.fromEntries(chosen.flatMap((m) => {
          const v = r.row.metrics[m];
          return v === undefined ? [] : [[m, v]];
        })),
      })),
    ...(withConfusion?.doc?.confusion
      ? { confusion: { commit: withConfusion.row.commit, ...withConfusion.doc.confusion } }
      : {}),
  };
  const spec = plotSpec(data);
  const { renderSvg } = await import(
    new URL("../format/plot_render.ts", import.meta.url).href
  ) as Render;
  const svg = await renderSvg(spec);
  const out = options.output.startsWith("/")
    ? options.output
    : `${options.cwd ?? Deno.cwd()}/${options.output}`;
  const bytes = await writeWhole(out, format === "svg" ? svg : plotPage(refText, svg, spec));
  return {
    path: out,
    format,
    metrics: chosen,
    commits: data.commits.length,
    confusion: withConfusion?.row.commit ?? null,
    bytes,
  };
}
