/**
 * The top line: where the store is, who runs the scheduler (and how far the journal's history
 * is replayed), the sandbox and job counts.
 */
import { Box, Text } from "ink";
import { printable } from "../../lib/mod.ts";
import { count } from "../format.ts";
import { fg, type Theme } from "./theme.ts";

/** Props of `Header`. */
export interface HeaderProps {
  readonly store: string;
  readonly scheduler: string;
  /** The journal's history being replayed (bytes read of its size), or null. */
  readonly replay: { readonly read: number; readonly size: number } | null;
  readonly sandbox: string;
  readonly active: number;
  readonly total: number;
  readonly width: number;
  readonly theme: Theme;
}

function percent(r: { readonly read: number; readonly size: number }): string {
  return `${r.size > 0 ? Math.floor((r.read * 100) / r.size) : 0} %`;
}

/** The header line. */
export function Header(props: HeaderProps) {
  const { theme } = props;
  const attached = props.scheduler.startsWith("attached");
  return (
    <Box width={props.width} height={1}>
      <Text wrap="truncate-end">
        <Text bold {...fg(theme, "cyan")}>tusk up</Text>
        {`  store `}
        <Text bold>{printable(props.store)}</Text>
        {`  scheduler: `}
        <Text {...fg(theme, attached ? "yellow" : "green")}>{props.scheduler}</Text>
        {props.replay ? `  replaying history ${percent(props.replay)}` : ""}
        {`  sandbox: ${printable(props.sandbox)}  jobs: ${count(props.active)} active / ${
          count(props.total)
        }`}
      </Text>
    </Box>
  );
}
