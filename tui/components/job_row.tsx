/**
 * One job row: marker, id, pipeline, progress bar, `processed+skipped/total`, failed count,
 * rate, elapsed time, coloured state, and the reason of a job that did not succeed.
 */
import { Text } from "ink";
import { isFinal, printable } from "../../lib/mod.ts";
import { fit, fitRight, rateText, shortDuration, shortId } from "../format.ts";
import { elapsedMs, ratePerSecond } from "../select.ts";
import type { JobView } from "../view.ts";
import { barText } from "./progress_bar.ts";
import { paint, stateColor, stateLabel, type Theme } from "./theme.ts";

/** Widths of a job row's columns (0 hides a column). */
export interface JobColumns {
  readonly pipeline: number;
  readonly bar: number;
  readonly rate: number;
  readonly reason: number;
}

/** Columns for a list `width` wide whose longest pipeline name is `longest`. */
export function jobColumns(width: number, longest: number): JobColumns {
  // marker 2, id 12, counts 11, failed 5, elapsed 6, state 10, separators
  const fixed = 2 + 12 + 1 + 1 + 1 + 11 + 5 + 1 + 6 + 1 + 10;
  let left = width - fixed;
  const pipeline = Math.max(6, Math.min(16, longest, left - 8));
  left -= pipeline;
  const rate = left >= 40 ? 7 : 0;
  left -= rate ? rate + 1 : 0;
  const bar = Math.max(4, Math.min(24, left - 10));
  left -= bar;
  return { pipeline, bar, rate, reason: Math.max(0, left - 2) };
}

/** Props of `JobRow`. */
export interface JobRowProps {
  readonly job: JobView;
  readonly selected: boolean;
  readonly columns: JobColumns;
  readonly now: number;
  readonly theme: Theme;
}

/**
 * The row of one job: one `<Text>` whose cells carry their colours as SGR codes (a `<Text>`
 * per cell made each row a dozen nodes to lay out and reconcile on every frame).
 */
export function JobRow(props: JobRowProps) {
  const { job, columns, theme, selected } = props;
  const p = job.progress;
  const done = isFinal(job.state);
  const counts = `${p.processed}+${p.skipped}/${p.total}`;
  const reason = job.state !== "SUCCESS" && job.reason ? printable(job.reason) : "";
  const line = paint(theme, selected ? "▸ " : "  ", { bold: selected }) +
    paint(theme, shortId(job.id, 12), { color: "gray" }) + " " +
    paint(theme, fit(job.pipeline, columns.pipeline), { bold: true }) + " " +
    barText(p, columns.bar, done, theme) + " " +
    fitRight(counts, 11) +
    (p.failed ? paint(theme, fitRight(`✗${p.failed}`, 5), { color: "red" }) : "     ") +
    (columns.rate ? ` ${fitRight(rateText(ratePerSecond(job, props.now)), columns.rate)}` : "") +
    ` ${fitRight(job.started ? shortDuration(elapsedMs(job, props.now)) : "-", 6)} ` +
    paint(theme, fit(stateLabel(job.state), 10), { bold: true, color: stateColor(job.state) }) +
    (columns.reason > 0 && reason
      ? paint(theme, ` ${fit(reason, columns.reason)}`, { color: "red" })
      : "");
  return <Text wrap="truncate-end" inverse={selected}>{line}</Text>;
}
