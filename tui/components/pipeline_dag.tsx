/**
 * The pipeline DAG (`training → model → inference ← attributes`), each pipeline coloured
 * by the state of its newest job, then each pipeline's headline metric as a sparkline, then
 * the cron inputs with the time to their next tick.
 */
import { Box, Text } from "ink";
import { printable } from "../../lib/mod.ts";
import type { ReactNode } from "react";
import type { CronEntry, DagSegment } from "../dag.ts";
import { untilText } from "../format.ts";
import type { PipelineMetric } from "../view.ts";
import { MetricSparkline } from "./metric_sparkline.tsx";
import { fg, stateColor, type Theme } from "./theme.ts";

/** A cron input and when it ticks next (ms since epoch; null when unknown). */
export interface CronRow {
  readonly entry: CronEntry;
  readonly next: number | null;
}

/** Props of `PipelineDag`. */
export interface PipelineDagProps {
  readonly lines: readonly (readonly DagSegment[])[];
  readonly cron: readonly CronRow[];
  /** Headline metrics of the pipelines that have one (none by default). */
  readonly metrics?: readonly PipelineMetric[];
  /** State of the newest job by pipeline. */
  readonly states: ReadonlyMap<string, string>;
  readonly paused: ReadonlySet<string>;
  /** Content rows (the title row is extra). */
  readonly rows: number;
  readonly width: number;
  readonly now: number;
  readonly theme: Theme;
}

function segmentColor(s: DagSegment, props: PipelineDagProps): string | undefined {
  if (s.role === "arrow") return "gray";
  if (s.role === "repo") return "blue";
  if (s.role === "cron") return "magenta";
  const state = props.states.get(s.name ?? "");
  return state ? stateColor(state) : undefined;
}

/** The DAG and cron schedule, cut to `rows`. */
export function PipelineDag(props: PipelineDagProps) {
  const { theme, rows, width } = props;
  const body: { key: string; node: ReactNode }[] = [];
  props.lines.forEach((segs, n) => {
    body.push({
      key: `dag${n}`,
      node: (
        <Text wrap="truncate-end">
          {segs.map((s, i) => (
            <Text
              key={i}
              {...fg(theme, segmentColor(s, props))}
              bold={s.role === "pipeline"}
              dimColor={s.role === "pipeline" && props.paused.has(s.name ?? "")}
            >
              {s.text}
            </Text>
          ))}
          {segs.some((s) => s.role === "pipeline" && props.paused.has(s.name ?? ""))
            ? <Text {...fg(theme, "gray")}>{`  (paused)`}</Text>
            : null}
        </Text>
      ),
    });
  });
  const metrics = props.metrics ?? [];
  const nameWidth = Math.min(18, Math.max(0, ...metrics.map((m) => m.pipeline.length)));
  for (const m of metrics) {
    body.push({
      key: `metric:${m.pipeline}`,
      node: <MetricSparkline metric={m} nameWidth={nameWidth} theme={theme} />,
    });
  }
  for (const c of props.cron) {
    body.push({
      key: `cron:${c.entry.key}`,
      node: (
        <Text wrap="truncate-end">
          <Text {...fg(theme, "magenta")}>{`cron ${c.entry.repo}`}</Text>
          {`  ${printable(c.entry.spec)}  → ${c.entry.pipeline}  next tick `}
          <Text bold>{c.next === null ? "-" : untilText(c.next, props.now)}</Text>
        </Text>
      ),
    });
  }
  const fits = body.length <= rows ? body : body.slice(0, Math.max(0, rows - 1));
  return (
    <Box flexDirection="column" width={width} height={rows + 1}>
      <Text bold>PIPELINES</Text>
      {body.length === 0
        ? <Text {...fg(theme, "gray")}>no pipelines yet: tusk create pipeline -f spec.json</Text>
        : null}
      {fits.map((b) => <Box key={b.key}>{b.node}</Box>)}
      {body.length > fits.length
        ? <Text {...fg(theme, "gray")}>{`… ${body.length - fits.length} more`}</Text>
        : null}
    </Box>
  );
}
