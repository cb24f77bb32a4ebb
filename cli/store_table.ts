/**
 * The rows of the command table for `tusk init`, `verify`, `gc`: their arguments, options and
 * handlers.
 */
import { type Command, command, flag } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./store.ts")>("./store.ts");

/** The commands of `cli/store.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "init": command({
    description: "create a new store (.tusk in the current folder, or --store DIR)",
    run: on("init"),
  }),
  "verify": command({
    description: "check every hash, chain and link in the store",
    options: JSON_OPTION,
    run: on("verify"),
  }),
  "gc": command({
    description: "delete objects no kept ledger entry reaches",
    options: { dryRun: flag("report what would be freed, delete nothing"), ...JSON_OPTION },
    aliases: { "garbage-collect": {} },
    run: on("gc"),
  }),
};
