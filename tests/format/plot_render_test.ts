/** Rendering a Vega-Lite spec to SVG under Deno, with no browser and no network. */
import assert from "node:assert/strict";
import { renderSvg } from "../../lib/format/plot_render.ts";
import { plotSpec } from "../../lib/format/plot_spec.ts";
import { assertWellFormedXml } from "../_xml.ts";

const SPEC = plotSpec({
  title: "exp@master",
  metrics: ["cv.accuracy"],
  commits: [
    { id: "a".repeat(64), params: { C: 1 }, values: { "cv.accuracy": 0.98 } },
    { id: "b".repeat(64), params: { C: 0.01 }, values: { "cv.accuracy": 0.92 } },
  ],
  confusion: { commit: "b".repeat(64), labels: ["x", "y"], matrix: [[5, 1], [0, 6]] },
});

Deno.test("assertWellFormedXml() refuses broken XML", () => {
  assert.throws(() => assertWellFormedXml("<a><b></a></b>"));
  assert.throws(() => assertWellFormedXml("<a x=1></a>"));
  assert.throws(() => assertWellFormedXml("<a>&</a>"));
  assert.throws(() => assertWellFormedXml("<a></a><b></b>"));
  assert.throws(() => assertWellFormedXml('<a x="1" x="2"></a>'));
  assert.deepEqual(assertWellFormedXml('<a x="1"><b/>&amp;</a>'), ["a", "b"]);
});

Deno.test("renderSvg() draws a spec as well-formed SVG holding its values and labels", async () => {
  const svg = await renderSvg(SPEC);
  const elements = assertWellFormedXml(svg);
  assert.equal(elements[0], "svg");
  for (const text of ["0.98", "0.92", "C=1", "C=0.01", "exp@master", "cv.accuracy"]) {
    assert.ok(svg.includes(`>${text}<`), `the SVG shows ${text}`);
  }
  assert.ok(elements.filter((e) => e === "path" || e === "rect").length >= 4, "marks are drawn");
});

Deno.test("renderSvg() gives the same bytes for the same spec, render after render", async () => {
  const first = await renderSvg(SPEC);
  await renderSvg(plotSpec({
    title: "other",
    metrics: ["m"],
    commits: [{ id: "c".repeat(64), params: {}, values: { m: 1 } }],
  }));
  assert.equal(await renderSvg(SPEC), first);
});

Deno.test("renderSvg() refuses a spec that would load data from a URL", async () => {
  await assert.rejects(
    renderSvg({
      data: { url: "https://example.com/data.json" },
      mark: "point",
      encoding: { x: { field: "a", type: "quantitative" } },
    }),
    /loads nothing/,
  );
});
