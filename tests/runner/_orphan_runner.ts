/**
 * Runs the hostile stage that ignores SIGTERM through runStage() and prints "started"
 * once it is up; the test kills this process to see the stage die with its supervisor.
 * Args: <mode> <nonce> <workspace root>.
 */
import { runStage } from "../../lib/runner/run_stage.ts";
import type { SandboxMode } from "../../lib/runner/sandbox.ts";

const [mode, nonce, root] = Deno.args as [SandboxMode, string, string];
await runStage({
  bundle: new URL("../fixtures/hostile/ignore_sigterm.js", import.meta.url).pathname,
  args: [nonce],
  inputs: [],
  outDir: `${root}/out`,
  scratchDir: `${root}/scratch`,
  mode,
  onLog: (_stream, line) => {
    if (line === "started") console.log("started");
  },
});
