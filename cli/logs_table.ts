/** The rows of the command table for `tusk logs`: their arguments, options and handlers. */
import { type Command, command, flag, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./logs.ts")>("./logs.ts");

/** The commands of `cli/logs.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "logs": command({
    description: "print datum logs",
    options: {
      job: value("id", "this job's logs"),
      pipeline: value("name", "this pipeline's logs", { short: "p" }),
      datum: value("id", "this datum's logs"),
      follow: flag("keep printing new lines", { short: "f" }),
      raw: flag("print stage output as it was written (control characters are escaped otherwise)"),
      ...JSON_OPTION,
    },
    aliases: { "get-logs": {} },
    run: on("logs"),
  }),
};
