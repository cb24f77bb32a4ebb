/** The end of the selected job's log: the last lines that fit, stderr marked. */
import { Box, Text } from "ink";
import { printable } from "../../lib/mod.ts";
import { shortId } from "../format.ts";
import type { LogView } from "../view.ts";
import { fg, type Theme } from "./theme.ts";

/** Props of `LogTail`. */
export interface LogTailProps {
  readonly logs: readonly LogView[];
  readonly rows: number;
  readonly width: number;
  /** Shown when there are no lines. */
  readonly empty: string;
  readonly theme: Theme;
}

/** The last `rows` log lines, each prefixed with its datum; stage output is escaped. */
export function LogTail(props: LogTailProps) {
  const { theme } = props;
  const lines = props.logs.slice(Math.max(0, props.logs.length - props.rows));
  return (
    <Box flexDirection="column" width={props.width} height={props.rows}>
      {lines.length === 0 ? <Text {...fg(theme, "gray")}>{props.empty}</Text> : null}
      {lines.map((l, i) => (
        <Text key={i} wrap="truncate-end">
          <Text {...fg(theme, "gray")}>{`${shortId(l.datum)} `}</Text>
          <Text {...fg(theme, l.stream === "stderr" ? "yellow" : undefined)}>
            {printable(l.line)}
          </Text>
        </Text>
      ))}
    </Box>
  );
}
