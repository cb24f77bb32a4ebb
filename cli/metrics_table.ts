/**
 * The rows of the command table for `tusk metrics show|diff` and `plots`: their arguments, options
 * and handlers.
 */
import { type Command, command, flag, list, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./metrics.ts")>("./metrics.ts");

/** The commands of `cli/metrics.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "metrics show": command({
    description: "each commit's metrics (metrics.json), newest first",
    args: [{
      usage: "<repo@branch[:/path]>",
      help: "the branch (and file, /metrics.json by default)",
    }],
    options: {
      number: value("n", "at most n commits", { short: "n" }),
      metric: list("name", "metrics or patterns (per_class.*.f1) to show"),
      all: flag("show every metric, not the headline ones"),
      ...JSON_OPTION,
    },
    run: on("metricsShow"),
  }),
  "metrics diff": command({
    description: "each metric's old and new value (default: the commit against its parent)",
    args: [
      { usage: "<repo@ref>", help: "the new side (:/path for another file), or the old of two" },
      { usage: "[repo@ref]", help: "the new side (repo@ref, or a ref of the first's repo)" },
    ],
    options: {
      metric: list("name", "metrics or patterns (per_class.*.f1) to compare"),
      all: flag("list unchanged metrics too"),
      ...JSON_OPTION,
    },
    run: on("metricsDiff"),
  }),
  "plots": command({
    description: "draw a metric over a branch's commits and the newest confusion matrix",
    args: [{
      usage: "<repo@branch[:/path]>",
      help: "the branch (and file, /metrics.json by default)",
    }],
    options: {
      output: value("file", "the file to write: FILE.svg or FILE.html", {
        short: "o",
        required: true,
      }),
      metric: list("name", "metrics to plot (default cv.accuracy, else accuracy)"),
      number: value("n", "the newest n commits only", { short: "n" }),
    },
    run: on("plots"),
  }),
};
