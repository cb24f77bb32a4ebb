/**
 * The round trip both remote kinds must make: store A pushes, B clones, B makes a commit and
 * a job and pushes, A pulls; then both verify and show the same commits, jobs and lineage.
 * Shared by the folder and the S3 tests.
 */
import assert from "node:assert/strict";
import { rjson, rok, type RunOptions, STAGES } from "./_remote.ts";

interface Job {
  id: string;
  pipeline: string;
  state: string;
  outputCommit?: string;
  progress: { processed: number; skipped: number; total: number };
}

interface Commit {
  id: string;
}

/** What both sides must agree on: commits of every branch, jobs, and a file's lineage. */
async function view(o: RunOptions) {
  const commits = async (ref: string) =>
    (await rjson<Commit[]>(["list", "commit", ref], o)).map((c) => c.id);
  const jobs = (await rjson<Job[]>(["list", "job"], o)).map((j) => [j.id, j.state, j.outputCommit]);
  return {
    data: await commits("data@master"),
    upper: await commits("upper@master"),
    jobs,
    lineage: (await rok(["lineage", "upper@master:/a.txt"], o)).stdout,
    inspect: (await rok(["inspect", "commit", "upper@master", "--json"], o)).stdout,
  };
}

/** Run the round trip through `url` (a folder or s3:// URL) with `env` (the AWS settings). */
export async function roundTrip(
  dir: string,
  url: string,
  env: Record<string, string> = {},
): Promise<void> {
  const a = { store: `${dir}/a/.tusk`, env };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["create", "pipeline", "-f", `${STAGES}/upper.json`], a);
  await rok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...a, stdin: "alpha\n" });
  await rok(["remote", "add", "origin", url], a);
  const pushed = await rjson<{ branches: unknown[]; jobs: number }>(["push", "origin"], a);
  assert.equal(pushed.jobs, 1);

  const b = { store: `${dir}/b/.tusk`, env };
  await rok(["clone", url, `${dir}/b`], { env });
  assert.deepEqual(await view(b), await view(a), "the clone answers as the origin");
  assert.equal(
    (await rok(["logs", "--pipeline", "upper"], b)).stdout,
    (await rok(["logs", "--pipeline", "upper"], a)).stdout,
  );
  assert.equal((await rok(["get", "file", "upper@master:/a.txt"], b)).stdout, "ALPHA\n");

  // A commit and a job in B: its earlier datum is reused from the pulled datum index.
  await rok(["put", "file", "data@master:/b.txt", "-f", "-"], { ...b, stdin: "beta\n" });
  const jobs = await rjson<Job[]>(["list", "job"], b);
  assert.equal(jobs.length, 2);
  assert.deepEqual(
    [jobs[0]!.state, jobs[0]!.progress.processed, jobs[0]!.progress.skipped],
    ["SUCCESS", 1, 1],
    "the new job ran only the new datum",
  );
  await rok(["push", "origin"], b);
  const pulled = await rjson<{ jobs: number; branches: { repo: string }[] }>(["pull", "origin"], a);
  assert.equal(pulled.jobs, 1);
  assert.deepEqual(pulled.branches.map((x) => x.repo).sort(), ["data", "upper"]);
  assert.deepEqual(await view(a), await view(b), "after the pull, A shows what B has");
  assert.equal((await rok(["get", "file", "upper@master:/b.txt"], a)).stdout, "BETA\n");
  for (const o of [a, b]) await rok(["verify"], o);
}
