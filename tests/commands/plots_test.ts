/**
 * `plots()` on real stores: the SVG and the HTML page it writes, the metric it picks, and
 * every way it refuses (nothing written then).
 */
import assert from "node:assert/strict";
import { createRepo } from "../../lib/commands/repo.ts";
import { MAX_PLOTTED_METRICS, plotFormat, plots } from "../../lib/commands/plots.ts";
import { InvalidArgumentError, NotFoundError } from "../../lib/errors.ts";
import { SPEC_ELEMENT_ID } from "../../lib/format/plot_spec.ts";
import { tempDir } from "../_helpers.ts";
import { experimentStore, putText } from "../_metrics.ts";
import { assertWellFormedXml } from "../_xml.ts";

/** Names in `dir`, sorted. */
async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

Deno.test("plots() writes an SVG of cv.accuracy over the commits and the newest confusion matrix", async () => {
  await using dir = await tempDir();
  const { store, ids } = await experimentStore(dir.path);
  const r = await plots(store, "exp@master", { output: "p.svg", cwd: dir.path });
  assert.deepEqual(r, {
    path: `${dir.path}/p.svg`,
    format: "svg",
    metrics: ["cv.accuracy"],
    commits: 3,
    confusion: ids[2],
    bytes: (await Deno.stat(`${dir.path}/p.svg`)).size,
  });
  const svg = await Deno.readTextFile(`${dir.path}/p.svg`);
  assert.equal(assertWellFormedXml(svg)[0], "svg");
  for (const text of ["0.98", "0.95", "0.92", "C=1", "C=0.1", "C=0.01", "exp@master"]) {
    assert.ok(svg.includes(`>${text}<`), `the SVG shows ${text}`);
  }
  assert.ok(svg.includes(`>confusion matrix of ${ids[2]!.slice(0, 8)} (newest)<`));
  assert.ok(svg.indexOf(">C=1<") < svg.indexOf(">C=0.01<"), "oldest first");
});

Deno.test("plots() writes the same bytes for the same data", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await plots(store, "exp@master", { output: `${dir.path}/a.svg` });
  await plots(store, "exp@master", { output: `${dir.path}/b.svg` });
  assert.deepEqual(
    await Deno.readFile(`${dir.path}/a.svg`),
    await Deno.readFile(`${dir.path}/b.svg`),
  );
});

Deno.test("plots() writes an HTML page holding the SVG and the Vega-Lite spec", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await plots(store, "exp@master", { output: `${dir.path}/p.html` });
  await plots(store, "exp@master", { output: `${dir.path}/p.svg` });
  const page = await Deno.readTextFile(`${dir.path}/p.html`);
  const svg = await Deno.readTextFile(`${dir.path}/p.svg`);
  assert.ok(page.includes(svg), "the page holds the SVG as drawn");
  const json = new RegExp(`id="${SPEC_ELEMENT_ID}">([\\s\\S]*?)</script>`).exec(page)?.[1];
  const spec = JSON.parse(json!) as { vconcat: { data: { values: { value?: number }[] } }[] };
  assert.deepEqual(spec.vconcat[0]!.data.values.map((v) => v.value), [0.98, 0.95, 0.92]);
  assert.doesNotMatch(page, /\b(?:src|href)=/, "nothing to load when the page opens");
});

Deno.test("plots() plots accuracy when there is no cv.accuracy, and the metrics asked for", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await putText(store, dir.path, "exp@master", '{"accuracy": 0.5, "loss": 2}', "/other.json");
  await putText(store, dir.path, "exp@master", '{"accuracy": 0.75, "loss": 1}', "/other.json");
  const one = await plots(store, "exp@master:/other.json", { output: `${dir.path}/a.svg` });
  assert.deepEqual([one.metrics, one.commits, one.confusion], [["accuracy"], 2, null]);
  const two = await plots(store, "exp@master", {
    output: `${dir.path}/b.svg`,
    metrics: ["per_class.*.f1"],
    limit: 2,
  });
  assert.deepEqual(two.metrics, [
    "per_class.Iris-setosa.f1",
    "per_class.Iris-versicolor.f1",
    "per_class.Iris-virginica.f1",
  ]);
  assert.equal(two.commits, 2);
  const svg = await Deno.readTextFile(`${dir.path}/b.svg`);
  assert.ok(svg.includes(">per_class.Iris-virginica.f1<"), "a legend names each metric");
});

Deno.test("plots() plots the first metric when there is neither cv.accuracy nor accuracy", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await putText(store, dir.path, "exp@master", '{"loss": 2, "rows": 3}', "/loss.json");
  const r = await plots(store, "exp@master:/loss.json", { output: `${dir.path}/a.svg` });
  assert.deepEqual(r.metrics, ["loss"]);
});

Deno.test("plots() writes well-formed SVG when labels and classes hold <, & and quotes", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  const hostile = `a<b & "c" 'd' </svg>`;
  await putText(
    store,
    dir.path,
    "exp@master",
    JSON.stringify({
      params: { note: hostile },
      accuracy: 0.5,
      confusion_matrix: { labels: [hostile, "x"], matrix: [[1, 0], [0, 1]] },
    }),
  );
  await plots(store, "exp@master", { output: `${dir.path}/p.svg` });
  const svg = await Deno.readTextFile(`${dir.path}/p.svg`);
  assertWellFormedXml(svg);
  assert.ok(svg.includes("a&lt;b &amp;"), "the label is there, escaped");
});

Deno.test("plots() leaves out a confusion matrix of more classes than a heatmap can show", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  // 400 classes: 160,000 cells, a 66 MB picture that took 1 GiB to draw.
  const labels = Array.from({ length: 400 }, (_, i) => `L${i}`);
  const matrix = labels.map(() => labels.map(() => 1));
  await putText(
    store,
    dir.path,
    "exp@master",
    JSON.stringify({ accuracy: 0.5, confusion_matrix: { labels, matrix } }),
  );
  const r = await plots(store, "exp@master", { output: `${dir.path}/p.svg` });
  assert.equal(r.confusion, null);
  assert.ok(r.bytes < 1_000_000, `${r.bytes} bytes`);
  assert.ok(!(await Deno.readTextFile(`${dir.path}/p.svg`)).includes("L399"));
});

Deno.test("plots() refuses --metric patterns that pick more metrics than it draws, writing nothing", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  // 5,000 metrics crashed the renderer's expression parser (exit 70).
  const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
  await putText(store, dir.path, "exp@master", JSON.stringify(many));
  await Deno.mkdir(`${dir.path}/out`);
  await assert.rejects(
    plots(store, "exp@master", { output: `${dir.path}/out/p.svg`, metrics: ["k*"] }),
    (e) => {
      assert.ok(e instanceof InvalidArgumentError, String(e));
      assert.match(e.message, /5000 metrics/);
      assert.match(e.message, /k\*/);
      return true;
    },
  );
  assert.deepEqual(await names(`${dir.path}/out`), []);
  const r = await plots(store, "exp@master", {
    output: `${dir.path}/out/p.svg`,
    metrics: Array.from({ length: MAX_PLOTTED_METRICS }, (_, i) => `k${i}`),
  });
  assert.equal(r.metrics.length, MAX_PLOTTED_METRICS);
});

Deno.test("plotFormat() refuses an output that is neither .svg nor .html with a usage error", () => {
  assert.equal(plotFormat("a.SVG"), "svg");
  assert.equal(plotFormat("a.htm"), "html");
  for (const bad of ["a.png", "a", "svg", "a.svg.txt"]) {
    assert.throws(() => plotFormat(bad), (e) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.equal(e.exitCode, 2);
      return true;
    });
  }
});

Deno.test("plots() refuses a bad extension before reading the store", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await assert.rejects(plots(store, "nope@master", { output: `${dir.path}/p.png` }), (e) => {
    assert.ok(e instanceof InvalidArgumentError);
    return true;
  });
});

Deno.test("plots() refuses a branch with no metrics and writes nothing", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await createRepo(store, "empty");
  await Deno.mkdir(`${dir.path}/out`);
  await assert.rejects(plots(store, "empty@master", { output: `${dir.path}/out/p.svg` }), (e) => {
    assert.ok(e instanceof NotFoundError);
    assert.match(e.message, /No commit of empty@master holds \/metrics\.json/);
    return true;
  });
  await putText(store, dir.path, "empty@master", "{oops");
  await assert.rejects(
    plots(store, "empty@master", { output: `${dir.path}/out/p.svg` }),
    (e) => e instanceof NotFoundError && /not valid JSON/.test(e.message),
  );
  await putText(store, dir.path, "empty@master", '{"note": "no numbers"}');
  await assert.rejects(
    plots(store, "empty@master", { output: `${dir.path}/out/p.svg` }),
    (e) => e instanceof NotFoundError && /no numeric metric/.test(e.message),
  );
  assert.deepEqual(await names(`${dir.path}/out`), []);
});

Deno.test("plots() refuses an unknown ref or metric and writes nothing", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await Deno.mkdir(`${dir.path}/out`);
  const output = `${dir.path}/out/p.svg`;
  await assert.rejects(plots(store, "exp@nope", { output }), NotFoundError);
  await assert.rejects(plots(store, "exp@master", { output, metrics: ["cv.acc"] }), (e) => {
    assert.ok(e instanceof NotFoundError);
    assert.equal(e.data.metric, "cv.acc");
    return true;
  });
  assert.deepEqual(await names(`${dir.path}/out`), []);
});

Deno.test("plots() refuses an output in a missing folder, or that is a folder, leaving no temp file", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await assert.rejects(
    plots(store, "exp@master", { output: `${dir.path}/missing/p.svg` }),
    (e) => e instanceof InvalidArgumentError && /does not exist/.test(e.message),
  );
  await Deno.mkdir(`${dir.path}/p.svg`);
  await assert.rejects(
    plots(store, "exp@master", { output: `${dir.path}/p.svg` }),
    (e) => e instanceof InvalidArgumentError && /is a folder/.test(e.message),
  );
  assert.deepEqual(await names(`${dir.path}/p.svg`), []);
  assert.deepEqual((await names(dir.path)).filter((n) => n.endsWith(".tmp")), []);
});

Deno.test("plots() replaces an output that exists, by renaming a whole file over it", async () => {
  await using dir = await tempDir();
  const { store } = await experimentStore(dir.path);
  await Deno.writeTextFile(`${dir.path}/p.svg`, "old");
  const before = (await Deno.stat(`${dir.path}/p.svg`)).ino;
  await plots(store, "exp@master", { output: `${dir.path}/p.svg` });
  assert.match(await Deno.readTextFile(`${dir.path}/p.svg`), /^<svg/);
  assert.notEqual((await Deno.stat(`${dir.path}/p.svg`)).ino, before, "a new file took the name");
  assert.deepEqual((await names(dir.path)).filter((n) => n.endsWith(".tmp")), []);
});
