/**
 * The rows of the command table for `tusk create|list|inspect|delete repo`: their arguments,
 * options and handlers.
 */
import { type Command, command, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./repo.ts")>("./repo.ts");

/** The commands of `cli/repo.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "create repo": command({
    description: "create a new repo",
    args: ["<repo>"],
    options: {
      description: value("text", "what the repo holds", { short: "d", allowEmpty: true }),
    },
    aliases: { "create-repo": {} },
    run: on("createRepo"),
  }),
  "list repo": command({
    description: "list repos",
    options: JSON_OPTION,
    aliases: { "list-repo": {} },
    run: on("listRepo"),
  }),
  "inspect repo": command({
    description: "show a repo",
    args: ["<repo>"],
    options: JSON_OPTION,
    aliases: { "inspect-repo": {} },
    run: on("inspectRepo"),
  }),
  "delete repo": command({
    description: "delete a repo (its data becomes garbage for gc)",
    args: ["<repo>"],
    aliases: { "delete-repo": {} },
    run: on("deleteRepo"),
  }),
};
