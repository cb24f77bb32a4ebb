/**
 * The rows of the command table for `tusk create|list|inspect|update|delete|start|stop|draw
 * pipeline`, `plan`, `run cron`: their arguments, options and handlers.
 */
import { type Command, command, flag, negated, value } from "../lib/cli/command_line.ts";
import { handlers, JSON_OPTION } from "./_declare.ts";

const on = handlers<typeof import("./pipeline.ts")>("./pipeline.ts");
const onCreate = handlers<typeof import("./create_pipeline.ts")>("./create_pipeline.ts");

/** The commands of `cli/pipeline.ts` and `cli/create_pipeline.ts`, by the words that name them; main.ts places them. */
export const rows: Readonly<Record<string, Command>> = {
  "create pipeline": command({
    description: "create a pipeline from a Pachyderm spec",
    options: {
      file: value("spec.json", "the pipeline spec (Pachyderm JSON)", {
        short: "f",
        required: true,
      }),
      wait: negated("do not run the triggered jobs now"),
    },
    aliases: { "create-pipeline": {} },
    run: onCreate("createPipeline"),
  }),
  "list pipeline": command({
    description: "list pipelines",
    options: JSON_OPTION,
    aliases: { "list-pipeline": {} },
    run: on("listPipeline"),
  }),
  "inspect pipeline": command({
    description: "show a pipeline and its spec",
    args: ["<name>"],
    options: JSON_OPTION,
    aliases: { "inspect-pipeline": {} },
    run: on("inspectPipeline"),
  }),
  "delete pipeline": command({
    description: "delete a pipeline and its output repo",
    args: ["<name>"],
    aliases: { "delete-pipeline": {} },
    run: on("deletePipeline"),
  }),
  "update pipeline": command({
    description: "update a pipeline from a new spec",
    options: {
      file: value("spec.json", "the new pipeline spec", { short: "f", required: true }),
      reprocess: flag(
        "re-run every datum, even those done before with the same inputs and code",
      ),
      wait: negated("do not run the triggered jobs now"),
    },
    aliases: { "update-pipeline": {} },
    run: onCreate("updatePipeline"),
  }),
  "start pipeline": command({
    description: "resume a stopped pipeline",
    args: ["<name>"],
    options: { wait: negated("do not run triggered jobs now") },
    aliases: { "start-pipeline": {} },
    run: on("startPipeline"),
  }),
  "stop pipeline": command({
    description: "start no new jobs of a pipeline until it is started again",
    args: ["<name>"],
    aliases: { "stop-pipeline": {} },
    run: on("stopPipeline"),
  }),
  "plan": command({
    description: "which datums the next job would run or skip, and why",
    args: ["<pipeline>"],
    options: JSON_OPTION,
    run: on("plan"),
  }),
  "draw pipeline": command({
    description: "draw the pipeline DAG as text",
    run: on("drawPipeline"),
  }),
  "run cron": command({
    description: "commit a tick to a cron pipeline's input now",
    args: ["<pipeline>"],
    options: { wait: negated("do not run the triggered job now") },
    run: on("runCron"),
  }),
};
