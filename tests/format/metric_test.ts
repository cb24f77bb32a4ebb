/** Metrics for people: rounded values, signed changes, parameters and the default columns. */
import assert from "node:assert/strict";
import {
  formatChange,
  formatMetric,
  formatParams,
  HEADLINE_COLUMNS,
  headlineColumns,
} from "../../lib/format/metric.ts";

Deno.test("formatMetric() keeps whole numbers and rounds others to 4 places, zeros dropped", () => {
  const cases: [number, string][] = [
    [150, "150"],
    [0, "0"],
    [-3, "-3"],
    [0.9933333333333333, "0.9933"],
    [0.9800000000000001, "0.98"],
    [1.5, "1.5"],
    [-0.06000000000000005, "-0.06"],
    [0.00012346, "0.0001235"],
    [1.2345e-7, "1.235e-7"],
    [-0.00001, "-0.00001"],
    [1e20, "1e+20"],
  ];
  for (const [n, text] of cases) assert.equal(formatMetric(n), text, String(n));
});

Deno.test("formatMetric() never prints -0", () => {
  assert.equal(formatMetric(-0.00000), "0");
  assert.equal(formatMetric(-0.000000001 + 0.000000001), "0");
  assert.equal(formatMetric(-0.00004 * 0), "0");
});

Deno.test("formatChange() signs a change and leaves none as 0", () => {
  assert.equal(formatChange(0.0133), "+0.0133");
  assert.equal(formatChange(-0.06000000000000005), "-0.06");
  assert.equal(formatChange(0), "0");
  assert.equal(formatChange(3), "+3");
});

Deno.test("formatParams() writes parameters as key=value, nested ones as JSON", () => {
  assert.equal(formatParams({ C: 0.01 }), "C=0.01");
  assert.equal(formatParams({ model: "lda", C: 1 }), "model=lda C=1");
  assert.equal(formatParams({ grid: [1, 2], on: true }), "grid=[1,2] on=true");
  assert.equal(formatParams({}), "");
});

Deno.test("headlineColumns() takes metrics of at most two levels, none from an array", () => {
  assert.deepEqual(
    headlineColumns([
      "rows",
      "accuracy",
      "cv.accuracy",
      "cv.folds.0",
      "per_class.Iris-setosa.f1",
      "confusion_matrix.matrix.0.0",
      "losses.3",
    ]),
    ["rows", "accuracy", "cv.accuracy"],
  );
});

Deno.test("headlineColumns() takes at most HEADLINE_COLUMNS of them", () => {
  const names = Array.from({ length: 10 }, (_, i) => `m${i}`);
  assert.deepEqual(headlineColumns(names), names.slice(0, HEADLINE_COLUMNS));
});
