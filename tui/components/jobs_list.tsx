/**
 * The jobs list, windowed: it renders only the `rows` jobs it is given (the window the
 * app computed around the selection), so a history of 10,000 jobs costs the same frame as
 * a history of ten.
 */
import { Box, Text } from "ink";
import { count } from "../format.ts";
import type { JobView } from "../view.ts";
import { jobColumns, JobRow } from "./job_row.tsx";
import { fg, type Theme } from "./theme.ts";

/** Props of `JobsList`. */
export interface JobsListProps {
  /** The visible jobs, newest first: rows `start .. start + jobs.length` of the list. */
  readonly jobs: readonly JobView[];
  readonly start: number;
  /** Jobs in the list (kept rows). */
  readonly kept: number;
  /** Jobs seen in all (some may have been dropped to bound memory). */
  readonly total: number;
  readonly selected: number;
  readonly rows: number;
  readonly width: number;
  readonly now: number;
  readonly theme: Theme;
}

/** The title and the visible rows of the jobs list. */
export function JobsList(props: JobsListProps) {
  const { jobs, start, kept, total, theme, width } = props;
  const longest = Math.max(8, ...jobs.map((j) => j.pipeline.length));
  const columns = jobColumns(width, longest);
  const range = kept === 0
    ? ""
    : `  ${count(start + 1)}–${count(start + jobs.length)} of ${count(kept)}` +
      (total > kept ? ` (${count(total)} seen, oldest not kept)` : "");
  return (
    <Box flexDirection="column" width={width} height={props.rows + 1}>
      <Text bold wrap="truncate-end">
        {"JOBS"}
        <Text bold={false} {...fg(theme, "gray")}>{range}</Text>
      </Text>
      {kept === 0
        ? (
          <Text {...fg(theme, "gray")}>
            no jobs yet: commit to an input repo (tusk put file) to start one
          </Text>
        )
        : null}
      {jobs.map((j, i) => (
        <JobRow
          key={j.id}
          job={j}
          selected={start + i === props.selected}
          columns={columns}
          now={props.now}
          theme={theme}
        />
      ))}
    </Box>
  );
}
