/**
 * The panel under the jobs list: the selected job's summary line (with the reason of a
 * failure), then its datums beside its log tail (`enter`) or its log alone (`l`).
 */
import { Box, Text } from "ink";
import { printable } from "../../lib/mod.ts";
import { shortDuration, shortId } from "../format.ts";
import { elapsedMs } from "../select.ts";
import type { JobView } from "../view.ts";
import { DatumList } from "./datum_list.tsx";
import { LogTail } from "./log_tail.tsx";
import { fg, stateColor, stateLabel, type Theme } from "./theme.ts";

/** Props of `JobDetail`. */
export interface JobDetailProps {
  readonly job: JobView | undefined;
  readonly mode: "inspect" | "logs";
  /** Content rows (the title row is extra). */
  readonly rows: number;
  readonly width: number;
  readonly now: number;
  readonly theme: Theme;
}

/** The selected job's datums and log. */
export function JobDetail(props: JobDetailProps) {
  const { job, theme, width, rows, mode } = props;
  if (!job) {
    return (
      <Box flexDirection="column" width={width} height={rows + 1}>
        <Text bold>JOB</Text>
        <Text {...fg(theme, "gray")}>no job selected</Text>
      </Box>
    );
  }
  const p = job.progress;
  const title = `JOB ${shortId(job.id, 12)}  ${job.pipeline}  `;
  const info =
    `  ${p.processed} processed, ${p.skipped} skipped, ${p.failed} failed of ${p.total}` +
    `  ${job.started ? shortDuration(elapsedMs(job, props.now)) : "-"}` +
    (job.restart ? `  restarts ${job.restart}` : "") +
    (job.inputs.length
      ? `  inputs ${job.inputs.map((i) => i.replace(/@(\w{8})\w*/, "@$1")).join(", ")}`
      : "");
  const reasonRows = job.reason && job.state !== "SUCCESS" ? 1 : 0;
  const body = Math.max(1, rows - reasonRows);
  const empty = job.detailed ? "no log lines yet" : "details not kept for old jobs";
  const half = Math.floor(width / 2);
  return (
    <Box flexDirection="column" width={width} height={rows + 1}>
      <Text wrap="truncate-end" bold>
        {title}
        <Text {...fg(theme, stateColor(job.state))}>{stateLabel(job.state)}</Text>
        <Text bold={false}>{info}</Text>
      </Text>
      {reasonRows
        ? (
          <Text wrap="truncate-end" {...fg(theme, "red")}>
            {`reason: ${printable(job.reason ?? "")}`}
          </Text>
        )
        : null}
      {mode === "logs"
        ? <LogTail logs={job.logs} rows={body} width={width} empty={empty} theme={theme} />
        : (
          <Box flexDirection="row" width={width} height={body}>
            <DatumList
              datums={job.detailed ? job.datums : []}
              unlisted={job.detailed
                ? Math.max(0, p.skipped - job.datums.filter((d) => d.state === "SKIPPED").length)
                : 0}
              rows={body}
              width={half - 1}
              theme={theme}
            />
            <Box width={1} height={body} />
            <LogTail logs={job.logs} rows={body} width={width - half} empty={empty} theme={theme} />
          </Box>
        )}
    </Box>
  );
}
