/**
 * The rows of the command table for `tusk create|list|delete branch`: their arguments, options and
 * handlers.
 */
import { type Command, command, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION, WAIT } from "./_declare.ts";

const on = handlers<typeof import("./branch.ts")>("./branch.ts");

/** The commands of `cli/branch.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "create branch": command({
    description: "create a branch, or move it with --head",
    args: ["<repo@branch>"],
    options: { head: value("commit", "commit or branch to point at (repo@ref or ref)"), ...WAIT },
    aliases: { "create-branch": { args: ["<repo>", "<branch>"], to: ["{repo}@{branch}"] } },
    run: on("createBranch"),
  }),
  "list branch": command({
    description: "list a repo's branches",
    args: ["<repo>"],
    options: JSON_OPTION,
    aliases: { "list-branch": {} },
    run: on("listBranch"),
  }),
  "delete branch": command({
    description: "delete a branch",
    args: ["<repo@branch>"],
    aliases: { "delete-branch": { args: ["<repo>", "<branch>"], to: ["{repo}@{branch}"] } },
    run: on("deleteBranch"),
  }),
};
