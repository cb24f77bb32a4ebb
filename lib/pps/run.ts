/**
 * Running the jobs a command's commits triggered (`runTriggered`): the scheduler's inline
 * run and the runner, without the rest of the library's verbs.
 */
export { runTriggered } from "../commands/run.ts";
