/**
 * The rows of the command table for `tusk export pachyderm`: their arguments, options and
 * handlers.
 */
import { type Command, command, flag, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./export.ts")>("./export.ts");

/** The commands of `cli/export.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "export pachyderm": command({
    description: "write Pachyderm specs, stage bundles and a README with the pachctl commands",
    args: [{ usage: "[pipeline...]", help: "pipelines to export (default: all)" }],
    options: {
      output: value("dir", "folder to write into (an empty or new one)", {
        short: "o",
        required: true,
      }),
      force: flag("replace files of the same names already in the folder"),
      ...JSON_OPTION,
    },
    run: on("exportPachyderm"),
  }),
};
