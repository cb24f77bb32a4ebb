/**
 * A pipeline's headline metric as a sparkline over its output branch's last commits, then
 * the newest value: `model  cv.accuracy ▇█▇▁ 0.92`.
 */
import { Text } from "ink";
import { formatMetric, printable } from "../../lib/mod.ts";
import { fit } from "../format.ts";
import type { PipelineMetric } from "../view.ts";
import { fg, type Theme } from "./theme.ts";

const BARS = "▁▂▃▄▅▆▇█";

/**
 * The last `width` of `values` as one bar each, from the least of them (▁) to the greatest
 * (█); values all equal draw a flat middle line (▄).
 */
export function sparkline(values: readonly number[], width = values.length): string {
  const shown = width > 0 ? values.slice(-width) : [];
  const lo = Math.min(...shown);
  const hi = Math.max(...shown);
  // Halved, so that a range wider than the largest number (-1e308 to 1e308) stays finite.
  const range = hi / 2 - lo / 2;
  return shown.map((v) => {
    if (hi === lo) return BARS[3];
    return BARS[Math.round(((v / 2 - lo / 2) / range) * (BARS.length - 1))];
  }).join("");
}

/** Props of `MetricSparkline`. */
export interface MetricSparklineProps {
  readonly metric: PipelineMetric;
  /** Width the pipeline's name is padded to, so that several rows line up. */
  readonly nameWidth: number;
  readonly theme: Theme;
}

/** One pipeline's metric row. */
export function MetricSparkline(props: MetricSparklineProps) {
  const { metric, theme } = props;
  const last = metric.values.at(-1);
  return (
    <Text wrap="truncate-end">
      <Text bold>{fit(metric.pipeline, props.nameWidth)}</Text>
      {`  ${printable(metric.metric)} `}
      <Text {...fg(theme, "cyan")}>{sparkline(metric.values)}</Text>
      {` ${last === undefined ? "-" : formatMetric(last)}`}
    </Text>
  );
}
