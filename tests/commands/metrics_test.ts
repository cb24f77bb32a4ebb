/**
 * `metricsShow()` and `metricsDiff()` on real stores whose commits hold metrics files put
 * with `put file`; the flattening rule and the reading of one file on their own.
 */
import assert from "node:assert/strict";
import {
  flattenMetrics,
  MAX_METRICS_BYTES,
  parseMetrics,
} from "../../lib/commands/_metrics_file.ts";
import { deleteFile, listFile } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import {
  headlineMetric,
  metricsDiff,
  metricsShow,
  pickMetrics,
} from "../../lib/commands/metrics.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { IntegrityError, InvalidArgumentError, NotFoundError } from "../../lib/errors.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";
import { experimentStore, irisMetrics, putText } from "../_metrics.ts";

// ---- flattening

Deno.test("flattenMetrics() joins keys with dots and array items by index, numbers only", () => {
  assert.deepEqual(
    flattenMetrics({
      accuracy: 0.5,
      cv: { accuracy: 0.25, folds: [1, 0.5], splitter: "k-fold" },
      per_class: { "Iris-setosa": { f1: 1, ok: true, note: null } },
      matrix: [[1, 2], [3, 4]],
    }),
    {
      "accuracy": 0.5,
      "cv.accuracy": 0.25,
      "cv.folds.0": 1,
      "cv.folds.1": 0.5,
      "per_class.Iris-setosa.f1": 1,
      "matrix.0.0": 1,
      "matrix.0.1": 2,
      "matrix.1.0": 3,
      "matrix.1.1": 4,
    },
  );
});

Deno.test("flattenMetrics() leaves out the top-level params object but not a nested one", () => {
  assert.deepEqual(flattenMetrics({ params: { C: 1 }, a: { params: { b: 2 } } }), {
    "a.params.b": 2,
  });
});

Deno.test("flattenMetrics() flattens a file nested 100,000 deep without exhausting the stack", () => {
  let deep: unknown = 7;
  for (let i = 0; i < 100_000; i++) deep = { k: deep };
  const flat = flattenMetrics(deep);
  assert.deepEqual(Object.values(flat), [7]);
  assert.equal(Object.keys(flat)[0]!.split(".").length, 100_000);
});

Deno.test("parseMetrics() takes params and a square confusion matrix, and skips a ragged one", () => {
  const doc = parseMetrics(irisMetrics(0.1, 0.96, 0.95));
  assert.deepEqual(doc.params, { C: 0.1 });
  assert.deepEqual(doc.confusion?.labels, ["Iris-setosa", "Iris-versicolor", "Iris-virginica"]);
  assert.equal(doc.metrics["cv.accuracy"], 0.95);
  const ragged = parseMetrics(
    JSON.stringify({ confusion_matrix: { labels: ["a", "b"], matrix: [[1, 2], [3]] } }),
  );
  assert.equal(ragged.confusion, undefined);
});

Deno.test("parseMetrics() refuses text that is not JSON, and JSON that is not an object", () => {
  assert.throws(() => parseMetrics("{bad"), SyntaxError);
  assert.throws(() => parseMetrics("[1, 2]"), /not a JSON object \(it is an array\)/);
  assert.throws(() => parseMetrics("3"), /not a JSON object/);
});

// ---- metrics show

Deno.test("metricsShow() lists the commits holding /metrics.json newest first, with their metrics", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const rows = await metricsShow(store, "exp@master");
  assert.deepEqual(rows.map((r) => r.commit), ids.toReversed());
  assert.deepEqual(rows.map((r) => r.params), [{ C: 0.01 }, { C: 0.1 }, { C: 1 }]);
  assert.deepEqual(rows.map((r) => r.metrics["cv.accuracy"]), [0.92, 0.95, 0.98]);
  assert.equal(rows[0]!.metrics["per_class.Iris-versicolor.f1"], 0.92);
  assert.equal(rows[0]!.metrics["confusion_matrix.matrix.1.2"], 4);
  assert.equal(rows[0]!.path, "/metrics.json");
  assert.equal(rows[0]!.repo, "exp");
  assert.deepEqual(rows[0]!.inputs, [], "a user's commit has no input commits");
  assert.equal(rows[0]!.error, undefined);
});

Deno.test("metricsShow() lists every commit whose tree holds the file, changed in it or not", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const notes = await putText(store, dir.path, "exp@master", "notes\n", "/notes.txt");
  const rows = await metricsShow(store, "exp@master");
  assert.deepEqual(rows.map((r) => r.commit), [notes, ...ids.toReversed()]);
  assert.deepEqual(rows[0]!.metrics, rows[1]!.metrics);
});

Deno.test("metricsShow() skips commits without the file and stops at -n rows", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  await deleteFile(store, "exp@master:/metrics.json");
  await putText(store, dir.path, "exp@master", "notes\n", "/notes.txt");
  const rows = await metricsShow(store, "exp@master", { limit: 2 });
  assert.deepEqual(rows.map((r) => r.commit), [ids[2], ids[1]]);
});

Deno.test("metricsShow() looks at no more than depth commits", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  await deleteFile(store, "exp@master:/metrics.json");
  assert.deepEqual((await metricsShow(store, "exp@master", { depth: 2 })).map((r) => r.commit), [
    ids[2],
  ]);
  assert.deepEqual(await metricsShow(store, "exp@master", { depth: 1 }), []);
});

Deno.test("metricsShow() starts from an older commit with repo@branch^", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const rows = await metricsShow(store, "exp@master^");
  assert.deepEqual(rows.map((r) => r.commit), [ids[1], ids[0]]);
});

Deno.test("metricsShow() reads another file named with :/path", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await putText(store, dir.path, "exp@master", '{"loss": 0.5}', "/eval/scores.json");
  const rows = await metricsShow(store, "exp@master:/eval/scores.json");
  assert.deepEqual(rows.map((r) => [r.path, r.metrics]), [["/eval/scores.json", { loss: 0.5 }]]);
});

Deno.test("metricsShow() refuses the root folder as the file", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await assert.rejects(metricsShow(store, "exp@master:/"), InvalidArgumentError);
});

Deno.test("metricsShow() reports a metrics.json that is not JSON on its own row", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const bad = await putText(store, dir.path, "exp@master", "{not json");
  const rows = await metricsShow(store, "exp@master");
  assert.deepEqual(rows.map((r) => r.commit), [bad, ...ids.toReversed()]);
  assert.match(rows[0]!.error ?? "", /not valid JSON/);
  assert.deepEqual(rows[0]!.metrics, {});
  assert.deepEqual(rows[0]!.params, {});
  assert.equal(rows[1]!.error, undefined);
});

Deno.test("metricsShow() reports a file that is not an object, not UTF-8, too large or a folder", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "exp");
  await Deno.mkdir(`${dir.path}/m`);
  await Deno.writeTextFile(`${dir.path}/m/a.json`, "{}");
  await putFile(store, "exp@master:/metrics.json/", {
    sources: [`${dir.path}/m`],
    recursive: true,
  });
  await deleteFile(store, "exp@master:/metrics.json");
  await putText(store, dir.path, "exp@master", "[0.5]");
  await putText(store, dir.path, "exp@master", new Uint8Array([0x7b, 0xff, 0x7d]));
  await putText(store, dir.path, "exp@master", " ".repeat(MAX_METRICS_BYTES + 1));
  const errors = (await metricsShow(store, "exp@master")).map((r) => r.error);
  assert.equal(errors.length, 4);
  assert.match(errors[0]!, /larger than/);
  assert.match(errors[1]!, /not valid UTF-8/);
  assert.match(errors[2]!, /not a JSON object/);
  assert.match(errors[3]!, /a folder/);
});

Deno.test("metricsShow() reports params nested too deep to print on its row, not as a crash", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const deep = `{"accuracy": 1, "params": {"p": ${'{"a": '.repeat(20_000)}1${"}".repeat(20_000)}}}`;
  const bad = await putText(store, dir.path, "exp@master", deep);
  const rows = await metricsShow(store, "exp@master");
  assert.deepEqual(rows.map((r) => r.commit), [bad, ...ids.toReversed()]);
  assert.match(rows[0]!.error ?? "", /params.*nested more than/);
  assert.deepEqual(rows[0]!.params, {});
  // What `--json` prints: every row can be written out.
  assert.doesNotThrow(() => JSON.stringify(rows, null, 2));
});

Deno.test("metricsShow() fails with IntegrityError when a metrics file's bytes are damaged", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  // Content no other test has: a file read before is not read again (its parse is kept).
  await putText(store, dir.path, "exp@master", `{"id": "${crypto.randomUUID()}", "accuracy": 1}`);
  const [file] = await listFile(store, "exp@master:/metrics.json");
  const path = store.objects.loosePath(file!.hash);
  const bytes = await Deno.readFile(path);
  bytes[10] = bytes[10]! ^ 1;
  await Deno.chmod(path, 0o644);
  await Deno.writeFile(path, bytes);
  await assert.rejects(metricsShow(await Store.open(store.root), "exp@master"), IntegrityError);
});

Deno.test("metricsShow() gives no rows for a branch without commits or without metrics", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "exp");
  assert.deepEqual(await metricsShow(store, "exp@master"), []);
  await putText(store, dir.path, "exp@master", "a\n", "/a.txt");
  assert.deepEqual(await metricsShow(store, "exp@master"), []);
  assert.deepEqual(await metricsShow(store, "exp@master", { metrics: ["x"] }), []);
});

Deno.test("metricsShow() refuses an unknown repo, branch or commit with NotFoundError naming it", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  for (const ref of ["nope@master", "exp@nope", "exp@abcdef12"]) {
    await assert.rejects(metricsShow(store, ref), (e) => {
      assert.ok(e instanceof NotFoundError);
      assert.match(e.message, /"nope"|"abcdef12"/);
      return true;
    });
  }
});

Deno.test("metricsShow() keeps the metrics --metric names, with * matching within one level", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  const rows = await metricsShow(store, "exp@master", {
    metrics: ["per_class.*.f1", "accuracy"],
  });
  assert.deepEqual(Object.keys(rows[0]!.metrics), [
    "accuracy",
    "per_class.Iris-setosa.f1",
    "per_class.Iris-versicolor.f1",
    "per_class.Iris-virginica.f1",
  ]);
  const cv = await metricsShow(store, "exp@master", { metrics: ["cv.*"] });
  assert.deepEqual(Object.keys(cv[0]!.metrics), ["cv.accuracy"]);
});

Deno.test("metricsShow() refuses a --metric that names no metric, suggesting the nearest", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await assert.rejects(metricsShow(store, "exp@master", { metrics: ["cv.acuracy"] }), (e) => {
    assert.ok(e instanceof NotFoundError);
    assert.equal(e.data.metric, "cv.acuracy");
    assert.match(e.message, /did you mean "cv\.accuracy"/);
    return true;
  });
  await assert.rejects(metricsShow(store, "exp@master", { metrics: [""] }), InvalidArgumentError);
});

Deno.test("pickMetrics() gives each pattern's matches once, in the patterns' order", () => {
  assert.deepEqual(pickMetrics(["b", "*", "a"], ["a", "b", "c.d"]), ["b", "a"]);
});

Deno.test("pickMetrics() matches * within one level, however many stars a pattern has", () => {
  const names = ["cv.accuracy", "cv.folds.0", "per_class.Iris-setosa.f1", "a.b", "ab"];
  assert.deepEqual(pickMetrics(["cv.**"], names), ["cv.accuracy"]);
  assert.deepEqual(pickMetrics(["*.*.f*"], names), ["per_class.Iris-setosa.f1"]);
  assert.deepEqual(pickMetrics(["p*_*.*s*a.*1"], names), ["per_class.Iris-setosa.f1"]);
  assert.deepEqual(pickMetrics(["a*b"], names), ["ab"]);
  assert.deepEqual(pickMetrics(["*.*"], names), ["cv.accuracy", "a.b"]);
  // As a regular expression, 20 stars against 75 characters backtracks for longer than
  // anyone waits (it hung `tusk metrics show --metric`).
  assert.throws(
    () => pickMetrics(["*".repeat(20) + "c"], ["a".repeat(75) + "b"]),
    NotFoundError,
  );
});

Deno.test("headlineMetric() prefers cv.accuracy, then accuracy, then the first metric", () => {
  assert.equal(headlineMetric(["rows", "accuracy", "cv.accuracy"]), "cv.accuracy");
  assert.equal(headlineMetric(["rows", "accuracy"]), "accuracy");
  assert.equal(headlineMetric(["loss", "rows"]), "loss");
  assert.equal(headlineMetric([]), null);
});

// ---- metrics diff

Deno.test("metricsDiff() with one ref compares its commit with its parent", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const d = await metricsDiff(store, ["exp@master"]);
  assert.equal(d.old.commit, ids[1]);
  assert.equal(d.new.commit, ids[2]);
  assert.deepEqual([d.old.params, d.new.params], [{ C: 0.1 }, { C: 0.01 }]);
  const cv = d.metrics.find((m) => m.name === "cv.accuracy")!;
  assert.equal(cv.old, 0.95);
  assert.equal(cv.new, 0.92);
  assert.equal(cv.state, "changed");
  assert.ok(Math.abs(cv.change! - -0.03) < 1e-12);
  assert.deepEqual(d.metrics.find((m) => m.name === "rows"), {
    name: "rows",
    old: 150,
    new: 150,
    change: 0,
    state: "unchanged",
  });
});

Deno.test("metricsDiff() with two refs takes the first as old; a bare second ref is of its repo", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const d = await metricsDiff(store, ["exp@master", ids[0]!.slice(0, 10)]);
  assert.equal(d.old.commit, ids[2]);
  assert.equal(d.new.commit, ids[0]);
  assert.equal(d.metrics.find((m) => m.name === "cv.accuracy")?.new, 0.98);
});

Deno.test("metricsDiff() shows metrics on one side only as added and removed", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await putText(store, dir.path, "exp@master", JSON.stringify({ accuracy: 0.5, loss: 0.1 }));
  const d = await metricsDiff(store, ["exp@master"]);
  assert.deepEqual(d.metrics.find((m) => m.name === "loss"), {
    name: "loss",
    old: null,
    new: 0.1,
    change: null,
    state: "added",
  });
  assert.deepEqual(d.metrics.find((m) => m.name === "cv.accuracy"), {
    name: "cv.accuracy",
    old: 0.92,
    new: null,
    change: null,
    state: "removed",
  });
  assert.equal(d.metrics.at(-1)?.state, "removed", "removed ones come after the new side's");
});

Deno.test("metricsDiff() of a first commit has no old commit, and every metric is added", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const d = await metricsDiff(store, [`exp@${ids[0]}`]);
  assert.equal(d.old.commit, null);
  assert.equal(d.old.found, false);
  assert.ok(d.metrics.length > 0);
  assert.ok(d.metrics.every((m) => m.state === "added"));
});

Deno.test("metricsDiff() against a commit without the file counts it as having no metrics", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await createRepo(store, "exp");
  await putText(store, dir.path, "exp@master", "a\n", "/a.txt");
  await putText(store, dir.path, "exp@master", '{"accuracy": 1}');
  const d = await metricsDiff(store, ["exp@master"]);
  assert.equal(d.old.found, false);
  assert.deepEqual(d.metrics.map((m) => [m.name, m.state]), [["accuracy", "added"]]);
});

Deno.test("metricsDiff() reports a side that is not JSON and compares nothing", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await putText(store, dir.path, "exp@master", "{not json");
  const d = await metricsDiff(store, ["exp@master"]);
  assert.match(d.new.error ?? "", /not valid JSON/);
  assert.equal(d.old.error, undefined);
  assert.deepEqual(d.metrics, []);
});

Deno.test("metricsDiff() reads the file a ref names, for both sides when one names it", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await putText(store, dir.path, "exp@master", '{"loss": 0.5}', "/scores.json");
  await putText(store, dir.path, "exp@master", '{"loss": 0.25}', "/scores.json");
  const d = await metricsDiff(store, ["exp@master^", "exp@master:/scores.json"]);
  assert.deepEqual([d.old.path, d.new.path], ["/scores.json", "/scores.json"]);
  assert.deepEqual(d.metrics.map((m) => [m.name, m.old, m.new]), [["loss", 0.5, 0.25]]);
});

Deno.test("metricsDiff() refuses an unknown ref and an empty branch with NotFoundError", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await assert.rejects(metricsDiff(store, ["exp@nope"]), NotFoundError);
  await assert.rejects(metricsDiff(store, ["exp@master", "exp@nope"]), NotFoundError);
  await createRepo(store, "empty");
  await assert.rejects(metricsDiff(store, ["empty@master"]), (e) => {
    assert.ok(e instanceof NotFoundError);
    assert.match(e.message, /no commits yet/);
    return true;
  });
});
