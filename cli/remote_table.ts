/**
 * The rows of the command table for `tusk remote add|list|remove|verify`, `push`, `pull`, `clone`:
 * their arguments, options and handlers.
 */
import { type Command, command, negated } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./remote.ts")>("./remote.ts");

/** The commands of `cli/remote.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "remote add": command({
    description: "add a remote: a folder, file:///path or s3://bucket/prefix",
    args: ["<name>", "<url>"],
    options: JSON_OPTION,
    run: on("remoteAdd"),
  }),
  "remote list": command({
    description: "list the remotes",
    options: JSON_OPTION,
    run: on("remoteList"),
  }),
  "remote remove": command({
    description: "forget a remote (the remote itself is left as it is)",
    args: ["<name>"],
    options: JSON_OPTION,
    run: on("remoteRemove"),
  }),
  "remote verify": command({
    description: "check a whole remote: its log, every pack and object re-hashed",
    args: ["<name>"],
    options: JSON_OPTION,
    run: on("remoteVerify"),
  }),
  "push": command({
    description: "send repos, pipelines and jobs to a remote (branches move fast-forward only)",
    args: ["<remote>", {
      usage: "[repo[@branch]...]",
      help: "what to push (default: every repo, branch and pipeline)",
    }],
    options: JSON_OPTION,
    run: on("push"),
  }),
  "pull": command({
    description: "take repos, pipelines and jobs from a remote (fast-forward only)",
    args: ["<remote>", {
      usage: "[repo[@branch]...]",
      help: "what to pull (default: every repo, branch and pipeline)",
    }],
    options: { ...JSON_OPTION, wait: negated("do not run the jobs the pulled commits trigger") },
    run: on("pull"),
  }),
  "clone": command({
    description: "make a new store from a remote (in <dir>/.tusk, or at --store)",
    args: ["<url>", "[dir]"],
    options: JSON_OPTION,
    run: on("clone"),
  }),
};
