/** The repos table: name, size of the head of master, the head commit and its age. */
import { Box, Text } from "ink";
import { formatSize } from "../../lib/mod.ts";
import { fit, fitRight, shortAge, shortId } from "../format.ts";
import type { RepoView } from "../view.ts";
import { fg, type Theme } from "./theme.ts";

/** Props of `ReposTable`. */
export interface ReposTableProps {
  readonly repos: readonly RepoView[];
  /** Content rows (the title row is extra). */
  readonly rows: number;
  readonly width: number;
  readonly now: number;
  readonly theme: Theme;
}

/** Repos, newest first, as many as fit (the last row says how many did not). */
export function ReposTable(props: ReposTableProps) {
  const { repos, rows, width, now, theme } = props;
  const nameW = Math.max(
    4,
    Math.min(18, width - 32, Math.max(0, ...repos.map((r) => r.name.length))),
  );
  const fits = repos.length <= rows ? repos : repos.slice(0, Math.max(0, rows - 1));
  const more = repos.length - fits.length;
  return (
    <Box flexDirection="column" width={width} height={rows + 1}>
      <Text bold wrap="truncate-end">
        {`${fit("REPO", nameW)}  ${fitRight("SIZE", 10)}  ${fit("HEAD", 8)}  AGE`}
      </Text>
      {repos.length === 0 ? <Text {...fg(theme, "gray")}>no repos yet</Text> : null}
      {fits.map((r) => (
        <Text key={r.name} wrap="truncate-end">
          <Text {...fg(theme, "blue")}>{fit(r.name, nameW)}</Text>
          {`  ${fitRight(r.size === null ? "…" : formatSize(r.size), 10)}  ${
            fit(shortId(r.head), 8)
          }  ${shortAge(r.headTime, now)}`}
        </Text>
      ))}
      {more > 0 ? <Text {...fg(theme, "gray")}>{`… ${more} more`}</Text> : null}
    </Box>
  );
}
