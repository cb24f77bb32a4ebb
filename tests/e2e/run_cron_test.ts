/** `tusk run cron` through the real CLI: it ticks only a pipeline that has a cron input. */
import assert from "node:assert/strict";
import { ROOT, snapshotStore, tempStore } from "../_helpers.ts";
import { assertFails, ok, tusk } from "./_cli.ts";

const IRIS = `${ROOT}/pipelines/iris`;

Deno.test("run cron of a pipeline without a cron input exits 2 naming it and commits nothing", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${IRIS}/train.json`], o);
  const before = await snapshotStore(s.store);
  const r = await tusk(["run", "cron", "model"], o);
  assertFails(r, 2, /Pipeline "model" has no cron input/, /no pipeline here has one/);
  assert.equal(await snapshotStore(s.store), before, "the store is unchanged");
});

Deno.test("run cron of train_cron.json's pipeline commits a tick to its cron repo", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${IRIS}/train_cron.json`], o);
  await ok(["run", "cron", "model", "--no-wait"], o);
  const commits = JSON.parse((await ok(["list", "commit", "model_tick", "--json"], o)).stdout);
  assert.equal(commits.length, 1, "one tick committed");
});
