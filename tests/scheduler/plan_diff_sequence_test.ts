/**
 * Planning from the diff over a long sequence of input commits: after each change the job it
 * calls for runs twice, on the store and on a copy of it, planned from the diff in one and
 * in full in the other; both must end alike (state, reason, counts, datum records, output
 * tree and size). The store goes on from the job planned from the diff, so each later job
 * is planned from an output that was itself spliced. The changes are those a diff can get
 * wrong: renames, a file turned into a folder and back, everything deleted then put back,
 * the branch moved back to an older commit (the job before then ran on a later one),
 * datums writing nothing or into one shared folder, a datum failing then fixed.
 */
import assert from "node:assert/strict";
import { createBranch } from "../../lib/commands/commit.ts";
import { deleteFile } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import type { JobRecord } from "../../lib/pipeline/jobs.ts";
import { pipelineOf } from "../../lib/pipeline/pipelines.ts";
import { currentTrigger } from "../../lib/pipeline/trigger.ts";
import { createJob } from "../../lib/scheduler/job_state.ts";
import { planFromDiff } from "../../lib/scheduler/plan_diff.ts";
import { runJob } from "../../lib/scheduler/run_job.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir, tuskOk } from "../_helpers.ts";
import { contextOf } from "./_context.ts";

async function outcome(store: Store, job: JobRecord) {
  const commit = job.outputCommit ? await store.readCommit(job.outputCommit) : null;
  return {
    state: job.state,
    reason: job.reason,
    progress: job.progress,
    datums: job.datums.map(({ durationMs: _, logs: __, ...rest }) => rest),
    tree: commit?.tree ?? null,
    size: commit?.size ?? null,
  };
}

/** One change of repo "data"'s master branch; `heads` are its earlier heads, oldest first. */
type Change = (store: Store, heads: readonly string[]) => Promise<unknown>;

const put = (path: string, text: string): Change => (store) =>
  putFile(store, `data@master:${path}`, { sources: ["-"], stdin: new Blob([text]).stream() });
const del = (path: string): Change => (store) => deleteFile(store, `data@master:${path}`);
const back = (n: number): Change => (store, heads) =>
  createBranch(store, "data@master", { head: heads[heads.length - 1 - n]! });
const all = (...changes: Change[]): Change => async (store, heads) => {
  for (const c of changes) await c(store, heads);
};

/** Each step's changes; a file's content says what the stage makes of it (see mixed.ts). */
const STEPS: [string, Change][] = [
  ["a file changed", put("/a", "alpha two")],
  ["a file renamed", all(del("/b"), put("/b2", "beta"))],
  ["a file turned into a folder", all(del("/c"), put("/c/m", "gamma"))],
  [
    "two datums writing into one shared folder",
    all(put("/d/x", "shared x"), put("/e", "shared e")),
  ],
  ["a datum writing nothing", put("/a", "none")],
  ["the folder turned back into a file", all(del("/c"), put("/c", "deep c"))],
  ["a datum failing", put("/e", "fail")],
  ["the failing datum fixed", put("/e", "shared e again")],
  ["the branch moved back two commits", back(2)],
  ["everything deleted", all(del("/a"), del("/b2"), del("/c"), del("/d"), del("/e"))],
  ["files put back, with earlier contents", all(put("/a", "alpha two"), put("/d/x", "shared x"))],
  [
    "names sorting around a folder",
    all(put("/d-1", "dash"), put("/d 2", "space"), put("/d/y", "y")),
  ],
];

for (const glob of ["/*", "/*/*", "/d/*", "/[a-c]*"]) {
  Deno.test(`a job planned from the diff ends as the full plan after each change (glob ${glob})`, async () => {
    await using dir = await tempDir();
    const store = `${dir.path}/a/.tusk`;
    await tuskOk(["init"], { store });
    await tuskOk(["create", "repo", "data"], { store });
    const a = await Store.open(store);
    for (const [path, text] of [["/a", "alpha"], ["/b", "beta"], ["/c", "gamma"], ["/d/x", "x"]]) {
      await put(path!, text!)(a, []);
    }
    await Deno.copyFile(`${ROOT}/tests/fixtures/stages/mixed.ts`, `${dir.path}/mixed.ts`);
    await Deno.writeTextFile(
      `${dir.path}/p.json`,
      JSON.stringify({
        pipeline: { name: "p" },
        datumTries: 1,
        transform: { cmd: ["deno", "run", "mixed.ts", "/pfs/data/", "/pfs/out/"] },
        input: { pfs: { repo: "data", glob } },
      }),
    );
    await tuskOk(["create", "pipeline", "-f", `${dir.path}/p.json`], { store });
    const heads: string[] = [(await a.state()).repos["data"]!.branches["master"]!.head!];
    let fromDiff = 0;
    for (const [what, change] of STEPS) {
      await change(a, heads);
      heads.push((await a.state()).repos["data"]!.branches["master"]!.head!);
      const ctx = contextOf(a);
      const p = await pipelineOf(await a.state(), "p");
      const job = await createJob(ctx, p, currentTrigger(await a.state(), p)!);
      if (await planFromDiff(a, ctx.jobs, p, job, new Map())) fromDiff++;
      await Deno.remove(`${dir.path}/b`, { recursive: true }).catch(() => {});
      const copy = new Deno.Command("cp", { args: ["-a", `${dir.path}/a`, `${dir.path}/b`] });
      assert.equal((await copy.output()).code, 0);
      const ran = await outcome(a, await runJob(ctx, p, job));
      const b = await Store.open(`${dir.path}/b/.tusk`);
      const full = contextOf(b, { planInFull: true });
      const inFull = await runJob(
        full,
        await pipelineOf(await b.state(), "p"),
        await full.jobs.load(job.id),
      );
      assert.deepEqual(ran, await outcome(b, inFull), `${glob}, after ${what}`);
    }
    // Most jobs were planned from the diff (not those after the failure, nor the first).
    assert.ok(fromDiff >= STEPS.length / 2, `only ${fromDiff} jobs planned from the diff`);
  });
}
