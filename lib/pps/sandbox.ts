/**
 * Which sandbox stages get here (`detectSandbox`): what a command that may run jobs starts
 * finding out first, so its own module loads only this and the trial runs meanwhile.
 */
export { detectSandbox, type SandboxChoice } from "../runner/detect.ts";
