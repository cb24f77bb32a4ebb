/**
 * `tusk doctor`: reports Deno, the store's health, the sandbox in force, the scheduler and
 * cron pipelines' next ticks, and says what to do about each problem it finds.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore } from "../_helpers.ts";
import { ok, tusk } from "./_cli.ts";

Deno.test("doctor exits 0 on a healthy store and reports the sandbox in force", async () => {
  await using s = await tempStore();
  await ok(["create", "repo", "data"], { store: s.store });
  const r = await ok(["doctor"], { store: s.store });
  assert.match(r.stdout, new RegExp(`^Deno: ${Deno.version.deno.replaceAll(".", "\\.")}$`, "m"));
  assert.match(r.stdout, /^Health: ok$/m);
  assert.match(r.stdout, /^Sandbox: (bwrap|deno) \(.+\)$/m);
  assert.match(r.stdout, /^Scheduler: not running/m);
  const report = JSON.parse((await ok(["doctor", "--json"], { store: s.store })).stdout);
  assert.ok(["bwrap", "deno"].includes(report.sandbox));
  assert.deepEqual(report.cron, []);
  assert.ok(Array.isArray(report.problems));
});

Deno.test("doctor exits 1 and says why and what to do when one byte of the ledger is flipped", async () => {
  await using s = await tempStore();
  await ok(["create", "repo", "data"], { store: s.store });
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "a\n" });
  const ledger = `${s.store}/ledger`;
  const bytes = await Deno.readFile(ledger);
  const at = bytes.indexOf(10) + 20;
  bytes[at] = bytes[at]! ^ 0x01;
  await Deno.writeFile(ledger, bytes);
  const r = await tusk(["doctor"], { store: s.store });
  assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /^Health: BROKEN: .*ledger/im);
  assert.match(r.stdout, /restore the store from a backup/);
  assert.match(r.stderr, /^tusk: The store failed verification$/m);
});

Deno.test("doctor lists cron pipelines with their next tick and says a scheduler must run", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${ROOT}/pipelines/iris/train_cron.json`], o);
  const before = Date.now();
  const r = await ok(["doctor"], o);
  assert.match(
    r.stdout,
    /^Cron: model input tick \(@every 60s\) next tick in .+ \(\d{4}-\d\d-\d\dT.+Z\)$/m,
  );
  assert.match(r.stdout, /^ {2}- cron pipelines tick only while a scheduler runs .*tusk up/m);
  const report = JSON.parse((await ok(["doctor", "--json"], o)).stdout);
  assert.equal(report.cron.length, 1);
  const next = Date.parse(report.cron[0].next);
  assert.ok(next > before && next <= Date.now() + 60_000, report.cron[0].next);
  await ok(["stop", "pipeline", "model"], o);
  assert.match((await ok(["doctor"], o)).stdout, /^Cron: model input tick \(@every 60s\) paused$/m);
});
