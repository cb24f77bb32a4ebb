/**
 * Start-up before and after the redesign of the code's structure, in the same run: `list
 * repo` and a one-file `put file`, run by today's `main.ts` and by `main.ts` of the last
 * commit before the redesign (checked out from this repository's history into a scratch
 * worktree), each on a store of its own made by its own code, alternating which goes first.
 * Target: not slower (a ratio at most 1.05, the run-to-run noise of a ~40 ms process).
 *
 * Without git or that commit (a shallow clone), it says so and counts as not run.
 */
import { ROOT, TUSK_PERMS } from "../_helpers.ts";
import { scratchFolder } from "./_fixtures.ts";
import { alternate, measure, taskV8Flags } from "./_process.ts";
import { formatMs, loadAverage, median, Report, runSections, spread } from "./_report.ts";

/** The last commit of `main` before the redesign began (docs split, cli/, spec/, store/). */
export const BEFORE = "09ab827";

const RUNS = 20;

/** Run `git args…` in the checkout; null when it fails. */
async function git(args: readonly string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command("git", { args: [...args], cwd: ROOT, stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** One version of tusk: its `main.ts`, and a store of its own with repo `r` and one file. */
interface Version {
  readonly main: string;
  readonly store: string;
}

const V8 = taskV8Flags("tusk");

function run(v: Version, args: readonly string[]) {
  return measure(Deno.execPath(), ["run", "--quiet", ...TUSK_PERMS, ...V8, v.main, ...args], {
    cwd: ROOT,
    env: { NO_COLOR: "1", TUSK_STORE: v.store },
  });
}

async function prepare(main: string, dir: string): Promise<Version> {
  await Deno.mkdir(dir, { recursive: true });
  const v = { main, store: `${dir}/.tusk` };
  await run(v, ["init"]);
  await run(v, ["create", "repo", "r"]);
  await Deno.writeTextFile(`${dir}/one.txt`, "one line\n");
  await run(v, ["put", "file", "r@master:/one.txt", "-f", `${dir}/one.txt`]);
  return v;
}

async function benchStartup(dir: string, report: Report): Promise<void> {
  const commit = await git(["rev-parse", "--verify", "--quiet", `${BEFORE}^{commit}`]);
  if (commit === null) {
    throw new Error(`commit ${BEFORE} is not in this clone's history (a shallow clone?)`);
  }
  const tree = `${dir}/before`;
  if (await git(["worktree", "add", "--detach", tree, commit]) === null) {
    throw new Error(`cannot check out ${BEFORE} into ${tree}`);
  }
  try {
    const before = await prepare(`${tree}/main.ts`, `${dir}/store-before`);
    const after = await prepare(`${ROOT}/main.ts`, `${dir}/store-after`);
    let n = 0;
    const put = (v: Version) => async () => {
      const file = `${dir}/put-${n++}.txt`;
      await Deno.writeTextFile(file, `line ${n}\n`);
      return await run(v, ["put", "file", `r@master:/f${n}.txt`, "-f", file]);
    };
    const cases: [string, (v: Version) => () => ReturnType<typeof run>][] = [
      ["list repo", (v) => () => run(v, ["list", "repo"])],
      ["put file of one small file", put],
    ];
    for (const [name, make] of cases) {
      await make(after)();
      await make(before)();
      const { tusk, baseline } = await alternate(RUNS, make(after), make(before));
      const a = tusk.map((m) => m.ms);
      const b = baseline.map((m) => m.ms);
      report.add({
        name: `start-up: ${name}`,
        runs: `median of ${RUNS}, alternating`,
        unit: "ms",
        tusk: median(a),
        baseline: { label: `the same at ${BEFORE}`, value: median(b) },
        target: { of: "ratio", op: "≤", limit: 1.05 },
      });
      report.detail(
        `ranges: now ${spread(a)}, before ${spread(b)}; peak memory now ` +
          `${median(tusk.map((m) => m.peakKiB ?? 0)) >> 10} MiB, before ` +
          `${median(baseline.map((m) => m.peakKiB ?? 0)) >> 10} MiB`,
      );
    }
  } finally {
    await git(["worktree", "remove", "--force", tree]);
  }
}

/** Run the start-up benchmark and print the report; 1 when it could not run. */
export async function main(): Promise<number> {
  const started = performance.now();
  const report = new Report();
  let broken: number;
  {
    using scratch = await scratchFolder("/tmp", "tusk-bench-startup-");
    console.log(
      `tusk start-up benchmark: deno ${Deno.version.deno}, scratch ${scratch.path}, ` +
        `load average ${await loadAverage()}`,
    );
    broken = await runSections(scratch.path, [
      [`12. start-up now and at ${BEFORE}, before the redesign`, (d) => benchStartup(d, report)],
    ]);
  }
  await report.printSummary(broken, started);
  console.log(`(${formatMs(performance.now() - started)} in all)`);
  return broken ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main());
