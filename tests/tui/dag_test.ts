/** The pipeline DAG as text lines. */
import assert from "node:assert/strict";
import { cronEntries, dagLines, type DagSegment } from "../../tui/dag.ts";
import type { PipelineNode } from "../../tui/view.ts";

function text(lines: DagSegment[][]): string[] {
  return lines.map((l) => l.map((s) => s.text).join(""));
}

const IRIS: PipelineNode[] = [
  {
    name: "inference",
    paused: false,
    inputs: [
      { name: "attributes", repo: "attributes", kind: "pfs" },
      { name: "model", repo: "model", kind: "pfs" },
    ],
  },
  { name: "model", paused: false, inputs: [{ name: "training", repo: "training", kind: "pfs" }] },
];

Deno.test("dagLines() draws the iris DAG as training → model → inference ← attributes", () => {
  assert.deepEqual(text(dagLines(IRIS)), ["training → model → inference ← attributes"]);
});

Deno.test("dagLines() marks repos, pipelines and cron inputs by role", () => {
  const lines = dagLines([
    ...IRIS,
    {
      name: "ticker",
      paused: false,
      inputs: [
        { name: "tick", repo: "ticker_tick", kind: "cron", spec: "@every 2s" },
      ],
    },
  ]);
  assert.deepEqual(text(lines), [
    "training → model → inference ← attributes",
    "cron ticker_tick → ticker",
  ]);
  const roles = lines[0]!.filter((s) => s.role !== "arrow").map((s) => [s.text, s.role]);
  assert.deepEqual(roles, [
    ["training", "repo"],
    ["model", "pipeline"],
    ["inference", "pipeline"],
    ["attributes", "repo"],
  ]);
});

Deno.test("dagLines() shows a pipeline read by two others once per sink", () => {
  const lines = text(dagLines([
    { name: "a", paused: false, inputs: [{ name: "src", repo: "src", kind: "pfs" }] },
    { name: "b", paused: false, inputs: [{ name: "a", repo: "a", kind: "pfs" }] },
    { name: "c", paused: false, inputs: [{ name: "a", repo: "a", kind: "pfs" }] },
  ]));
  assert.deepEqual(lines, ["src → a → b", "src → a → c"]);
});

Deno.test("cronEntries() lists every cron input with its spec", () => {
  const entries = cronEntries([
    {
      name: "ticker",
      paused: false,
      inputs: [
        { name: "tick", repo: "ticker_tick", kind: "cron", spec: "@every 2s" },
      ],
    },
  ]);
  assert.deepEqual(entries, [{
    key: "ticker/tick",
    pipeline: "ticker",
    input: "tick",
    repo: "ticker_tick",
    spec: "@every 2s",
  }]);
});
