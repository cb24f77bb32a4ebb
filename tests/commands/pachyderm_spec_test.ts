/**
 * `export pachyderm` writes the top-level fields of a Deno stage's spec and of a host
 * program's in the same Pachyderm forms (durations as seconds, integers as numbers, memory as
 * a string), from one table, in the spec's order.
 */
import assert from "node:assert/strict";
import { hostPachydermSpec, pachydermSpec } from "../../lib/commands/_pachyderm_spec.ts";
import type { Pipeline } from "../../lib/pipeline/pipelines.ts";
import { parseSpec } from "../../lib/pipeline/spec/parse_spec.ts";

/** A pipeline of `cmd` with every converted field, as a record holds it. */
function pipeline(cmd: string[]): Pipeline {
  const spec = {
    pipeline: { name: "upper" },
    transform: { cmd },
    input: { pfs: { repo: "data", glob: "/*" } },
    datumTimeout: "10m",
    jobTimeout: 90,
    datumTries: "2",
    parallelismSpec: { constant: "3" },
    resourceLimits: { memory: "64Mi" },
    salt: "pepper",
  };
  return {
    name: "upper",
    version: 1,
    specHash: "a".repeat(64),
    codeHash: "b".repeat(64),
    spec,
    specFile: "/specs/upper.json",
    modules: [],
    packages: [],
    created: "2026-01-01T00:00:00.000Z",
    updated: "2026-01-01T00:00:00.000Z",
    stopped: false,
    reprocessSince: 0,
    parsed: parseSpec(spec),
  };
}

const CONVERTED = {
  datumTimeout: "600s",
  jobTimeout: "90s",
  datumTries: 2,
  parallelismSpec: { constant: 3 },
  resourceLimits: { memory: "64Mi" },
  salt: "pepper",
};

Deno.test("pachydermSpec() writes durations as seconds, integers as numbers and memory as a string", () => {
  const { spec } = pachydermSpec(pipeline(["deno", "run", "upper.ts", "/pfs/data/", "/pfs/out/"]), {
    image: "denoland/deno:2",
    codeRepo: "upper_code",
  });
  for (const [key, value] of Object.entries(CONVERTED)) assert.deepEqual(spec[key], value, key);
  assert.deepEqual(Object.keys(spec), [
    "pipeline",
    "transform",
    "parallelismSpec",
    "input",
    "datumTimeout",
    "jobTimeout",
    "datumTries",
    "resourceLimits",
    "salt",
  ]);
});

Deno.test("hostPachydermSpec() writes the same fields in the same forms, in the spec's order", () => {
  const { spec, dropped } = hostPachydermSpec(pipeline(["sh", "/code/run.sh"]));
  assert.deepEqual(dropped, []);
  for (const [key, value] of Object.entries(CONVERTED)) assert.deepEqual(spec[key], value, key);
  assert.deepEqual(Object.keys(spec), [
    "pipeline",
    "transform",
    "input",
    "datumTimeout",
    "jobTimeout",
    "datumTries",
    "parallelismSpec",
    "resourceLimits",
    "salt",
  ]);
});
