/**
 * Colours of the dashboard, and the switch that turns them off (`NO_COLOR`). Components
 * spread `fg(theme, "green")` into `<Text>`, so with colour off no colour code is written.
 */

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
