/**
 * The page `tusk plots -o FILE.html` writes, opened in headless Chromium (Debian's
 * `chromium`, driven over the DevTools protocol): no console error, exception or failed load,
 * and the chart drawn as an `svg` of real size holding its marks. A control page with errors
 * and nothing drawn shows the check sees both.
 */
import assert from "node:assert/strict";
import { tempStore } from "../_helpers.ts";
import { openInChromium } from "../_chromium.ts";
import { irisMetrics } from "../_metrics.ts";
import { ok } from "./_cli.ts";

Deno.test("the HTML of tusk plots opens in headless Chromium without errors and draws the chart as an svg", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "exp"], o);
  for (const [C, acc, cv] of [[1, 0.99, 0.98], [0.01, 0.93, 0.92]] as const) {
    await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], {
      ...o,
      stdin: irisMetrics(C, acc, cv),
    });
  }
  await ok(["plots", "exp@master", "-o", "plots.html"], o);
  const page = await openInChromium(`${s.path}/plots.html`);
  assert.deepEqual(page.errors, []);
  assert.equal(page.drawn.length, 1, JSON.stringify(page.drawn));
  const [chart] = page.drawn;
  assert.equal(chart!.tag, "svg");
  assert.ok(chart!.width > 100 && chart!.height > 100, `drawn at ${chart!.width}×${chart!.height}`);
  assert.ok(chart!.marks > 20, `${chart!.marks} marks`);
});

Deno.test("openInChromium() reports console errors, exceptions and a page that draws nothing", async () => {
  await using s = await tempStore();
  const file = `${s.path}/broken.html`;
  await Deno.writeTextFile(
    file,
    `<!DOCTYPE html><html><head><meta charset="utf-8"><title>broken</title></head><body>
<script>console.error("a console error"); notAFunction();</script></body></html>`,
  );
  const page = await openInChromium(file);
  assert.deepEqual(page.drawn, []);
  assert.ok(page.errors.some((e) => e.includes("a console error")), page.errors.join("\n"));
  assert.ok(page.errors.some((e) => e.includes("notAFunction")), page.errors.join("\n"));
});
