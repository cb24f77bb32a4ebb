/** The rows of the command table for `tusk doctor`: their arguments, options and handlers. */
import { type Command, command } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./doctor.ts")>("./doctor.ts");

/** The commands of `cli/doctor.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "doctor": command({
    description: "check this machine and store: Deno, sandbox, scheduler, store health",
    options: JSON_OPTION,
    run: on("doctor"),
  }),
};
