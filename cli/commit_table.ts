/**
 * The rows of the command table for `tusk list|inspect commit`, `revert`, `wait commit`: their
 * arguments, options and handlers.
 */
import { type Command, command, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION, MESSAGE, WAIT } from "./_declare.ts";

const on = handlers<typeof import("./commit.ts")>("./commit.ts");

/** The commands of `cli/commit.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "list commit": command({
    description: "list commits, newest first",
    args: ["<repo[@branch]>"],
    options: { number: value("n", "show at most n commits", { short: "n" }), ...JSON_OPTION },
    aliases: { "list-commit": { args: ["<repo>", "[branch]"], to: ["{repo}[@{branch}]"] } },
    run: on("listCommit"),
  }),
  "inspect commit": command({
    description: "show a commit and its provenance",
    args: ["<repo@ref>"],
    options: JSON_OPTION,
    aliases: { "inspect-commit": { args: ["<repo>", "<commit>"], to: ["{repo}@{commit}"] } },
    run: on("inspectCommit"),
  }),
  "revert": command({
    description: "restore an old commit's files as a new commit on the branch",
    args: ["<repo@branch>"],
    options: {
      to: value("commit", "the commit to restore (id, branch^N, or repo@ref)", { required: true }),
      ...WAIT,
      ...MESSAGE,
    },
    run: on("revert"),
  }),
  "wait commit": command({
    description:
      "wait until every downstream job of the branch head finished (run here if no scheduler runs)",
    args: ["<repo@branch>"],
    options: JSON_OPTION,
    aliases: {
      "flush-commit": {
        args: [{ usage: "<repo>", help: "the repo, or repo@commit" }, "[commit]"],
        to: ["{repo}[@{commit}]"],
      },
    },
    run: on("waitCommit"),
  }),
};
