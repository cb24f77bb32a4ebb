/**
 * params.json of the iris training stages: what it may hold, what each bad file is refused
 * with (code BAD_PARAMS, the file and key in `data`), and the settings it gives over a
 * stage's defaults.
 */
import assert from "node:assert/strict";
import { IrisError } from "../../pipelines/iris/iris.ts";
import {
  parseParams,
  readParams,
  settingsOf,
  type TrainSettings,
} from "../../pipelines/iris/params.ts";
import { tempDir, writeFiles } from "./_helpers.ts";

/** Assert `fn` throws BAD_PARAMS naming params.json (and `key`, if given) in data and message. */
function assertBad(fn: () => unknown, key: string | undefined, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IrisError, String(e));
    assert.equal(e.code, "BAD_PARAMS");
    assert.equal(e.data.file, "params.json");
    assert.equal(e.data.key, key);
    assert.match(e.message, /^params\.json: /);
    if (key !== undefined) assert.ok(e.message.includes(`"${key}"`), e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

Deno.test("parseParams() reads C and model, and {} as no parameters", () => {
  assert.deepEqual(parseParams(`{"C": 0.01}`), { C: 0.01 });
  assert.deepEqual(parseParams(`{"model": "lda"}`), { model: "lda" });
  assert.deepEqual(parseParams(` {"model": "svm", "C": 10}\n`), { model: "svm", C: 10 });
  assert.deepEqual(parseParams(`{}`), {});
  assert.deepEqual(parseParams(`{"C": 1e-3}`), { C: 0.001 });
});

Deno.test("parseParams() refuses text that is not JSON", () => {
  assertBad(() => parseParams(`{"C": 0.1`), undefined, /not valid JSON/);
  assertBad(() => parseParams(``), undefined, /not valid JSON/);
  assertBad(() => parseParams(`C = 0.1`), undefined, /not valid JSON/);
});

Deno.test("parseParams() refuses JSON that is not an object", () => {
  for (const [text, got] of [["[0.1]", "an array"], ["0.1", "0.1"], ["null", "null"]]) {
    assertBad(
      () => parseParams(text!),
      undefined,
      new RegExp(`expected a JSON object.*got ${got}`),
    );
  }
});

Deno.test("parseParams() refuses an unknown key, naming it", () => {
  assertBad(() => parseParams(`{"C": 1, "gamma": 0.5}`), "gamma", /the keys are "model" and "C"/);
  assertBad(() => parseParams(`{"c": 1}`), "c", /did you mean "C"\?/);
  assertBad(() => parseParams(`{"Model": "lda"}`), "Model", /did you mean "model"\?/);
});

Deno.test("parseParams() refuses a C that is not a finite number greater than 0", () => {
  const cases: [string, string][] = [
    ["0", "0"],
    ["-1", "-1"],
    ["-0.0", "0"],
    ["1e999", "Infinity"],
    ['"0.1"', '"0.1"'],
    ["null", "null"],
    ["true", "true"],
    ["[1]", "an array"],
    ['{"value": 1}', "an object"],
  ];
  for (const [value, got] of cases) {
    assertBad(
      () => parseParams(`{"C": ${value}}`),
      "C",
      new RegExp(`finite number greater than 0, got ${got.replace(/[[\]]/g, "\\$&")}$`),
    );
  }
});

Deno.test('parseParams() refuses a model other than "svm" or "lda"', () => {
  for (const value of ['"rf"', '"SVM"', "1", "null", '["svm"]']) {
    assertBad(() => parseParams(`{"model": ${value}}`), "model", /must be "svm" or "lda"/);
  }
});

Deno.test("settingsOf() takes the stage's own kind and C = 1 unless params.json says otherwise", () => {
  const cases: [Parameters<typeof settingsOf>, TrainSettings][] = [
    [[{}, "svm"], { model: "svm", C: 1 }],
    [[{}, "lda"], { model: "lda" }],
    [[{ C: 0.1 }, "svm"], { model: "svm", C: 0.1 }],
    [[{ model: "lda" }, "svm"], { model: "lda" }],
    [[{ model: "svm" }, "lda"], { model: "svm", C: 1 }],
    [[{ model: "svm", C: 10 }, "lda"], { model: "svm", C: 10 }],
  ];
  for (const [args, expected] of cases) assert.deepEqual(settingsOf(...args), expected);
});

Deno.test("settingsOf() refuses C for the LDA, naming the key", () => {
  assertBad(() => settingsOf({ C: 1 }, "lda"), "C", /applies to the svm model only/);
  assertBad(() => settingsOf({ model: "lda", C: 1 }, "svm"), "C", /applies to the svm model only/);
});

Deno.test("readParams() reads params.json, and gives no parameters for a folder without one", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, {
    "with/params.json": `{"C": 0.5}`,
    "with/notes.txt": "other files are ignored",
    "without/params.yaml": "C: 0.5",
  });
  await Deno.mkdir(`${dir.path}/empty`);
  assert.deepEqual(await readParams(`${dir.path}/with/`), { C: 0.5 });
  assert.deepEqual(await readParams(`${dir.path}/without`), {});
  assert.deepEqual(await readParams(`${dir.path}/empty`), {});
});

Deno.test("readParams() refuses a params.json that is a folder or not UTF-8", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/folder/params.json`, { recursive: true });
  await Deno.mkdir(`${dir.path}/binary`);
  await Deno.writeFile(`${dir.path}/binary/params.json`, new Uint8Array([0x7b, 0xff, 0x7d]));
  await assert.rejects(() => readParams(`${dir.path}/folder`), (e: unknown) => {
    assert.ok(e instanceof IrisError && e.code === "BAD_PARAMS");
    assert.match(e.message, /^params\.json: is a folder, not a file$/);
    return true;
  });
  await assert.rejects(() => readParams(`${dir.path}/binary`), (e: unknown) => {
    assert.ok(e instanceof IrisError && e.code === "BAD_PARAMS");
    assert.match(e.message, /^params\.json: not UTF-8 text$/);
    return true;
  });
});

Deno.test("readParams() refuses a parameters folder that is missing or a file, naming it", async () => {
  await using dir = await tempDir();
  await writeFiles(dir.path, { "params.json": "{}" });
  for (const path of [`${dir.path}/missing`, `${dir.path}/params.json`]) {
    await assert.rejects(() => readParams(path), (e: unknown) => {
      assert.ok(e instanceof IrisError && e.code === "BAD_PARAMS");
      assert.equal(e.data.dir, path);
      assert.ok(e.message.includes(`"${path}"`), e.message);
      return true;
    });
  }
});
