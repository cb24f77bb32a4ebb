/** The bottom line: the result of the last action, and the keys. */
import { Box, Text } from "ink";
import { printable } from "../../lib/mod.ts";
import { fg, type Theme } from "./theme.ts";

/** The keys the dashboard answers to, as the footer lists them. */
export const KEYS: readonly (readonly [string, string])[] = [
  ["↑/↓", "select"],
  ["enter", "inspect"],
  ["l", "logs"],
  ["esc", "close"],
  ["r", "re-run"],
  ["s", "stop"],
  ["q", "quit"],
];

/** Props of `Footer`. */
export interface FooterProps {
  readonly message: string | null;
  readonly width: number;
  readonly theme: Theme;
}

/** The last message, then the key help. */
export function Footer(props: FooterProps) {
  const { theme } = props;
  return (
    <Box width={props.width} height={1}>
      <Text wrap="truncate-end">
        {props.message
          ? <Text {...fg(theme, "yellow")}>{`${printable(props.message)}   `}</Text>
          : null}
        {KEYS.map(([k, what], i) => (
          <Text key={k}>
            {i > 0 ? "  " : ""}
            <Text bold {...fg(theme, "cyan")}>{k}</Text>
            {` ${what}`}
          </Text>
        ))}
      </Text>
    </Box>
  );
}
