/** The plots' Vega-Lite spec and page, as data: labels, order, the heatmap, and escaping. */
import assert from "node:assert/strict";
import {
  commitLabels,
  type PlotData,
  plotPage,
  plotSpec,
  SPEC_ELEMENT_ID,
} from "../../lib/format/plot_spec.ts";

const ID = (c: string) => c.repeat(64);

const DATA: PlotData = {
  title: "model@master",
  metrics: ["cv.accuracy"],
  commits: [
    { id: ID("a"), params: { C: 1 }, values: { "cv.accuracy": 0.98 } },
    { id: ID("b"), params: { C: 0.01 }, values: { "cv.accuracy": 0.92 } },
  ],
  confusion: { commit: ID("b"), labels: ["x", "y"], matrix: [[5, 1], [0, 6]] },
};

type Chart = {
  title: string;
  data: { values: Record<string, unknown>[] };
  encoding: Record<string, Record<string, unknown>>;
  layer: { mark: unknown; encoding?: Record<string, unknown> }[];
};

function charts(data: PlotData): Chart[] {
  return (plotSpec(data) as unknown as { vconcat: Chart[] }).vconcat;
}

Deno.test("commitLabels() labels commits by their parameters, else by short id", () => {
  assert.deepEqual(
    commitLabels([
      { id: ID("a"), params: { C: 1 }, values: {} },
      { id: ID("b"), params: {}, values: {} },
      { id: ID("c"), params: { model: "lda" }, values: {} },
    ]),
    ["C=1", "bbbbbbbb", "model=lda"],
  );
});

Deno.test("commitLabels() adds the short id to a label two commits share", () => {
  assert.deepEqual(
    commitLabels([
      { id: ID("a"), params: { C: 1 }, values: {} },
      { id: ID("b"), params: { C: 0.1 }, values: {} },
      { id: ID("c"), params: { C: 1 }, values: {} },
    ]),
    ["C=1 (aaaaaaaa)", "C=0.1", "C=1 (cccccccc)"],
  );
});

Deno.test("commitLabels() cuts long parameters to 24 characters", () => {
  const [label] = commitLabels([{ id: ID("a"), params: { note: "x".repeat(40) }, values: {} }]);
  assert.equal(label, `note=${"x".repeat(18)}…`);
});

Deno.test("plotSpec() draws the metric over the commits in their order, oldest first", () => {
  const [line] = charts(DATA);
  assert.deepEqual(line!.data.values, [
    { n: 0, commit: "aaaaaaaa", label: "C=1", metric: "cv.accuracy", value: 0.98 },
    { n: 1, commit: "bbbbbbbb", label: "C=0.01", metric: "cv.accuracy", value: 0.92 },
  ]);
  assert.deepEqual(line!.encoding.x!.sort, { field: "n", op: "min", order: "ascending" });
  assert.equal(line!.encoding.y!.title, "cv.accuracy");
  assert.equal(line!.encoding.color, undefined, "one metric needs no legend");
});

Deno.test("plotSpec() colours several metrics apart", () => {
  const [line] = charts({
    ...DATA,
    metrics: ["cv.accuracy", "accuracy"],
    commits: [{ id: ID("a"), params: {}, values: { "cv.accuracy": 0.9, accuracy: 1 } }],
  });
  assert.deepEqual(line!.data.values.map((v) => v.metric), ["cv.accuracy", "accuracy"]);
  assert.equal(line!.encoding.color?.field, "metric");
});

Deno.test("plotSpec() draws the confusion matrix as a heatmap in the labels' order", () => {
  const [, heat] = charts(DATA);
  assert.deepEqual(heat!.data.values, [
    { actual: "x", predicted: "x", count: 5 },
    { actual: "x", predicted: "y", count: 1 },
    { actual: "y", predicted: "x", count: 0 },
    { actual: "y", predicted: "y", count: 6 },
  ]);
  assert.deepEqual(heat!.encoding.x!.sort, ["x", "y"]);
  assert.deepEqual(heat!.encoding.y!.sort, ["x", "y"]);
  assert.match(heat!.title, /bbbbbbbb/);
});

Deno.test("plotSpec() draws a 400-class confusion matrix, too many cells for Math.max(...cells)", () => {
  const labels = Array.from({ length: 400 }, (_, i) => `L${i}`);
  const matrix = labels.map((_, i) => labels.map((_, j) => (i === j ? 9 : 1)));
  const [, heat] = charts({ ...DATA, confusion: { commit: ID("b"), labels, matrix } });
  assert.equal(heat!.data.values.length, 160_000);
  const text = heat!.layer[1]!.encoding!.color as { condition: { test: string } };
  assert.equal(text.condition.test, "datum.count > 4.5");
});

Deno.test("plotSpec() without a confusion matrix draws the metric chart alone", () => {
  const { confusion: _, ...rest } = DATA;
  assert.equal(charts(rest).length, 1);
});

Deno.test("plotSpec() labels the points' values only while they do not crowd", () => {
  const many = (n: number): PlotData => ({
    ...DATA,
    commits: Array.from({ length: n }, (_, i) => ({
      id: i.toString(16).padStart(64, "0"),
      params: {},
      values: { "cv.accuracy": i / n },
    })),
  });
  assert.equal(charts(many(24))[0]!.layer.length, 2);
  assert.equal(charts(many(25))[0]!.layer.length, 1);
});

Deno.test("plotPage() holds the SVG and the spec, and no script that runs or loads", () => {
  const spec = plotSpec({ ...DATA, title: "m@master" });
  const page = plotPage("m@master", "<svg></svg>", spec);
  assert.ok(page.startsWith("<!DOCTYPE html>"));
  assert.ok(page.includes("<svg></svg>"));
  const json = page.match(
    new RegExp(`<script type="application/json" id="${SPEC_ELEMENT_ID}">([\\s\\S]*?)</script>`),
  );
  assert.ok(json);
  assert.deepEqual(JSON.parse(json[1]!), spec);
  assert.doesNotMatch(page, /<script(?! type="application\/json")/);
  assert.doesNotMatch(page, /\b(?:src|href)=/);
});

Deno.test("plotPage() keeps a label holding </script> inside the spec's JSON", () => {
  const hostile = "</script><script>alert(1)</script><!--";
  const spec = plotSpec({
    ...DATA,
    commits: [{ id: ID("a"), params: { note: hostile }, values: { "cv.accuracy": 1 } }],
  });
  const page = plotPage("<b>m</b>", "<svg></svg>", spec);
  assert.equal(page.match(/<\/script>/g)?.length, 1, "only the spec's own closing tag");
  assert.doesNotMatch(page, /<!--|<b>/);
  const json = page.slice(
    page.indexOf(`id="${SPEC_ELEMENT_ID}">`) + 21,
    page.lastIndexOf("</script>"),
  );
  assert.deepEqual(JSON.parse(json), spec, "the escaped JSON still parses to the spec");
});
