/** The dashboard benchmarks' runtime floor: a bare Ink + React app started in a tmux pane. */
import { ROOT, TUSK_PERMS } from "../_helpers.ts";
import { type Pane, shq } from "../tui/_tmux.ts";

/**
 * Start `tests/bench/baseline/ink_hello.ts` in `pane` with tusk's permissions, the Deno `flags`
 * and the environment `env` the dashboard runs with; returns the time to its first frame and
 * its pid.
 */
export async function startBareInk(
  pane: Pane,
  flags: readonly string[],
  env: Readonly<Record<string, string>> = {},
): Promise<{ firstMs: number; pid: number }> {
  const hello = [
    Deno.execPath(),
    "run",
    "--quiet",
    ...TUSK_PERMS,
    ...flags,
    `${ROOT}/tests/bench/baseline/ink_hello.ts`,
  ];
  const set = Object.entries(env).map(([k, v]) => `${k}=${shq(v)}`).join(" ");
  const t0 = performance.now();
  await pane.run(
    `cd ${shq(ROOT)} && env -u NO_COLOR -u CI ${set} ${hello.map(shq).join(" ")}; echo "EXIT=$?"`,
  );
  await pane.waitFor((s) => s.includes("q quit"), "the bare Ink app", 30_000);
  const firstMs = performance.now() - t0;
  const pid = await pane.childPid();
  if (!pid) throw new Error("Cannot find the pid of the bare Ink app");
  return { firstMs, pid };
}
