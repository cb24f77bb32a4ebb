/**
 * The rows of the command table for `tusk list|inspect|stop|wait job`: their arguments, options
 * and handlers.
 */
import { type Command, command, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./job.ts")>("./job.ts");

/** The commands of `cli/job.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "list job": command({
    description: "list jobs, newest first",
    options: {
      pipeline: value("name", "only this pipeline's jobs", { short: "p" }),
      number: value("n", "at most n", { short: "n" }),
      ...JSON_OPTION,
    },
    aliases: { "list-job": {} },
    run: on("listJob"),
  }),
  "inspect job": command({
    description: "show a job",
    args: ["<job>"],
    options: JSON_OPTION,
    aliases: { "inspect-job": {} },
    run: on("inspectJob"),
  }),
  "stop job": command({
    description: "stop a running job",
    args: ["<job>"],
    aliases: { "stop-job": {} },
    run: on("stopJob"),
  }),
  "wait job": command({
    description: "wait until a job finished (run here if no scheduler runs)",
    args: ["<job>"],
    options: JSON_OPTION,
    run: on("waitJob"),
  }),
};
