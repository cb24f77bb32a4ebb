/**
 * `tusk metrics show`, `tusk metrics diff` and `tusk plots` as a user runs them: on metrics
 * files put with `put file`, and on the model branch of a real iris training pipeline.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore } from "../_helpers.ts";
import { irisMetrics } from "../_metrics.ts";
import { assertWellFormedXml } from "../_xml.ts";
import { assertFails, DATA, ok, rows, tusk } from "./_cli.ts";

type Options = { store: string; cwd: string; initCwd: string };

/** A store with repo `exp` holding the metrics of C = 1, 0.1, 0.01 in three commits. */
async function experiment() {
  const s = await tempStore();
  const o: Options = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "exp"], o);
  for (const [C, acc, cv] of [[1, 0.99, 0.98], [0.1, 0.96, 0.95], [0.01, 0.93, 0.92]] as const) {
    await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], {
      ...o,
      stdin: irisMetrics(C, acc, cv),
    });
  }
  const ids = (JSON.parse((await ok(["list", "commit", "exp@master", "--json"], o)).stdout) as {
    id: string;
  }[]).map((c) => c.id);
  return { ...s, o, ids };
}

Deno.test("tusk metrics show prints a row per commit, newest first, with the headline metrics", async () => {
  await using s = await experiment();
  const r = await ok(["metrics", "show", "exp@master"], s.o);
  const table = rows(r.stdout);
  assert.deepEqual(table[0], [
    "COMMIT",
    "AGE",
    "INPUTS",
    "PARAMS",
    "rows",
    "accuracy",
    "cv.accuracy",
  ]);
  assert.deepEqual(table.slice(1).map((row) => [row[0], row[2], ...row.slice(3)]), [
    [s.ids[0]!.slice(0, 8), "-", "C=0.01", "150", "0.93", "0.92"],
    [s.ids[1]!.slice(0, 8), "-", "C=0.1", "150", "0.96", "0.95"],
    [s.ids[2]!.slice(0, 8), "-", "C=1", "150", "0.99", "0.98"],
  ]);
  assert.ok(r.stdout.split("\n").every((l) => l.length <= 120), "fits 120 columns");
});

Deno.test("tusk metrics show --all, --metric and -n pick the columns and rows", async () => {
  await using s = await experiment();
  const all = rows((await ok(["metrics", "show", "exp@master", "--all"], s.o)).stdout);
  assert.ok(all[0]!.includes("per_class.Iris-virginica.f1"));
  assert.ok(all[0]!.includes("confusion_matrix.matrix.1.2"));
  const picked = rows(
    (await ok(["metrics", "show", "exp@master", "-n", "1", "--metric", "per_class.*.f1"], s.o))
      .stdout,
  );
  assert.deepEqual(picked[0]!.slice(4), [
    "per_class.Iris-setosa.f1",
    "per_class.Iris-versicolor.f1",
    "per_class.Iris-virginica.f1",
  ]);
  assert.equal(picked.length, 2, "a header and one row");
  assert.deepEqual(picked[1]!.slice(4), ["1", "0.92", "0.92"]);
});

Deno.test("tusk metrics show --json prints every metric, exactly", async () => {
  await using s = await experiment();
  const json = JSON.parse((await ok(["metrics", "show", "exp@master", "--json"], s.o)).stdout);
  assert.equal(json.length, 3);
  assert.equal(json[0].commit, s.ids[0]);
  assert.equal(json[0].metrics["cv.folds.4"], 0.92);
  assert.equal(json[2].metrics["per_class.Iris-virginica.precision"], 0.98);
  assert.deepEqual(json[1].params, { C: 0.1 });
});

Deno.test("tusk metrics show reports a metrics.json that is not JSON in its row and exits 0", async () => {
  await using s = await experiment();
  await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], { ...s.o, stdin: "{oops" });
  const r = await ok(["metrics", "show", "exp@master"], s.o);
  const table = rows(r.stdout);
  assert.equal(table[0]!.at(-1), "ERROR");
  assert.match(table[1]!.at(-1)!, /^\/metrics\.json: not valid JSON/);
  assert.equal(table.length, 5);
  const json = JSON.parse((await ok(["metrics", "show", "exp@master", "--json"], s.o)).stdout);
  assert.match(json[0].error, /not valid JSON/);
  assert.deepEqual(json[0].metrics, {});
});

Deno.test("tusk metrics show and diff escape control characters in metric names and params", async () => {
  await using s = await experiment();
  await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], {
    ...s.o,
    stdin: JSON.stringify({ params: { "x\u001b[2J": "\u001b]0;pwned\u0007" }, "a\u001b[31m": 1 }),
  });
  for (
    const args of [["metrics", "show", "exp@master", "--all"], ["metrics", "diff", "exp@master"]]
  ) {
    const r = await ok(args, s.o);
    assert.ok(!r.stdout.includes("\u001b"), `${args.join(" ")} prints no escape character`);
    assert.match(r.stdout, /a\\u001b\[31m/);
  }
});

Deno.test("tusk metrics show says so when no commit holds metrics, and exits 0", async () => {
  await using s = await experiment();
  await ok(["create", "repo", "plain"], s.o);
  const r = await ok(["metrics", "show", "plain@master"], s.o);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /No commit of plain@master holds \/metrics\.json/);
  assert.equal((await ok(["metrics", "show", "plain@master", "--json"], s.o)).stdout, "[]\n");
});

Deno.test("tusk metrics show refuses an unknown repo, branch or metric (exit 1) and a bad -n (exit 2)", async () => {
  await using s = await experiment();
  assertFails(await tusk(["metrics", "show", "exq@master"], s.o), 1, /"exq"/, /"exp"/);
  assertFails(await tusk(["metrics", "show", "exp@mastr"], s.o), 1, /"mastr"/);
  assertFails(
    await tusk(["metrics", "show", "exp@master", "--metric", "cv.acuracy"], s.o),
    1,
    /"cv\.acuracy"/,
    /"cv\.accuracy"/,
  );
  assertFails(await tusk(["metrics", "show", "exp@master", "-n", "0"], s.o), 2, /-n/);
  assertFails(await tusk(["metrics", "show"], s.o), 2);
});

Deno.test("tusk metrics diff compares the head with its parent: old, new and change", async () => {
  await using s = await experiment();
  const r = await ok(["metrics", "diff", "exp@master"], s.o);
  const [sides, ...table] = r.stdout.trimEnd().split("\n");
  assert.equal(
    sides,
    `exp@${s.ids[1]!.slice(0, 8)} (C=0.1) → exp@${s.ids[0]!.slice(0, 8)} (C=0.01)`,
  );
  const t = rows(table.join("\n"));
  assert.deepEqual(t[0], ["METRIC", "OLD", "NEW", "CHANGE"]);
  assert.deepEqual(t.find((row) => row[0] === "cv.accuracy"), [
    "cv.accuracy",
    "0.95",
    "0.92",
    "-0.03",
  ]);
  assert.deepEqual(t.find((row) => row[0] === "confusion_matrix.matrix.1.2"), [
    "confusion_matrix.matrix.1.2",
    "2",
    "4",
    "+2",
  ]);
  assert.equal(t.find((row) => row[0] === "rows"), undefined, "unchanged metrics are left out");
  const all = rows((await ok(["metrics", "diff", "exp@master", "--all"], s.o)).stdout);
  assert.deepEqual(all.find((row) => row[0] === "rows"), ["rows", "150", "150", "0"]);
});

Deno.test("tusk metrics diff with two refs takes the first as old", async () => {
  await using s = await experiment();
  const json = JSON.parse(
    (await ok(
      ["metrics", "diff", "exp@master^2", "master", "--metric", "cv.accuracy", "--json"],
      s.o,
    ))
      .stdout,
  );
  assert.equal(json.old.commit, s.ids[2]);
  assert.equal(json.new.commit, s.ids[0]);
  assert.equal(json.metrics.length, 1);
  assert.equal(json.metrics[0].name, "cv.accuracy");
  assert.equal(json.metrics[0].old, 0.98);
  assert.equal(json.metrics[0].new, 0.92);
  assert.equal(json.metrics[0].state, "changed");
});

Deno.test("tusk metrics diff shows added and removed metrics", async () => {
  await using s = await experiment();
  await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], {
    ...s.o,
    stdin: '{"accuracy": 0.9, "loss": 0.2}',
  });
  const t = rows(
    (await ok(["metrics", "diff", "exp@master"], s.o)).stdout.split("\n").slice(1)
      .join("\n"),
  );
  assert.deepEqual(t.find((row) => row[0] === "loss"), ["loss", "-", "0.2", "added"]);
  assert.deepEqual(t.find((row) => row[0] === "cv.accuracy"), [
    "cv.accuracy",
    "0.92",
    "-",
    "removed",
  ]);
});

Deno.test("tusk metrics diff reports an unreadable side and exits 0", async () => {
  await using s = await experiment();
  await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], { ...s.o, stdin: "[1]" });
  const r = await ok(["metrics", "diff", "exp@master"], s.o);
  assert.match(r.stderr, /new: exp@[0-9a-f]{8}:\/metrics\.json cannot be read: not a JSON object/);
  assert.equal(r.stdout.trimEnd().split("\n").length, 1, "the sides, and no table");
});

Deno.test("tusk metrics diff says when nothing changed or neither side holds metrics", async () => {
  await using s = await experiment();
  await ok(["put", "file", "exp@master:/notes.txt", "-f", "-"], { ...s.o, stdin: "n\n" });
  assert.match((await ok(["metrics", "diff", "exp@master"], s.o)).stdout, /No metric changed/);
  await ok(["create", "repo", "plain"], s.o);
  await ok(["put", "file", "plain@master:/a.txt", "-f", "-"], { ...s.o, stdin: "a\n" });
  assert.match(
    (await ok(["metrics", "diff", "plain@master"], s.o)).stdout,
    /Neither commit holds \/metrics\.json/,
  );
});

Deno.test("tusk metrics diff refuses an unknown ref (exit 1) and a third ref (exit 2)", async () => {
  await using s = await experiment();
  assertFails(await tusk(["metrics", "diff", "exp@nope"], s.o), 1, /"nope"/);
  assertFails(await tusk(["metrics", "diff", "exp@master", "exp@nope"], s.o), 1, /"nope"/);
  assertFails(await tusk(["metrics", "diff", "exp@master", "exp@master^", "x"], s.o), 2);
});

Deno.test("tusk plots writes the same SVG twice and says what it drew", async () => {
  await using s = await experiment();
  const r = await ok(["plots", "exp@master", "-o", "a.svg"], s.o);
  assert.equal(
    r.stdout,
    `Wrote ${s.path}/a.svg: cv.accuracy over 3 commits, and the confusion matrix of ${
      s.ids[0]!.slice(0, 8)
    }\n`,
  );
  await ok(["plots", "exp@master", "-o", "b.svg"], s.o);
  const a = await Deno.readFile(`${s.path}/a.svg`);
  assert.deepEqual(await Deno.readFile(`${s.path}/b.svg`), a);
  assertWellFormedXml(new TextDecoder().decode(a));
  await ok(["plots", "exp@master", "-o", "p.html", "--metric", "accuracy", "-n", "2"], s.o);
  assert.match(await Deno.readTextFile(`${s.path}/p.html`), /^<!DOCTYPE html>[\s\S]*<svg /);
});

Deno.test("tusk plots refuses a bad -o (exit 2), no -o (exit 2), a branch without metrics (exit 1)", async () => {
  await using s = await experiment();
  assertFails(await tusk(["plots", "exp@master", "-o", "p.png"], s.o), 2, /"p\.png"/, /\.svg/);
  assertFails(await tusk(["plots", "exp@master"], s.o), 2, /--output/);
  await ok(["create", "repo", "plain"], s.o);
  assertFails(
    await tusk(["plots", "plain@master", "-o", "p.svg"], s.o),
    1,
    /No commit of plain@master holds \/metrics\.json/,
  );
  assertFails(await tusk(["plots", "exp@master", "-o", "p.svg", "-n", "x"], s.o), 2, /-n/);
  const files: string[] = [];
  for await (const e of Deno.readDir(s.path)) files.push(e.name);
  assert.deepEqual(files, [".tusk"], "nothing was written");
});

Deno.test("tusk metrics show, diff and plots read a real training pipeline's model branch", async () => {
  await using s = await tempStore();
  const o: Options = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], o);
  await ok(["create", "pipeline", "-f", `${ROOT}/pipelines/iris/train.json`], o);
  // Drop every tenth row: a new training commit, a new model.
  const lines = (await Deno.readTextFile(`${DATA}/iris.csv`)).trimEnd().split("\n");
  await ok(["put", "file", "training@master:/iris.csv", "-f", "-"], {
    ...o,
    stdin: lines.filter((_, i) => i % 10 !== 9).join("\n") + "\n",
  });
  const training = (JSON.parse(
    (await ok(["list", "commit", "training@master", "--json"], o))
      .stdout,
  ) as { id: string }[]).map((c) => c.id);

  const shown = JSON.parse((await ok(["metrics", "show", "model@master", "--json"], o)).stdout);
  assert.equal(shown.length, 2);
  assert.deepEqual(shown.map((r: { inputs: unknown }) => r.inputs), [
    [{ repo: "training", commit: training[0] }],
    [{ repo: "training", commit: training[1] }],
  ]);
  const file = JSON.parse(
    (await ok(["get", "file", `model@${shown[0].commit}:/metrics.json`], o)).stdout,
  );
  assert.equal(shown[0].metrics["cv.accuracy"], file.cv.accuracy);
  assert.equal(shown[0].metrics.rows, 135);
  assert.equal(shown[1].metrics.rows, 150);
  assert.equal(shown[1].metrics["cv.accuracy"], 0.9800000000000001, "scikit-learn's 0.98");

  const table = rows((await ok(["metrics", "show", "model@master"], o)).stdout);
  assert.equal(table[1]![2], `training@${training[0]!.slice(0, 8)}`);
  assert.equal(table[1]![3], "C=1");

  const diff = JSON.parse((await ok(["metrics", "diff", "model@master", "--json"], o)).stdout);
  assert.deepEqual(diff.metrics.find((m: { name: string }) => m.name === "rows"), {
    name: "rows",
    old: 150,
    new: 135,
    change: -15,
    state: "changed",
  });
  const r = await ok(["plots", "model@master", "-o", "model.svg"], o);
  assert.match(r.stdout, /cv\.accuracy over 2 commits, and the confusion matrix of/);
  const svg = await Deno.readTextFile(`${s.path}/model.svg`);
  assert.ok(svg.includes(">Iris-versicolor<"), "the heatmap names the classes");
});
