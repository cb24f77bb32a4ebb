/**
 * What travels beyond commits: a branch's metrics (`metrics show`, `metrics diff`, `plots`
 * answer on a clone as on the origin) and a pipeline's spec and code snapshot (`inspect
 * pipeline` agrees, and the clone runs the stage's code it received).
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { irisMetrics } from "../_metrics.ts";
import { rjson, rok, STAGES } from "./_remote.ts";

Deno.test("metrics show, metrics diff and plots answer on a clone as on the origin", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "model"], a);
  for (const [c, cv] of [[1, 0.9], [10, 0.94], [100, 0.96]] as const) {
    await rok(["put", "file", "model@master:/metrics.json", "-f", "-"], {
      ...a,
      stdin: irisMetrics(c, cv + 0.01, cv),
    });
  }
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  const show = await rjson<unknown[]>(["metrics", "show", "model@master"], a);
  assert.equal(show.length, 3);
  assert.deepEqual(await rjson(["metrics", "show", "model@master"], b), show);
  assert.deepEqual(
    await rjson(["metrics", "diff", "model@master^"], b),
    await rjson(["metrics", "diff", "model@master^"], a),
  );
  for (const [o, name] of [[a, "a"], [b, "b"]] as const) {
    await rok(["plots", "model@master", "-o", `${dir.path}/${name}.svg`], o);
  }
  const svg = await Deno.readTextFile(`${dir.path}/a.svg`);
  assert.match(svg, /<svg/);
  assert.equal(await Deno.readTextFile(`${dir.path}/b.svg`), svg);
});

Deno.test("a pipeline's spec and code snapshot travel: inspect pipeline agrees and the clone runs the code", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["create", "pipeline", "-f", `${STAGES}/upper.json`], a);
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  await rok(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  const b = { store: `${dir.path}/b/.tusk` };
  const inspect = (o: { store: string }) =>
    rjson<Record<string, unknown>>(
      ["inspect", "pipeline", "upper"],
      o,
    );
  const [pa, pb] = [await inspect(a), await inspect(b)];
  assert.match(String(pa.codeHash), /^[0-9a-f]{64}$/);
  assert.deepEqual(pb, pa, "the same pipeline: version, input, spec and code hashes, times");
  // The stage's code came with it: the clone runs it without the fixtures' folder.
  await rok(["put", "file", "data@master:/x", "-f", "-"], { ...b, stdin: "gamma\n" });
  assert.equal((await rok(["get", "file", "upper@master:/x"], b)).stdout, "GAMMA\n");
});
