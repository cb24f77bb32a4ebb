/**
 * Colours of the dashboard, and the switch that turns them off (`NO_COLOR`). Components
 * spread `fg(theme, "green")` into `<Text>`, or `paint()` text, so with colour off no colour code
 * is written.
 */
import chalk from "chalk";

/** Whether to colour. */
export interface Theme {
  readonly color: boolean;
}

/** Ink colour props for `color`, or none when colour is off. */
export function fg(theme: Theme, color: string | undefined): { color?: string } {
  return theme.color && color ? { color } : {};
}

/** Colour of a job or datum state. */
export function stateColor(state: string): string | undefined {
  switch (state) {
    case "SUCCESS":
      return "green";
    case "FAILURE":
    case "FAILED":
    case "UNRUNNABLE":
      return "red";
    case "KILLED":
      return "magenta";
    case "RUNNING":
    case "STARTING":
    case "FINISHING":
      return "yellow";
    case "SKIPPED":
    case "RECOVERED":
      return "cyan";
    default:
      return "gray";
  }
}

/** A job or datum state as the dashboard prints it: lower case, like `list job`. */
export function stateLabel(state: string): string {
  return state.toLowerCase();
}

/** The colours the dashboard writes into text, through the chalk Ink colours `<Text>` with. */
const CHALK_COLORS: Readonly<Record<string, (text: string) => string>> = {
  gray: (t) => chalk.gray(t),
  red: (t) => chalk.red(t),
  green: (t) => chalk.green(t),
  yellow: (t) => chalk.yellow(t),
  magenta: (t) => chalk.magenta(t),
  cyan: (t) => chalk.cyan(t),
};

/**
 * `text` with its colour (when the theme colours) and weight written in, exactly as Ink's
 * `<Text color bold>` writes them (the same chalk, so no codes where chalk writes none): for a
 * line drawn as one `<Text>` rather than a `<Text>` per cell, whose nodes every frame lays
 * out and reconciles.
 */
export function paint(
  theme: Theme,
  text: string,
  style: { readonly color?: string | undefined; readonly bold?: boolean } = {},
): string {
  if (text === "") return text;
  const color = theme.color && style.color ? CHALK_COLORS[style.color] : undefined;
  const out = color ? color(text) : text;
  return style.bold ? chalk.bold(out) : out;
}
