/**
 * The `--json` output of every command that takes it is an interface for scripts: this
 * pins each shape — its keys, which are optional, and their value types — on a small store
 * with one pipeline (`upper` over repo `data`). The shapes live in `tests/_json_shapes.ts`,
 * which `tests/docs/json_doc_test.ts` checks `docs/json.md` against: a change here is a
 * change to docs/json.md.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore } from "../_helpers.ts";
import { checkShape, JSON_OUTPUTS, jsonOutputOf } from "../_json_shapes.ts";
import { irisMetrics } from "../_metrics.ts";
import { ok } from "./_cli.ts";

Deno.test("--json output of every command that takes it keeps its documented shape", async (t) => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "alpha\n" });
  await ok(["put", "file", "data@master:/sub/c.txt", "-f", "-"], { ...o, stdin: "charlie\n" });
  await ok(["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/upper.json`], o);
  await ok(["put", "file", "data@master:/b.txt", "-f", "-"], { ...o, stdin: "bravo\n" });
  await ok(["create", "repo", "exp"], o);
  for (const metrics of [irisMetrics(1, 0.99, 0.98), irisMetrics(0.01, 0.93, 0.92), "{oops"]) {
    await ok(["put", "file", "exp@master:/metrics.json", "-f", "-"], { ...o, stdin: metrics });
  }

  const json = async (...args: string[]): Promise<unknown> =>
    JSON.parse((await ok([...args, "--json"], o)).stdout);
  const jobs = await json("list", "job") as {
    id: string;
    datums: { id: string; state: string }[];
  }[];
  assert.equal(jobs.length, 2, "two jobs: the pipeline's first, then b.txt's");
  const job = jobs[0]!.id;
  assert.deepEqual(jobs[0]!.datums.map((d) => d.state).sort(), ["SKIPPED", "SKIPPED", "SUCCESS"]);
  const datum = jobs[0]!.datums[0]!.id;

  // [step name, command as docs/json.md names it, arguments]
  const cases: [string, string, string[]][] = [
    ["list repo", "list repo", ["list", "repo"]],
    ["inspect repo", "inspect repo", ["inspect", "repo", "data"]],
    ["list file", "list file", ["list", "file", "data@master"]],
    ["glob file", "glob file", ["glob", "file", "data@master:/*"]],
    ["diff file", "diff file", ["diff", "file", "data@master"]],
    ["list commit", "list commit", ["list", "commit", "data"]],
    ["inspect commit (user)", "inspect commit", ["inspect", "commit", "data@master"]],
    ["inspect commit (pipeline)", "inspect commit", ["inspect", "commit", "upper@master"]],
    ["list branch", "list branch", ["list", "branch", "data"]],
    ["list pipeline", "list pipeline", ["list", "pipeline"]],
    ["inspect pipeline", "inspect pipeline", ["inspect", "pipeline", "upper"]],
    ["list job", "list job", ["list", "job"]],
    ["inspect job", "inspect job", ["inspect", "job", job]],
    ["wait job", "wait job", ["wait", "job", job]],
    ["wait commit", "wait commit", ["wait", "commit", "data@master"]],
    ["list datum", "list datum", ["list", "datum", job]],
    ["inspect datum", "inspect datum", ["inspect", "datum", job, datum]],
    ["logs", "logs", ["logs", "--job", job]],
    ["plan", "plan", ["plan", "upper"]],
    ["lineage", "lineage", ["lineage", "upper@master:/b.txt"]],
    ["verify", "verify", ["verify"]],
    ["gc --dry-run", "gc", ["gc", "--dry-run"]],
    ["gc", "gc", ["gc"]],
    ["doctor", "doctor", ["doctor"]],
    ["export pachyderm", "export pachyderm", ["export", "pachyderm", "-o", `${s.path}/export`]],
    ["metrics show", "metrics show", ["metrics", "show", "exp@master"]],
    ["metrics diff", "metrics diff", ["metrics", "diff", "exp@master^"]],
    ["metrics diff (a side not JSON)", "metrics diff", ["metrics", "diff", "exp@master"]],
    ["remote add", "remote add", ["remote", "add", "origin", `${s.path}/remote`]],
    ["push", "push", ["push", "origin"]],
    ["remote verify", "remote verify", ["remote", "verify", "origin"]],
    ["pull", "pull", ["pull", "origin"]],
    ["clone", "clone", ["--store", `${s.path}/clone/.tusk`, "clone", `${s.path}/remote`]],
    ["remote list", "remote list", ["remote", "list"]],
    ["remote remove", "remote remove", ["remote", "remove", "origin"]],
  ];
  for (const [name, command, args] of cases) {
    await t.step(name, async () => {
      const { shape, lines } = jsonOutputOf(command);
      if (lines) {
        const printed = (await ok([...args, "--json"], o)).stdout.split("\n").filter((l) => l);
        assert.ok(printed.length > 0, `${name} printed no line`);
        printed.forEach((l, i) => checkShape(JSON.parse(l), shape, `${name}[line ${i + 1}]`));
        return;
      }
      const value = await json(...args);
      if (Array.isArray(value)) assert.ok(value.length > 0, `${name} printed an empty list`);
      checkShape(value, shape, name);
    });
  }

  await t.step("every command docs/json.md documents is run here", () => {
    const run = new Set(cases.map(([, command]) => command));
    assert.deepEqual(JSON_OUTPUTS.map((o) => o.command).filter((c) => !run.has(c)), []);
  });

  await t.step("the 1.x grammar prints the same JSON", async () => {
    const pairs: [string[], string[]][] = [
      [["list-repo"], ["list", "repo"]],
      [["inspect-repo", "data"], ["inspect", "repo", "data"]],
      [["list-file", "data", "master"], ["list", "file", "data@master"]],
      [["list-commit", "data", "master"], ["list", "commit", "data@master"]],
      [["inspect-commit", "upper", "master"], ["inspect", "commit", "upper@master"]],
      [["list-branch", "data"], ["list", "branch", "data"]],
      [["inspect-pipeline", "upper"], ["inspect", "pipeline", "upper"]],
      [["list-job"], ["list", "job"]],
      [["inspect-job", job], ["inspect", "job", job]],
      [["list-datum", job], ["list", "datum", job]],
      [["inspect-datum", job, datum], ["inspect", "datum", job, datum]],
      [["list-pipeline"], ["list", "pipeline"]],
      [["glob-file", "data", "master", "/*"], ["glob", "file", "data@master:/*"]],
      [["diff-file", "data", "master"], ["diff", "file", "data@master"]],
    ];
    for (const [old, modern] of pairs) assert.deepEqual(await json(...old), await json(...modern));
  });

  await t.step(
    "a file and a folder, an added file, provenance and lineage are all there",
    async () => {
      const files = await json("list", "file", "data@master") as { type: string }[];
      assert.deepEqual(files.map((f) => f.type).sort(), ["dir", "file", "file"]);
      const c = await json("inspect", "commit", "upper@master") as Record<string, unknown>;
      assert.ok(c.provenance && c.upstream, "a pipeline's commit has provenance and upstream");
      const l = await json("lineage", "upper@master:/b.txt") as Record<string, unknown>;
      assert.equal(l.pipeline, "upper");
    },
  );
});
