/**
 * `loadSnapshot()` on a real store: the headline metric of each pipeline whose output
 * holds metrics, read from the last commits of its output branch (and no more of them).
 */
import assert from "node:assert/strict";
import { Store } from "../../lib/store/store.ts";
import { countJobs, type TuskEvent } from "../../lib/mod.ts";
import { loadSnapshot } from "../../tui/snapshot.ts";
import { initialState, reduce } from "../../tui/state.ts";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";

/** A store with the iris training pipeline (two models) and pipeline `upper` (no metrics). */
async function irisStore() {
  const s = await tempStore();
  const o = { store: s.store };
  await tuskOk(["create", "repo", "training"], o);
  await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${ROOT}/data/iris.csv`], o);
  await tuskOk(["create", "pipeline", "-f", `${ROOT}/pipelines/iris/train.json`], o);
  const lines = (await Deno.readTextFile(`${ROOT}/data/iris.csv`)).trimEnd().split("\n");
  await tuskOk(["put", "file", "training@master:/iris.csv", "-f", "-"], {
    ...o,
    stdin: lines.filter((_, i) => i % 10 !== 9).join("\n") + "\n",
  });
  await tuskOk(["create", "repo", "data"], o);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  await tuskOk(["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/upper.json`], o);
  const shown = JSON.parse(
    (await tuskOk(["metrics", "show", "model@master", "--json"], o)).stdout,
  ) as { metrics: Record<string, number> }[];
  return { ...s, cv: shown.map((r) => r.metrics["cv.accuracy"]!).reverse() };
}

Deno.test("loadSnapshot() gives each pipeline with metrics its headline metric, oldest first", async () => {
  await using s = await irisStore();
  const snapshot = await loadSnapshot(await Store.open(s.store), { jobs: 0 });
  assert.deepEqual(snapshot.metrics, [{ pipeline: "model", metric: "cv.accuracy", values: s.cv }]);
  assert.equal(s.cv.length, 2);
  assert.equal(s.cv[0], 0.9800000000000001);
  assert.deepEqual(snapshot.pipelines.map((p) => p.name), ["model", "upper"]);
});

Deno.test("loadSnapshot() reads no more than metricCommits commits of an output branch", async () => {
  await using s = await irisStore();
  const snapshot = await loadSnapshot(await Store.open(s.store), { jobs: 0, metricCommits: 1 });
  assert.deepEqual(snapshot.metrics, [
    { pipeline: "model", metric: "cv.accuracy", values: [s.cv[1]] },
  ]);
});

Deno.test("loadSnapshot() skips a damaged job record and lists it apart, so the status still loads", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await tuskOk(["create", "repo", "data"], o);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  await tuskOk(["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/upper.json`], o);
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { ...o, stdin: "b\n" });
  const [newer, older] = JSON.parse((await tuskOk(["list", "job", "--json"], o)).stdout) as {
    id: string;
  }[];
  const file = `${s.store}/jobs/upper/${newer!.id}.json`;
  await Deno.writeTextFile(file, "");
  const snapshot = await loadSnapshot(await Store.open(s.store), { jobs: 10 });
  assert.deepEqual(snapshot.jobs?.map((j) => j.id), [older!.id]);
  assert.deepEqual(snapshot.damaged, [{ job: newer!.id, pipeline: "upper", file }]);
  assert.deepEqual(snapshot.repos.map((r) => r.name).sort(), ["data", "upper"]);
});

Deno.test("loadSnapshot() counts every job of the store from the job indexes", async () => {
  await using s = await irisStore();
  const store = await Store.open(s.store);
  const listed = JSON.parse((await tuskOk(["list", "job", "--json"], { store: s.store })).stdout);
  const snapshot = await loadSnapshot(store, { jobs: 1 });
  assert.equal(snapshot.jobs?.length, 1);
  assert.equal(snapshot.jobCount, (listed as unknown[]).length);
  assert.ok(snapshot.jobCount! >= 3);
});

/**
 * A store with pipeline `upper` and one job, and a `countJobs` that puts a file (a new job)
 * just before its `n`th count, as another process may while the dashboard starts.
 */
async function racingStore(n: number) {
  const s = await tempStore();
  const o = { store: s.store };
  await tuskOk(["create", "repo", "data"], o);
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  await tuskOk(["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/upper.json`], o);
  let calls = 0;
  const count = async (store: Store) => {
    if (++calls === n) {
      await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { ...o, stdin: "b\n" });
    }
    return await countJobs(store);
  };
  return { s, count, calls: () => calls };
}

/** The dashboard's job total after the snapshot and then the newest job's own job:created. */
async function totalAfterEvents(
  store: string,
  snapshot: Awaited<ReturnType<typeof loadSnapshot>>,
) {
  const [newest] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as {
    id: string;
    pipeline: string;
    created: string;
  }[];
  const created: TuskEvent = {
    type: "job:created",
    time: newest!.created,
    job: newest!.id,
    pipeline: newest!.pipeline,
    version: 1,
    inputs: [],
  };
  let state = reduce(initialState(), { kind: "snapshot", snapshot });
  state = reduce(state, { kind: "feed", items: [created] });
  return state.totalJobs;
}

for (const n of [1, 2]) {
  Deno.test(`loadSnapshot() counts a job made while it loads once, not twice (made before count ${n})`, async () => {
    const { s, count, calls } = await racingStore(n);
    await using _ = s;
    const store = await Store.open(s.store);
    const snapshot = await loadSnapshot(store, { jobs: 10, countJobs: count });
    assert.equal(snapshot.jobCount, 2);
    assert.equal(snapshot.jobs?.length, 2);
    assert.equal(calls(), n === 1 ? 2 : 3, "a count that moved is followed by a new listing");
    assert.equal(await totalAfterEvents(s.store, snapshot), 2);
  });
}
