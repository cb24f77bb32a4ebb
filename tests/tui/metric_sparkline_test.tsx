/**
 * Each pipeline's headline metric as a sparkline: the bars, the row rendered to a string,
 * the row in the dashboard's pipelines strip, and the view keeping the last snapshot's.
 */
import assert from "node:assert/strict";
import { render } from "ink-testing-library";
import { Dashboard, topWanted } from "../../tui/components/dashboard.tsx";
import { MetricSparkline, sparkline } from "../../tui/components/metric_sparkline.tsx";
import { computeLayout } from "../../tui/layout.ts";
import { initialState, reduce } from "../../tui/state.ts";
import type { Snapshot, ViewState } from "../../tui/view.ts";
import { at } from "./_events.ts";
import { plain } from "./_render.ts";

const SNAPSHOT: Snapshot = {
  takenAt: at(0),
  repos: [{
    name: "training",
    size: 4096,
    head: "494ab522deadbeef",
    headTime: at(0),
    created: at(0),
  }],
  pipelines: [
    { name: "model", paused: false, inputs: [{ name: "training", repo: "training", kind: "pfs" }] },
    { name: "inference", paused: false, inputs: [{ name: "model", repo: "model", kind: "pfs" }] },
  ],
  metrics: [{ pipeline: "model", metric: "cv.accuracy", values: [0.96, 0.973, 0.98, 0.92] }],
};

function frame(state: ViewState, width = 120, height = 36): string {
  const layout = computeLayout({ width, height }, { topWanted: topWanted(state), panel: "none" });
  const r = render(
    <Dashboard
      view={state}
      layout={layout}
      listStart={0}
      now={Date.parse(at(60_000))}
      cronNext={new Map()}
      store="/tmp/store/.tusk"
      sandbox="deno (test)"
      theme={{ color: false }}
    />,
  );
  const text = plain(r.lastFrame());
  r.unmount();
  r.cleanup();
  return text;
}

Deno.test("sparkline() draws each value as a bar from the least (▁) to the greatest (█)", () => {
  assert.equal(sparkline([0.96, 0.973, 0.98, 0.92]), "▆▇█▁");
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), "▁▂▃▄▅▆▇█");
});

Deno.test("sparkline() draws one bar per value when their range overflows a number", () => {
  assert.equal(sparkline([-1e308, 0, 1e308]), "▁▅█");
  assert.equal(sparkline([-Number.MAX_VALUE, Number.MAX_VALUE]), "▁█");
});

Deno.test("sparkline() draws values all equal as a flat middle line", () => {
  assert.equal(sparkline([0.5, 0.5, 0.5]), "▄▄▄");
  assert.equal(sparkline([0.98]), "▄");
});

Deno.test("sparkline() draws only the last width values, scaled among themselves", () => {
  assert.equal(sparkline([100, 1, 2], 2), "▁█");
  assert.equal(sparkline([1, 2], 0), "");
  assert.equal(sparkline([]), "");
});

Deno.test("MetricSparkline shows the pipeline, the metric, its bars and the newest value", () => {
  const r = render(
    <MetricSparkline metric={SNAPSHOT.metrics![0]!} nameWidth={9} theme={{ color: false }} />,
  );
  assert.equal(plain(r.lastFrame()), "model      cv.accuracy ▆▇█▁ 0.92");
  r.cleanup();
});

Deno.test("MetricSparkline escapes a metric name that holds control characters", () => {
  const r = render(
    <MetricSparkline
      metric={{ pipeline: "m", metric: "a\u001b[2Jb", values: [1] }}
      nameWidth={1}
      theme={{ color: false }}
    />,
  );
  assert.equal(r.lastFrame(), "m  a\\u001b[2Jb ▄ 1");
  r.cleanup();
});

Deno.test("Dashboard shows each pipeline's headline metric under the DAG", () => {
  const s = reduce(initialState(), { kind: "snapshot", snapshot: SNAPSHOT });
  const lines = frame(s).split("\n");
  const dag = lines.findIndex((l) => l.includes("training → model → inference"));
  assert.ok(dag > 0, lines.join("\n"));
  assert.match(lines[dag + 1]!, /model {2}cv\.accuracy ▆▇█▁ 0\.92$/);
  assert.equal(lines.filter((l) => l.includes("cv.accuracy")).length, 1, "inference has none");
  assert.equal(topWanted(s), 2, "the DAG's line and the metric's");
});

Deno.test("a snapshot without metrics keeps the last ones; one with metrics replaces them", () => {
  let s = reduce(initialState(), { kind: "snapshot", snapshot: SNAPSHOT });
  const { metrics: _, ...bare } = SNAPSHOT;
  s = reduce(s, { kind: "snapshot", snapshot: { ...bare, takenAt: at(1000) } });
  assert.deepEqual(s.metrics, SNAPSHOT.metrics);
  const newer = [{ pipeline: "model", metric: "cv.accuracy", values: [0.92, 0.98] }];
  s = reduce(s, { kind: "snapshot", snapshot: { ...SNAPSHOT, metrics: newer } });
  assert.deepEqual(s.metrics, newer);
});
