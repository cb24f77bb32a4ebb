/**
 * The rows of the command table for `tusk list|inspect|restart datum`: their arguments, options
 * and handlers.
 */
import { type Command, command, negated } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./datum.ts")>("./datum.ts");

/** The commands of `cli/datum.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "list datum": command({
    description: "list a job's datums",
    args: ["<job>"],
    options: JSON_OPTION,
    aliases: { "list-datum": {} },
    run: on("listDatum"),
  }),
  "inspect datum": command({
    description: "show one datum of a job",
    args: ["<job>", "<datum>"],
    options: JSON_OPTION,
    aliases: { "inspect-datum": {} },
    run: on("inspectDatum"),
  }),
  "restart datum": command({
    description: "re-run a job's failed datums (or one datum)",
    args: ["<job>", "[datum]"],
    options: { wait: negated("do not run now") },
    aliases: { "restart-datum": {} },
    run: on("restartDatum"),
  }),
};
