/**
 * The rows of the command table for `tusk put|get|list|glob|diff|delete file` and `lineage`: their
 * arguments, options and handlers.
 */
import { type Command, command, flag, list, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION, MESSAGE, WAIT } from "./_declare.ts";

const on = handlers<typeof import("./file.ts")>("./file.ts");
const onPut = handlers<typeof import("./put_file.ts")>("./put_file.ts");

/** The commands of `cli/file.ts` and `cli/put_file.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "list file": command({
    description: "list the files in a folder",
    args: ["<repo@ref[:/path]>"],
    options: {
      number: value("n", "at most n entries (a page)", { short: "n" }),
      after: value("name", "start after this name (the last of the page before)"),
      ...JSON_OPTION,
    },
    aliases: {
      "list-file": { args: ["<repo>", "<ref>", "[path]"], to: ["{repo}@{ref}[:{path}]"] },
    },
    run: on("listFile"),
  }),
  "delete file": command({
    description: "delete a file or folder in a new commit",
    args: ["<repo@branch:/path>"],
    options: { ...MESSAGE, ...WAIT },
    aliases: {
      "delete-file": { args: ["<repo>", "<ref>", "<path>"], to: ["{repo}@{ref}:{path}"] },
    },
    run: on("deleteFile"),
  }),
  "put file": command({
    description: "put files into a new commit (overwrites; --append appends)",
    args: ["<repo@branch[:/path]>"],
    options: {
      file: list("source", "a file, a folder with -r, or - for standard input", { short: "f" }),
      recursive: flag("put a folder with everything in it", { short: "r" }),
      append: flag("append to files instead of overwriting them", { short: "a" }),
      ...MESSAGE,
      commit: flag("accepted for pachctl 1.8 (every put is its own commit)", { short: "c" }),
      skipSpecial: flag("skip symlinks, FIFOs and devices with a warning instead of failing"),
      ...WAIT,
    },
    aliases: {
      "put-file": {
        args: ["<repo>", "<branch>", "[path]"],
        to: ["{repo}@{branch}[:{path}]"],
        defaults: { append: true },
        flags: {
          overwrite: {
            short: "o",
            help: "overwrite files (in 1.x form put-file appends to them)",
            sets: { append: false },
          },
        },
        description:
          "(1.x) put files into a new commit, appending to files that exist (-o overwrites)",
      },
    },
    run: onPut("putFile"),
  }),
  "get file": command({
    description: "print a file, or write files with -o",
    args: ["<repo@ref:/path>"],
    options: {
      output: value("path", "write to this file (a folder with -r)", { short: "o" }),
      recursive: flag("get a folder with everything in it", { short: "r" }),
    },
    aliases: { "get-file": { args: ["<repo>", "<ref>", "<path>"], to: ["{repo}@{ref}:{path}"] } },
    run: on("getFile"),
  }),
  "glob file": command({
    description: "list the files matching a pattern",
    args: ["<repo@ref:pattern>"],
    options: JSON_OPTION,
    aliases: {
      "glob-file": { args: ["<repo>", "<ref>", "<pattern>"], to: ["{repo}@{ref}:{pattern}"] },
    },
    run: on("globFile"),
  }),
  "diff file": command({
    description: "list what changed (against the parent commit by default)",
    args: ["<new-repo@ref[:/path]>", "[old-repo@ref[:/path]]"],
    options: JSON_OPTION,
    aliases: {
      "diff-file": {
        args: ["<repo>", "<ref>", "[path]", "[old-repo]", "[old-ref]", "[old-path]"],
        to: ["{repo}@{ref}[:{path}]", "[{old-repo}@{old-ref}[:{old-path}]]"],
      },
    },
    run: on("diffFile"),
  }),
  "lineage": command({
    description: "which input files, model and code made this file",
    args: ["<repo@ref:/path>"],
    options: JSON_OPTION,
    run: on("lineage"),
  }),
};
