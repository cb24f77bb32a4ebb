/**
 * Datum batching of infer.ts: JSON request lines on stdin, one JSON ack per datum on stdout,
 * a bad datum answered with an error while the others go on, each model folder loaded once.
 */
import assert from "node:assert/strict";
import { encodeModel } from "../../pipelines/iris/iris.ts";
import { ModelCache, parseRequest, runBatch } from "../../pipelines/iris/infer.ts";
import { trainSvm } from "../../pipelines/iris/svm.ts";
import { irisTrainingSet, runStage, tempDir, writeFiles } from "./_helpers.ts";

const MODEL_JSON = encodeModel(trainSvm(await irisTrainingSet()));

/** A model folder and attribute folders a, b (good) and c (a 3-number row). */
async function batchFixture(path: string) {
  await writeFiles(path, {
    "model/model.json": MODEL_JSON,
    "a/1.csv": "5.9,3.0,5.1,1.8\n",
    "b/2.csv": "5.7,2.8,4.1,1.3\n6.3,3.3,6.0,2.5\n",
    "c/3.csv": "5.1,3.5,1.4,0.2\n5.1,3.5,1.4\n",
  });
  for (const d of ["a", "b", "c"]) await Deno.mkdir(`${path}/out-${d}`);
  const request = (d: string) =>
    JSON.stringify({
      datum: `d-${d}`,
      args: [`${path}/model/`, `${path}/${d}/`, `${path}/out-${d}/`],
    });
  return { stdin: ["a", "c", "b"].map(request).join("\n") + "\n" };
}

function stream(text: string): ReadableStream<Uint8Array> {
  return ReadableStream.from([new TextEncoder().encode(text)]);
}

Deno.test("infer.ts --batch answers each datum on stdout; a bad one gets an error and the rest go on", async () => {
  await using dir = await tempDir();
  const { stdin } = await batchFixture(dir.path);
  const r = await runStage(
    "infer",
    ["--batch", "/pfs/model/", "/pfs/attributes/", "/pfs/out/"],
    { read: [dir.path], write: dir.path, stdin },
  );
  assert.equal(r.code, 0, r.stderr);
  const acks = r.stdout.trimEnd().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(acks, [
    { datum: "d-a", status: "ok" },
    { datum: "d-c", status: "error", message: "3.csv line 2: expected 4 numbers, got 3" },
    { datum: "d-b", status: "ok" },
  ]);
  assert.equal(await Deno.readTextFile(`${dir.path}/out-a/1`), "Iris-virginica\n");
  assert.equal(await Deno.readTextFile(`${dir.path}/out-b/2`), "Iris-versicolor\nIris-virginica\n");
  assert.deepEqual(await Array.fromAsync(Deno.readDir(`${dir.path}/out-c`)), []);
});

Deno.test("runBatch() answers a request with bad args by its datum id and skips blank lines", async () => {
  const acks: string[] = [];
  const logs: string[] = [];
  const bad = await runBatch(
    stream('\n{"datum":"x","args":["only-one"]}\r\n'),
    { write: (line) => Promise.resolve(void acks.push(line)), log: (line) => logs.push(line) },
  );
  assert.equal(bad, 0);
  assert.equal(acks.length, 1);
  assert.deepEqual(JSON.parse(acks[0]!), {
    datum: "x",
    status: "error",
    message: 'Datum "x": "args" must be 3 folder paths',
  });
});

Deno.test("runBatch() reports a line that is not a request on stderr, never as an ack", async () => {
  await using dir = await tempDir();
  const { stdin } = await batchFixture(dir.path);
  const acks: string[] = [];
  const logs: string[] = [];
  const bad = await runBatch(
    stream("not json\n" + stdin),
    { write: (line) => Promise.resolve(void acks.push(line)), log: (line) => logs.push(line) },
  );
  assert.equal(bad, 1);
  assert.deepEqual(acks.map((a) => JSON.parse(a).datum), ["d-a", "d-c", "d-b"]);
  assert.ok(logs.some((l) => l.includes("Not a JSON request")));
  for (const l of logs) {
    const parsed = (() => {
      try {
        return JSON.parse(l);
      } catch {
        return undefined;
      }
    })();
    assert.ok(!(typeof parsed === "object" && parsed !== null && "datum" in parsed), l);
  }
});

Deno.test("parseRequest() needs a datum id and 3 string args", () => {
  assert.deepEqual(parseRequest('{"datum":"1","args":["m","a","o"]}'), {
    datum: "1",
    args: ["m", "a", "o"],
  });
  assert.throws(() => parseRequest('{"args":["m","a","o"]}'), { code: "BAD_REQUEST" });
  assert.throws(() => parseRequest('{"datum":"1","args":["m","a",3]}'), {
    code: "BAD_REQUEST",
    data: { datum: "1" },
  });
});

Deno.test("ModelCache loads a model folder once and reuses it", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "model.json": MODEL_JSON });
  const cache = new ModelCache();
  const first = await cache.get(dir.path);
  await Deno.remove(`${dir.path}/model.json`);
  assert.equal(await cache.get(dir.path), first);
});

Deno.test("ModelCache does not keep a failed load", async () => {
  await using dir = await tempDir();
  const cache = new ModelCache();
  await assert.rejects(() => cache.get(dir.path), { code: "BAD_MODEL" });
  await writeFiles(dir.path, { "model.json": MODEL_JSON });
  assert.equal((await cache.get(dir.path)).kind, "svm");
});
