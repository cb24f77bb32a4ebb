/** The rows of the command table for `tusk up`: their arguments, options and handlers. */
import { type Command, command, flag } from "../lib/cli/command_line.ts";
import { handlers } from "./_declare.ts";

const on = handlers<typeof import("./up.ts")>("./up.ts");

/** The commands of `cli/up.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "up": command({
    description: "run the scheduler (with the dashboard, or --headless)",
    options: { headless: flag("plain log lines instead of the dashboard") },
    run: on("up"),
  }),
};
