/**
 * Planning a job from the diff against the job before (`planFromDiff()`) and splicing its
 * output commit: on the same store, copied, the same job is run once as planned from the
 * diff and once planned in full (`planInFull`). Both must end alike: the same output tree
 * (hash), the same state and reason, the same datum records (every datum, whether it ran or
 * was reused, and from which job) but for the run's own times and logs.
 */
import assert from "node:assert/strict";
import type { DatumRecord, JobRecord } from "../../lib/pipeline/jobs.ts";
import { JobStore } from "../../lib/pipeline/jobs.ts";
import { pipelineOf } from "../../lib/pipeline/pipelines.ts";
import { isFinal } from "../../lib/pipeline/states.ts";
import { currentTrigger } from "../../lib/pipeline/trigger.ts";
import { createJob } from "../../lib/scheduler/job_state.ts";
import { planDatums } from "../../lib/pipeline/datums.ts";
import { planFromDiff } from "../../lib/scheduler/plan_diff.ts";
import { planJob, reusableEntries } from "../../lib/scheduler/plan_job.ts";
import { runJob } from "../../lib/scheduler/run_job.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir, tuskOk } from "../_helpers.ts";
import { contextOf } from "./_context.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

/** A pipeline "p" of `stage` over repo "data", with `input` for its input. */
function specOf(stage: string, input: unknown): unknown {
  return {
    pipeline: { name: "p" },
    transform: { cmd: ["deno", "run", stage, "/pfs/data/", "/pfs/out/"] },
    input,
  };
}

/**
 * A folder holding a store at `a/.tusk` whose repo "data" has `files`, and pipeline "p"
 * (`spec`, its stage beside it) created: its first job has run, in full.
 */
async function pipelineStore(
  spec: unknown,
  stage: string,
  files: Record<string, string>,
): Promise<AsyncDisposable & { path: string; store: string }> {
  const dir = await tempDir();
  const store = `${dir.path}/a/.tusk`;
  await tuskOk(["init"], { store });
  await tuskOk(["create", "repo", "data"], { store });
  for (const [path, text] of Object.entries(files)) {
    await tuskOk(["put", "file", `data@master:${path}`, "-f", "-", "--no-wait"], {
      store,
      stdin: text,
    });
  }
  await Deno.copyFile(`${STAGES}/${stage}`, `${dir.path}/${stage}`);
  await Deno.writeTextFile(`${dir.path}/p.json`, JSON.stringify(spec));
  await tuskOk(["create", "pipeline", "-f", `${dir.path}/p.json`], { store });
  return { path: dir.path, store, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

async function put(store: string, path: string, text: string): Promise<void> {
  await tuskOk(["put", "file", `data@master:${path}`, "-f", "-", "--no-wait"], {
    store,
    stdin: text,
  });
}

/** What the two plans must agree on in a datum's record: all but the run's time and logs. */
function comparable(datums: readonly DatumRecord[]) {
  return datums.map(({ durationMs: _, logs: __, ...rest }) => rest);
}

/** How a job ended, for comparing: its state, reason, counts, datums and output tree. */
async function outcome(store: Store, job: JobRecord) {
  return {
    state: job.state,
    reason: job.reason,
    progress: job.progress,
    datums: comparable(job.datums),
    tree: job.outputCommit ? (await store.readCommit(job.outputCommit)).tree : null,
  };
}

/**
 * Create the job the newest commit of "data" calls for, copy the store, and run that one job
 * in each: planned as `runJob()` plans it in the first, planned in full in the copy. Returns
 * whether the first could plan from the diff, and how each ended. `interrupt` cuts the run
 * short after its first datum (the process shutting down) before the copy, and each store
 * resumes it from its saved record, as after a crash.
 */
async function bothWays(root: string, options: { interrupt?: boolean } = {}) {
  const a = await Store.open(`${root}/a/.tusk`);
  const p = await pipelineOf(await a.state(), "p");
  const ctx = contextOf(a);
  const job = await createJob(ctx, p, currentTrigger(await a.state(), p)!);
  const diff = await planFromDiff(a, ctx.jobs, p, job, new Map());
  const fromDiff = diff !== null;
  if (diff) {
    // The records planned from the diff are those of the full plan, as the same JSON text.
    const i = job.inputs[0]!;
    const datums = await planDatums(a, p.parsed.input, new Map([[i.name, i]]), {
      salt: p.parsed.salt,
      codeHash: p.codeHash,
    });
    const index = await reusableEntries(a, datums, await ctx.jobs.datumIndexOf(p));
    const full = planJob(p, job, datums, index, new Map());
    assert.equal(JSON.stringify(diff.records), JSON.stringify(full.records));
    assert.equal(diff.skipped, full.skipped);
  }
  let left = job;
  if (options.interrupt) {
    const shutdown = new AbortController();
    const off = ctx.bus.on((e) => {
      if (e.type === "datum:finished") shutdown.abort();
    });
    left = await runJob({ ...ctx, signal: shutdown.signal }, p, job);
    off();
    assert.ok(!isFinal(left.state), `the job was left to resume, not ${left.state}`);
  }
  const copy = new Deno.Command("cp", { args: ["-a", `${root}/a`, `${root}/b`] });
  assert.equal((await copy.output()).code, 0);

  let ran: JobRecord;
  if (options.interrupt) {
    // Resumed from its saved record, by another process, as after a crash.
    const again = contextOf(await Store.open(`${root}/a/.tusk`));
    ran = await runJob(again, p, await again.jobs.load(job.id, "p"));
  } else ran = await runJob(ctx, p, left);

  const b = await Store.open(`${root}/b/.tusk`);
  const full = contextOf(b, { planInFull: true });
  const inFull = await runJob(
    full,
    await pipelineOf(await b.state(), "p"),
    await full.jobs.load(job.id),
  );
  return {
    id: job.id,
    fromDiff,
    ran: await outcome(a, ran),
    inFull: await outcome(b, inFull),
  };
}

const UPPER_FILES = { "/a.txt": "alpha\n", "/b.txt": "beta\n", "/c.txt": "gamma\n" };
const GLOB_STAR = specOf("upper.ts", { pfs: { repo: "data", glob: "/*" } });

Deno.test("planFromDiff() plans a changed file's datum and splices the full plan's output tree", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  await put(s.store, "/b.txt", "beta two\n");
  const r = await bothWays(s.path);
  assert.ok(r.fromDiff);
  assert.equal(r.ran.state, "SUCCESS");
  assert.deepEqual(r.ran, r.inFull);
  assert.deepEqual(r.ran.progress, { total: 3, processed: 1, skipped: 2, failed: 0, recovered: 0 });
});

Deno.test("planFromDiff() gives the full plan's commit for an added file", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  await put(s.store, "/ab.txt", "between\n");
  const r = await bothWays(s.path);
  assert.ok(r.fromDiff);
  assert.equal(r.ran.progress.total, 4);
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("planFromDiff() gives the full plan's commit for a deleted file", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  await tuskOk(["delete", "file", "data@master:/b.txt", "--no-wait"], { store: s.store });
  const r = await bothWays(s.path);
  assert.ok(r.fromDiff);
  assert.deepEqual(r.ran.progress, { total: 2, processed: 0, skipped: 2, failed: 0, recovered: 0 });
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("planFromDiff() gives the full plan's commit for a file changed back to earlier content", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  await put(s.store, "/b.txt", "beta two\n");
  assert.equal((await bothWays(s.path)).ran.state, "SUCCESS");
  await Deno.remove(`${s.path}/b`, { recursive: true });
  // The datum of the first content succeeded before: it is reused from the first job.
  await put(s.store, "/b.txt", "beta\n");
  const r = await bothWays(s.path);
  assert.ok(r.fromDiff);
  assert.equal(r.ran.progress.processed, 0);
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("planFromDiff() gives the full plan's commit for nested globs (/*/*, /**, /)", async () => {
  const files = {
    "/d/x.txt": "x\n",
    "/d/y.txt": "y\n",
    "/e/z.txt": "z\n",
    "/e/f/u.txt": "u\n",
    "/e/f/w.txt": "w\n",
    "/top.txt": "top\n",
  };
  for (const glob of ["/*/*", "/**", "/"]) {
    await using s = await pipelineStore(
      specOf("listing.ts", { pfs: { repo: "data", glob } }),
      "listing.ts",
      files,
    );
    await put(s.store, "/e/f/w.txt", "w two\n");
    await put(s.store, "/d/v.txt", "v\n");
    await tuskOk(["delete", "file", "data@master:/d/x.txt", "--no-wait"], { store: s.store });
    const r = await bothWays(s.path);
    assert.ok(r.fromDiff, glob);
    assert.equal(r.ran.state, "SUCCESS", `${glob}: ${r.ran.reason}`);
    assert.deepEqual(r.ran, r.inFull, glob);
  }
});

Deno.test("a job after a changed glob is planned in full", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  const spec = specOf("upper.ts", { pfs: { repo: "data", glob: "/a*" } });
  await Deno.writeTextFile(`${s.path}/p.json`, JSON.stringify(spec));
  await tuskOk(["update", "pipeline", "-f", `${s.path}/p.json`, "--no-wait"], { store: s.store });
  await put(s.store, "/b.txt", "beta two\n");
  const r = await bothWays(s.path);
  assert.equal(r.fromDiff, false);
  assert.equal(r.ran.progress.total, 1);
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("a job of a cross input is planned in full", async () => {
  await using s = await pipelineStore(
    specOf("upper.ts", {
      cross: [
        { pfs: { repo: "data", glob: "/*", name: "data" } },
        { pfs: { repo: "data", glob: "/a.txt", name: "one" } },
      ],
    }),
    "upper.ts",
    UPPER_FILES,
  );
  await put(s.store, "/b.txt", "beta two\n");
  const r = await bothWays(s.path);
  assert.equal(r.fromDiff, false);
  assert.equal(r.ran.state, "SUCCESS", r.ran.reason);
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("a changed datum writing a path an unchanged one wrote fails the job as the full plan does", async () => {
  await using s = await pipelineStore(
    specOf("by_content.ts", { pfs: { repo: "data", glob: "/*" } }),
    "by_content.ts",
    { "/a.txt": "one\n", "/b.txt": "two\n" },
  );
  await put(s.store, "/a.txt", "two\nagain\n");
  const r = await bothWays(s.path);
  assert.ok(r.fromDiff);
  assert.equal(r.ran.state, "FAILURE");
  assert.match(r.ran.reason ?? "", /both wrote "\/two"/);
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("a new file where unchanged datums wrote a folder fails the job as the full plan does", async () => {
  await using s = await pipelineStore(
    specOf("file_or_folder.ts", { pfs: { repo: "data", glob: "/*" } }),
    "file_or_folder.ts",
    { "/b.txt": "b\n", "/c.txt": "c\n" },
  );
  await put(s.store, "/a.txt", "a\n");
  const r = await bothWays(s.path);
  assert.ok(r.fromDiff);
  assert.equal(r.ran.state, "FAILURE");
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("a job planned from the diff and cut short resumes to the full plan's commit", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  await put(s.store, "/a.txt", "alpha two\n");
  await put(s.store, "/c.txt", "gamma two\n");
  await put(s.store, "/d.txt", "delta\n");
  const r = await bothWays(s.path, { interrupt: true });
  assert.ok(r.fromDiff);
  assert.equal(r.ran.state, "SUCCESS", r.ran.reason);
  assert.deepEqual(r.ran, r.inFull);
});

Deno.test("a job whose previous output tree is gone or damaged is planned in full", async () => {
  // The earlier job's output commit stays, its root tree is gone or altered (damage): the
  // full plan never reads it, so neither may the plan from the diff fail on it.
  const damages = {
    gone: (file: string) => Deno.remove(file),
    altered: async (file: string) => {
      const bytes = await Deno.readFile(file);
      bytes[bytes.length - 1]! ^= 1;
      await Deno.chmod(file, 0o644);
      await Deno.writeFile(file, bytes);
    },
  };
  for (const [name, damage] of Object.entries(damages)) {
    await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
    const a = await Store.open(s.store);
    const earlier = (await new JobStore(a).latest("p"))!;
    await damage(a.layout.loose((await a.readCommit(earlier.outputCommit!)).tree));
    await put(s.store, "/b.txt", "beta two\n");
    const r = await bothWays(s.path);
    assert.equal(r.fromDiff, false, name);
    assert.equal(r.ran.state, "SUCCESS", `${name}: ${r.ran.reason}`);
    assert.deepEqual(r.ran, r.inFull, name);
  }
});

Deno.test("after a job that skipped, planFromDiff() gives the full plan's datum records as the same JSON text", async () => {
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
  // The second job skips /a.txt and /c.txt; the third plans from its skipped records.
  await put(s.store, "/b.txt", "beta two\n");
  assert.ok((await bothWays(s.path)).fromDiff);
  await Deno.remove(`${s.path}/b`, { recursive: true });
  await put(s.store, "/c.txt", "gamma two\n");
  const store = await Store.open(s.store);
  const p = await pipelineOf(await store.state(), "p");
  const ctx = contextOf(store);
  const job = await createJob(ctx, p, currentTrigger(await store.state(), p)!);
  const earlier = (await ctx.jobs.list({ pipeline: "p", limit: 2 }))[1]!;
  const before = await ctx.jobs.load(earlier.id, "p");
  assert.deepEqual(before.datums.map((d) => d.state), ["SKIPPED", "SUCCESS", "SKIPPED"]);
  const i = job.inputs[0]!;
  const datums = await planDatums(store, p.parsed.input, new Map([[i.name, i]]), {
    salt: p.parsed.salt,
    codeHash: p.codeHash,
  });
  const index = await reusableEntries(store, datums, await ctx.jobs.datumIndexOf(p));
  // A datum tried before (an interrupted run): both plans note its tries.
  for (const attempts of [new Map<string, number>(), new Map([[before.datums[0]!.id, 2]])]) {
    const diff = await planFromDiff(store, ctx.jobs, p, job, attempts);
    assert.ok(diff);
    const full = planJob(p, job, datums, index, attempts);
    assert.equal(JSON.stringify(diff.records), JSON.stringify(full.records));
    assert.equal(diff.skipped, full.skipped);
    assert.equal(diff.records[0]!.tries, attempts.size ? 2 : 0);
  }
});

/** Fields of the CLI's JSON that are the run's own times (and the commit made at one). */
const TIMES = new Set([
  "durationMs",
  "started",
  "finished",
  "created",
  "updated",
  "logs",
  "outputCommit",
]);

/** Run the job the newest commit calls for both ways (see `bothWays()`), then drop the copy. */
async function step(root: string, what: string, state = "SUCCESS") {
  const r = await bothWays(root);
  // As the CLI shows them: the same datums, the same job, but for the run's own times.
  const shown = async (side: string, args: string[]) => {
    const out = (await tuskOk(args, { store: `${root}/${side}/.tusk` })).stdout;
    return JSON.parse(out, (k, v) => TIMES.has(k) ? undefined : v);
  };
  const job = r.id;
  for (
    const args of [["list", "datum", `p@${job}`, "--json"], [
      "inspect",
      "job",
      `p@${job}`,
      "--json",
    ]]
  ) {
    assert.deepEqual(
      await shown("a", args),
      await shown("b", args),
      `${what}: ${args[0]} ${args[1]}`,
    );
  }
  await Deno.remove(`${root}/b`, { recursive: true });
  assert.equal(r.ran.state, state, `${what}: ${r.ran.reason}`);
  assert.deepEqual(r.ran, r.inFull, what);
  return r;
}

Deno.test("a sequence of commits plans each job from the diff as the full plan does, reusing outputs from jobs two and more back", async () => {
  const files = { "/a.txt": "a\n", "/b.txt": "b\n", "/c.txt": "c\n", "/d.txt": "d\n" };
  for (const glob of ["/*", "/**"]) {
    await using s = await pipelineStore(
      specOf("upper.ts", { pfs: { repo: "data", glob } }),
      "upper.ts",
      files,
    );
    await put(s.store, "/b.txt", "b two\n");
    assert.ok((await step(s.path, `${glob} changed`)).fromDiff);
    // /a, /c, /d are skipped by the job before, reusing the first job's outputs.
    await put(s.store, "/c.txt", "c two\n");
    assert.ok((await step(s.path, `${glob} changed again`)).fromDiff);
    // Reverted: /b's first output, from three jobs back.
    await put(s.store, "/b.txt", "b\n");
    const back = await step(s.path, `${glob} reverted`);
    assert.ok(back.fromDiff);
    assert.equal(back.ran.progress.processed, 0);
    // The same content twice: a commit whose tree is that of the one before.
    await put(s.store, "/a.txt", "a\n");
    await step(s.path, `${glob} same content`);
    // A file turned into a folder, another added, one deleted.
    await tuskOk(["delete", "file", "data@master:/d.txt", "--no-wait"], { store: s.store });
    await put(s.store, "/d.txt/x.txt", "dx\n");
    await put(s.store, "/e.txt", "e\n");
    // Under /**, both the folder and its file are datums writing one path: the job fails.
    await step(s.path, `${glob} file to folder`, glob === "/*" ? "SUCCESS" : "FAILURE");
    if (glob !== "/*") continue;
    await put(s.store, "/e.txt", "e two\n");
    assert.ok((await step(s.path, `${glob} after folder`)).fromDiff);
  }
});

Deno.test("records of the job before edited by hand (keys reordered, fields added, tries and exit codes) give the full plan's records", async () => {
  const files = {
    "/a.txt": "a\n",
    "/b.txt": "b\n",
    "/c.txt": "c\n",
    "/d.txt": "d\n",
    "/e.txt": "e\n",
  };
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", files);
  await put(s.store, "/b.txt", "b two\n");
  await step(s.path, "changed");
  const store = await Store.open(s.store);
  const before = (await new JobStore(store).latest("p"))!;
  const file = store.layout.job("p", before.id);
  // Written back in the single form (its datums in its file), as a store before kept it.
  const record = JSON.parse(JSON.stringify(before));
  const [a, , c, d, e] = record.datums as Record<string, unknown>[];
  assert.deepEqual([a, c, d, e].map((r) => r!.state), ["SKIPPED", "SKIPPED", "SKIPPED", "SKIPPED"]);
  // Keys in another order; an extra field; an input with an extra field; tries and an exit
  // code left from runs that failed.
  record.datums[0] = Object.fromEntries(Object.entries(a!).reverse());
  c!.note = "kept by hand";
  (d!.inputs as Record<string, unknown>[])[0]!.extra = 1;
  Object.assign(e!, { tries: 3, exitCode: 2, durationMs: 12 });
  await Deno.chmod(file, 0o644).catch(() => {});
  await Deno.writeTextFile(file, JSON.stringify(record));
  await put(s.store, "/b.txt", "b three\n");
  const r = await step(s.path, "after the edit");
  assert.ok(r.fromDiff);
  assert.deepEqual(r.ran.progress, { total: 5, processed: 1, skipped: 4, failed: 0, recovered: 0 });
});

Deno.test("a folder in chunks of thousands of files, changed over several commits, a datum failing then mended: each job as the full plan's", async () => {
  const spec = {
    pipeline: { name: "p" },
    transform: { cmd: ["deno", "run", "batch_upper.ts", "/pfs/data/big/", "/pfs/out/"] },
    datumBatching: true,
    datumTries: 1,
    input: { pfs: { repo: "data", glob: "/big/*" } },
  };
  await using s = await pipelineStore(spec, "batch_upper.ts", { "/small.txt": "small\n" });
  const folder = `${s.path}/big`;
  await Deno.mkdir(folder);
  for (let i = 0; i < 4200; i++) await Deno.writeTextFile(`${folder}/f${i}.txt`, `file ${i}\n`);
  await tuskOk(["put", "file", "data@master:/big", "-r", "-f", folder, "--no-wait"], {
    store: s.store,
  });
  await Deno.remove(folder, { recursive: true });
  const store = await Store.open(s.store);
  const tree =
    (await store.readCommit((await store.state()).repos.data!.branches.master!.head!)).tree;
  const big = (await store.readTree(tree)).find((e) => e.name === "big")!;
  assert.ok(((await store.fanoutOf(big.hash)) ?? []).length > 1, "the folder is in chunks");
  store.objects.close();
  // The first job over them runs once, as "wait commit" runs it.
  await tuskOk(["wait", "commit", "data@master"], { store: s.store });
  await put(s.store, "/big/f10.txt", "file ten\n");
  await put(s.store, "/big/f4199.txt", "file last\n");
  assert.ok((await step(s.path, "two changed")).fromDiff);
  // The same content in two files; a file that fails its datum.
  await put(s.store, "/big/f2000.txt", "file 10\n");
  await put(s.store, "/big/f3000.txt", "bad\n");
  await step(s.path, "one failing", "FAILURE");
  await put(s.store, "/big/f3000.txt", "mended\n");
  await step(s.path, "mended");
  await put(s.store, "/big/f10.txt", "file 10\n");
  await tuskOk(["delete", "file", "data@master:/big/f11.txt", "--no-wait"], { store: s.store });
  const r = await step(s.path, "reverted and deleted");
  assert.ok(r.fromDiff);
  assert.equal(r.ran.progress.total, 4199);
});

Deno.test("a reused datum whose output tree or file was deleted by hand runs again, as in the full plan", async () => {
  for (const what of ["tree", "file"] as const) {
    await using s = await pipelineStore(GLOB_STAR, "upper.ts", UPPER_FILES);
    await put(s.store, "/b.txt", "beta two\n");
    await step(s.path, `${what}: changed`);
    const store = await Store.open(s.store);
    const before = (await new JobStore(store).latest("p"))!;
    // /a.txt: skipped by the job before, reusing the first job's output.
    const a = before.datums[0]!;
    assert.equal(a.state, "SKIPPED");
    const gone = what === "tree"
      ? a.outputTree!
      : (await store.readTree(a.outputTree!)).find((e) => e.name === "a.txt")!.hash;
    store.objects.close();
    await Deno.remove(store.layout.loose(gone));
    await put(s.store, "/c.txt", "gamma two\n");
    const r = await step(s.path, `${what}: after the delete`);
    assert.equal(r.ran.progress.processed, 2, what);
    assert.equal(r.ran.datums[0]!.state, "SUCCESS", what);
  }
});

Deno.test("a job planned from the diff of one that skipped, cut short, resumes to the full plan's records and commit", async () => {
  const files = { "/a.txt": "a\n", "/b.txt": "b\n", "/c.txt": "c\n", "/d.txt": "d\n" };
  await using s = await pipelineStore(GLOB_STAR, "upper.ts", files);
  await put(s.store, "/b.txt", "b two\n");
  await step(s.path, "changed");
  // /a and /d are skipped by the job before, reusing the first job's outputs.
  await put(s.store, "/c.txt", "c two\n");
  await put(s.store, "/b.txt", "b three\n");
  await put(s.store, "/e.txt", "e\n");
  const r = await bothWays(s.path, { interrupt: true });
  assert.ok(r.fromDiff);
  assert.equal(r.ran.state, "SUCCESS", r.ran.reason);
  assert.deepEqual(r.ran, r.inFull);
  // /a and /d reuse the first job's outputs (a datum that ran before the cut is reused too).
  const [a, , , d] = r.ran.datums;
  assert.equal(a!.state, "SKIPPED");
  assert.equal(d!.reusedFrom, a!.reusedFrom);
  assert.notEqual(a!.reusedFrom, r.id);
});

Deno.test("reused outputs whose pack was deleted by hand run again, as in the full plan", async () => {
  const files = Object.fromEntries(
    Array.from({ length: 20 }, (_, i) => [`/f${i}.txt`, `file ${i}\n`]),
  );
  const spec = {
    pipeline: { name: "p" },
    transform: { cmd: ["deno", "run", "batch_upper.ts", "/pfs/data/", "/pfs/out/"] },
    datumBatching: true,
    input: { pfs: { repo: "data", glob: "/*" } },
  };
  await using s = await pipelineStore(spec, "batch_upper.ts", files);
  await put(s.store, "/f3.txt", "three\n");
  await step(s.path, "changed");
  const packs = [...Deno.readDirSync(`${s.store}/packs`)].map((e) => e.name);
  assert.ok(packs.some((name) => name.endsWith(".pack")), "the first job's outputs are packed");
  for (const name of packs) await Deno.remove(`${s.store}/packs/${name}`);
  await put(s.store, "/f4.txt", "four\n");
  const r = await step(s.path, "after the packs went");
  // Every output was in the packs but those of the job before (/f3): all but it run again.
  assert.equal(r.ran.progress.processed, 19);
});
