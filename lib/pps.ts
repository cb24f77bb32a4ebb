/**
 * The lean surface of the commands that create pipelines and run the jobs commits trigger:
 * loading it loads no metrics, remote, lineage, export or integrity code, which keeps `create
 * pipeline` and a `put file` that starts jobs quick to start. It is the union of `pps/`:
 * sandbox detection (`pps/sandbox.ts`), `createPipeline` (`pps/pipeline.ts`) and
 * `runTriggered` (`pps/run.ts`), which a command of the CLI imports alone. `lib/mod.ts`
 * re-exports all of it.
 */
export * from "./pps/sandbox.ts";
export * from "./pps/pipeline.ts";
export * from "./pps/run.ts";
