/**
 * The lean surface for running the jobs a command's commits triggered (`put file`, `create
 * branch`, `start pipeline`…): finding the sandbox and running the jobs, without the spec
 * parser (and zod), the other verbs and the export code that `lib/mod.ts` loads — about half
 * of the CPU time of loading the library here. `lib/mod.ts` re-exports all of it.
 */
export { runTriggered } from "./commands/run.ts";
export type { RunTriggeredOptions, TriggeredRun } from "./commands/run.ts";
export { detectSandbox, type SandboxChoice } from "./runner/detect.ts";
export { TuskError } from "./errors.ts";
