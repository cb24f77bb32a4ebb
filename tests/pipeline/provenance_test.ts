/** Provenance and lineage through a two-stage pipeline chain, via the real CLI. */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

async function chain(store: string, dir: string): Promise<void> {
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "repo", "attributes"], { store });
  await tuskOk(["put", "file", "data@master:/model.txt", "-f", "-"], { store, stdin: "m\n" });
  await tuskOk(["put", "file", "attributes@master:/1.csv", "-f", "-"], { store, stdin: "x\n" });
  await tuskOk(["put", "file", "attributes@master:/2.csv", "-f", "-"], { store, stdin: "y\n" });
  // Stage 1 "model": upper-cases data (glob /); stage 2 pairs attributes with the model.
  await Deno.writeTextFile(
    `${dir}/model.json`,
    JSON.stringify({
      pipeline: { name: "model" },
      transform: { cmd: ["deno", "run", "upper.ts", "/pfs/data/", "/pfs/out/"] },
      input: { pfs: { repo: "data", glob: "/" } },
    }),
  );
  await Deno.writeTextFile(
    `${dir}/paired.json`,
    JSON.stringify({
      pipeline: { name: "paired" },
      transform: {
        cmd: ["deno", "run", "join_model.ts", "/pfs/data/", "/pfs/model/", "/pfs/out/"],
      },
      input: {
        cross: [
          { pfs: { repo: "attributes", name: "data", glob: "/*" } },
          { pfs: { repo: "model", glob: "/" } },
        ],
      },
    }),
  );
  await Deno.copyFile(`${STAGES}/upper.ts`, `${dir}/upper.ts`);
  await Deno.copyFile(`${STAGES}/join_model.ts`, `${dir}/join_model.ts`);
  await tuskOk(["create", "pipeline", "-f", `${dir}/model.json`], { store });
  await tuskOk(["create", "pipeline", "-f", `${dir}/paired.json`], { store });
}

Deno.test("inspect commit of an output lists its input commits transitively with spec and code", async () => {
  await using s = await tempStore();
  await chain(s.store, s.path);
  const store = s.store;
  const out = JSON.parse(
    (await tuskOk(["inspect", "commit", "paired@master", "--json"], { store })).stdout,
  );
  const model = JSON.parse(
    (await tuskOk(["inspect", "commit", "model@master", "--json"], { store })).stdout,
  );
  const data = JSON.parse(
    (await tuskOk(["inspect", "commit", "data@master", "--json"], { store })).stdout,
  );
  const attrs = JSON.parse(
    (await tuskOk(["inspect", "commit", "attributes@master", "--json"], { store })).stdout,
  );
  const pipe = JSON.parse(
    (await tuskOk(["inspect", "pipeline", "paired", "--json"], { store })).stdout,
  );
  assert.equal(out.origin, "pipeline");
  assert.equal(out.provenance.code, pipe.codeHash);
  assert.equal(out.provenance.spec, pipe.specHash);
  const direct = out.provenance.inputs.map((i: { repo: string; commit: string }) =>
    `${i.repo}@${i.commit}`
  ).sort();
  assert.deepEqual(direct, [`attributes@${attrs.id}`, `model@${model.id}`].sort());
  const text = (await tuskOk(["inspect", "commit", "paired@master"], { store })).stdout;
  assert.ok(text.includes(`data@${data.id}`), text);
  assert.ok(text.includes(`model@${model.id}`), text);
  assert.ok(text.includes(pipe.codeHash), text);
});

Deno.test("lineage of one output file names its input files, the model and the code", async () => {
  await using s = await tempStore();
  await chain(s.store, s.path);
  const store = s.store;
  const l = JSON.parse((await tuskOk(["lineage", "paired@master:/2", "--json"], { store })).stdout);
  const pipe = JSON.parse(
    (await tuskOk(["inspect", "pipeline", "paired", "--json"], { store })).stdout,
  );
  assert.equal(l.pipeline, "paired");
  assert.equal(l.code, pipe.codeHash);
  const inputFiles = l.inputs.flatMap((i: { repo: string; files: string[] }) =>
    i.files.map((f: string) => `${i.repo}:${f}`)
  ).sort();
  assert.deepEqual(inputFiles, ["attributes:/2.csv", "model:/model.txt"]);
  assert.equal(l.upstream.length, 1);
  assert.equal(l.upstream[0].pipeline, "model");
  assert.deepEqual(l.upstream[0].inputs[0].files, ["/model.txt"]);
});
