/** The datums of the selected job: failed and running first, then the most recent. */
import { Box, Text } from "ink";
import { printable, printableName } from "../../lib/mod.ts";
import { fit, shortDuration, shortId } from "../format.ts";
import type { DatumView } from "../view.ts";
import { fg, stateColor, stateLabel, type Theme } from "./theme.ts";

/** Props of `DatumList`. */
export interface DatumListProps {
  readonly datums: readonly DatumView[];
  /** Skipped datums the list does not hold (they have no events of their own). */
  readonly unlisted: number;
  readonly rows: number;
  readonly width: number;
  readonly theme: Theme;
}

const RANK: Record<string, number> = { FAILED: 0, STARTING: 1 };

/** The datums worth seeing first, at most `rows`. */
export function pickDatums(datums: readonly DatumView[], rows: number): DatumView[] {
  const indexed = datums.map((d, i) => ({ d, i }));
  indexed.sort((a, b) => (RANK[a.d.state] ?? 2) - (RANK[b.d.state] ?? 2) || b.i - a.i);
  return indexed.slice(0, Math.max(0, rows)).map((x) => x.d);
}

/** One line per datum: id, state, duration, inputs, and the message of a failure. */
export function DatumList(props: DatumListProps) {
  const { theme, width } = props;
  const note = props.unlisted > 0 ? 1 : 0;
  const shown = pickDatums(props.datums, props.rows - note);
  return (
    <Box flexDirection="column" width={width} height={props.rows}>
      {props.datums.length === 0 && !note
        ? <Text {...fg(theme, "gray")}>no datums yet</Text>
        : null}
      {shown.map((d) => (
        <Text key={d.id} wrap="truncate-end">
          <Text {...fg(theme, "gray")}>{shortId(d.id)}</Text>{" "}
          <Text {...fg(theme, stateColor(d.state))}>{fit(stateLabel(d.state), 8)}</Text>
          {` ${fit(d.state === "STARTING" ? "" : shortDuration(d.durationMs), 6)} `}
          {d.inputs.map(printableName).join(" ")}
          {d.message ? <Text {...fg(theme, "red")}>{`  ${printable(d.message)}`}</Text> : null}
        </Text>
      ))}
      {note
        ? (
          <Text {...fg(theme, "cyan")} wrap="truncate-end">
            {`+ ${props.unlisted} skipped: output reused from earlier jobs`}
          </Text>
        )
        : null}
    </Box>
  );
}
