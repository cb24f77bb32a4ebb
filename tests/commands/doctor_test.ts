/** `doctor()`: the report of a machine and store, returned whole even for a broken store. */
import assert from "node:assert/strict";
import { doctor } from "../../lib/commands/doctor.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { createPipeline, setPipelineStopped } from "../../lib/pipeline/pipelines.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir } from "../_helpers.ts";
import { createPipeline as create } from "../../lib/commands/pipelines.ts";
import { HOST_SANDBOX } from "../runner/_host.ts";

const CRON_SPEC = `${ROOT}/tests/fixtures/stages/cron.json`;

Deno.test("doctor() reports a store that fails verification, with what to do, instead of throwing", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "data");
  await createRepo(store, "more");
  const ledger = `${store.root}/ledger`;
  const bytes = await Deno.readFile(ledger);
  const at = bytes.indexOf(10) + 20;
  bytes[at] = bytes[at]! ^ 0x01;
  await Deno.writeFile(ledger, bytes);
  const report = await doctor(await Store.open(store.root));
  assert.match(report.health, /^BROKEN: .*restore the store from a backup/);
  assert.match(report.problems[0]!, /^the store failed verification: /);
});

Deno.test("doctor() counts a cron input's next tick from the time it is given", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createPipeline(store, CRON_SPEC, { update: false, reprocess: false });
  const now = new Date("2030-01-01T00:00:00.500Z");
  const report = await doctor(store, { now });
  assert.equal(report.health, "ok");
  assert.deepEqual(report.cron, [
    { pipeline: "ticker", input: "tick", spec: "@every 2s", next: "2030-01-01T00:00:02.000Z" },
  ]);
  assert.ok(report.problems.some((p) => p.startsWith("cron pipelines tick only while")));
});

Deno.test("doctor() gives a stopped pipeline's cron input no next tick", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createPipeline(store, CRON_SPEC, { update: false, reprocess: false });
  await setPipelineStopped(store, "ticker", true);
  const report = await doctor(store, { now: new Date("2030-01-01T00:00:00Z") });
  assert.equal(report.cron[0]!.next, null);
  assert.ok(!report.problems.some((p) => p.startsWith("cron pipelines tick only while")));
});

const PY = `${ROOT}/pipelines/iris-python`;

Deno.test("doctor() lists the host programs pipelines run, and a missing one as a problem", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "training");
  const gone = {
    name: "python3",
    path: "/usr/bin/tusk-gone-python3",
    realPath: "/usr/bin/tusk-gone-python3",
    version: "Python 3.0.0",
    sha256: "0".repeat(64),
  };
  await createPipeline(store, `${PY}/python_train.pipeline.json`, {
    resolveProgram: () => Promise.resolve(gone),
  });
  const report = await doctor(store);
  assert.deepEqual(report.programs.map((p) => [p.name, p.path, p.present, p.pipelines]), [
    ["python3", "/usr/bin/tusk-gone-python3", false, ["model"]],
  ]);
  assert.match(report.programs[0]!.problem ?? "", /is gone/);
  assert.ok(
    report.problems.some((p) =>
      /host program "\/usr\/bin\/tusk-gone-python3" \(python3\) of pipeline model/.test(p)
    ),
    report.problems.join("\n"),
  );
  assert.match(report.processLimit, /^2048 processes and threads, /);
});

if (HOST_SANDBOX) {
  Deno.test("doctor() reports a host program that is there as present, with its version", async () => {
    await using dir = await tempDir();
    const store = await Store.init(`${dir.path}/.tusk`);
    await createRepo(store, "training");
    await createRepo(store, "attributes");
    await create(store, `${PY}/python_train.pipeline.json`);
    await create(store, `${PY}/python_infer.pipeline.json`);
    const report = await doctor(store);
    assert.equal(report.programs.length, 1);
    const [p] = report.programs;
    assert.equal(p!.present, true);
    assert.deepEqual(p!.pipelines, ["inference", "model"]);
    assert.match(p!.version ?? "", /^Python 3\./);
    assert.equal(p!.changed, undefined);
    assert.deepEqual(report.problems, []);
  });
}
