/**
 * The training stages with a parameters folder, as real subprocesses with only the
 * permissions tusk grants: params.json's C and model kind reach model.txt, model.json and
 * metrics.json; no folder, an empty one and `{}` give the defaults byte for byte; the same
 * params give the same bytes; every bad params.json fails, naming the file and the key, and
 * writes nothing.
 */
import assert from "node:assert/strict";
import { DATA, runStage, type StageResult, tempDir, writeFiles } from "./_helpers.ts";

type Stage = "train_svm" | "train_lda";

/** Run a training stage on data/ into a fresh `<root>/<name>`, with `params` if given. */
async function train(
  stage: Stage,
  root: string,
  name: string,
  params?: string,
): Promise<StageResult & { out: string }> {
  const out = `${root}/${name}`;
  await Deno.mkdir(out);
  const args = [`${DATA}/`, `${out}/`, ...(params === undefined ? [] : [`${params}/`])];
  const read = params === undefined ? [DATA] : [DATA, params];
  return { ...(await runStage(stage, args, { read, write: out })), out };
}

/** A parameters folder `<root>/<name>` holding `files`. */
async function paramsFolder(
  root: string,
  name: string,
  files: Record<string, string> = {},
): Promise<string> {
  const dir = `${root}/${name}`;
  await Deno.mkdir(dir);
  await writeFiles(dir, files);
  return dir;
}

/** The bytes of every file of a training output, by name. */
async function filesOf(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for await (const e of Deno.readDir(dir)) {
    files[e.name] = await Deno.readTextFile(`${dir}/${e.name}`);
  }
  return files;
}

// deno-lint-ignore no-explicit-any
async function readJson(path: string): Promise<any> {
  return JSON.parse(await Deno.readTextFile(path));
}

Deno.test('train_svm.ts with params.json {"C": 0.01} fits C = 0.01 and says so in all three files', async () => {
  await using dir = await tempDir();
  const params = await paramsFolder(dir.path, "params", { "params.json": `{"C": 0.01}\n` });
  const r = await train("train_svm", dir.path, "out", params);
  assert.equal(r.code, 0, r.stderr);
  const txt = await Deno.readTextFile(`${r.out}/model.txt`);
  assert.match(
    txt,
    /^SVC\(C=0\.01, kernel='linear', tol=0\.001, decision_function_shape='ovo'\)\n/,
  );
  assert.match(txt, /training accuracy: 0\.9267 \(139\/150\)/);
  assert.equal((await readJson(`${r.out}/model.json`)).params.C, 0.01);
  const metrics = await readJson(`${r.out}/metrics.json`);
  assert.equal(metrics.model, "svm");
  assert.deepEqual(metrics.params, { C: 0.01 });
  assert.equal(metrics.accuracy, 139 / 150);
  assert.match(r.stdout, /^cross-validated accuracy: 0\.9200 \(StratifiedKFold/m);
});

Deno.test("metrics.json holds the pinned layout: model, params, rows, accuracy, cv, per_class, confusion_matrix", async () => {
  await using dir = await tempDir();
  const r = await train("train_svm", dir.path, "out");
  assert.equal(r.code, 0, r.stderr);
  const m = await readJson(`${r.out}/metrics.json`);
  const classes = ["Iris-setosa", "Iris-versicolor", "Iris-virginica"];
  assert.deepEqual(Object.keys(m), [
    "model",
    "params",
    "rows",
    "accuracy",
    "cv",
    "per_class",
    "confusion_matrix",
  ]);
  assert.deepEqual([m.model, m.params, m.rows], ["svm", { C: 1 }, 150]);
  assert.deepEqual(Object.keys(m.cv), ["splitter", "accuracy", "folds"]);
  assert.equal(m.cv.splitter, "StratifiedKFold(n_splits=5, shuffle=False)");
  assert.equal(m.cv.folds.length, 5);
  assert.deepEqual(Object.keys(m.per_class), classes);
  for (const c of classes) {
    assert.deepEqual(Object.keys(m.per_class[c]), ["precision", "recall", "f1", "support"]);
    assert.equal(m.per_class[c].support, 50);
  }
  assert.deepEqual(m.confusion_matrix, {
    labels: classes,
    matrix: [[50, 0, 0], [0, 49, 1], [0, 0, 50]],
  });
});

for (const stage of ["train_svm", "train_lda"] as const) {
  Deno.test(`${stage}.ts with an empty parameters folder, {} or a folder of other files writes what it writes with none`, async () => {
    await using dir = await tempDir();
    const folders = [
      await paramsFolder(dir.path, "empty"),
      await paramsFolder(dir.path, "object", { "params.json": "{}" }),
      await paramsFolder(dir.path, "other", { "params.yaml": "C: 0.01\n", "sub/params.json": "[" }),
    ];
    const none = await train(stage, dir.path, "none");
    assert.equal(none.code, 0, none.stderr);
    const expected = await filesOf(none.out);
    assert.deepEqual(Object.keys(expected).sort(), ["metrics.json", "model.json", "model.txt"]);
    for (const [i, params] of folders.entries()) {
      const r = await train(stage, dir.path, `out${i}`, params);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await filesOf(r.out), expected, params);
    }
  });
}

Deno.test('train_svm.ts with {"C": 1} writes exactly what it writes with no parameters', async () => {
  await using dir = await tempDir();
  const params = await paramsFolder(dir.path, "params", {
    "params.json": `{"C": 1, "model": "svm"}`,
  });
  const [none, one] = await Promise.all([
    train("train_svm", dir.path, "none"),
    train("train_svm", dir.path, "one", params),
  ]);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(await filesOf(one.out), await filesOf(none.out));
});

Deno.test("the model kind is a parameter: each stage fits the other's model, byte for byte, when params.json names it", async () => {
  await using dir = await tempDir();
  const lda = await paramsFolder(dir.path, "lda", { "params.json": `{"model": "lda"}` });
  const svm = await paramsFolder(dir.path, "svm", { "params.json": `{"model": "svm", "C": 0.1}` });
  const c01 = await paramsFolder(dir.path, "c01", { "params.json": `{"C": 0.1}` });
  const [ldaOwn, ldaViaSvm, svmOwn, svmViaLda] = await Promise.all([
    train("train_lda", dir.path, "lda-own"),
    train("train_svm", dir.path, "lda-via-svm", lda),
    train("train_svm", dir.path, "svm-own", c01),
    train("train_lda", dir.path, "svm-via-lda", svm),
  ]);
  for (const r of [ldaOwn, ldaViaSvm, svmOwn, svmViaLda]) assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await filesOf(ldaViaSvm.out), await filesOf(ldaOwn.out));
  assert.deepEqual(await filesOf(svmViaLda.out), await filesOf(svmOwn.out));
  assert.equal((await readJson(`${ldaViaSvm.out}/metrics.json`)).model, "lda");
  assert.deepEqual((await readJson(`${ldaViaSvm.out}/metrics.json`)).params, { model: "lda" });
  assert.match(await Deno.readTextFile(`${svmViaLda.out}/model.txt`), /^SVC\(C=0\.1, /);
});

Deno.test("the same params.json twice gives byte-identical model.json and metrics.json", async () => {
  await using dir = await tempDir();
  const params = await paramsFolder(dir.path, "params", { "params.json": `{"C": 10}` });
  const [a, b] = await Promise.all([
    train("train_svm", dir.path, "a", params),
    train("train_svm", dir.path, "b", params),
  ]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  for (const file of ["model.json", "metrics.json", "model.txt"]) {
    assert.deepEqual(
      await Deno.readFile(`${a.out}/${file}`),
      await Deno.readFile(`${b.out}/${file}`),
    );
  }
  assert.match(await Deno.readTextFile(`${a.out}/model.txt`), /^SVC\(C=10\.0, /);
});

/** params.json texts each stage must refuse, with the key the message must name. */
const BAD: [Stage, string, string | null][] = [
  ["train_svm", `{"C": 0.1`, null],
  ["train_svm", ``, null],
  ["train_svm", `[{"C": 0.1}]`, null],
  ["train_svm", `0.1`, null],
  ["train_svm", `{"C": 0.1, "kernel": "rbf"}`, "kernel"],
  ["train_svm", `{"c": 0.1}`, "c"],
  ["train_svm", `{"C": 0}`, "C"],
  ["train_svm", `{"C": -0.5}`, "C"],
  ["train_svm", `{"C": 1e400}`, "C"],
  ["train_svm", `{"C": "0.1"}`, "C"],
  ["train_svm", `{"C": null}`, "C"],
  ["train_svm", `{"C": [0.1]}`, "C"],
  ["train_svm", `{"model": "forest"}`, "model"],
  ["train_svm", `{"model": 1}`, "model"],
  ["train_svm", `{"model": "lda", "C": 0.1}`, "C"],
  ["train_lda", `{"C": 0.1}`, "C"],
  ["train_lda", `{"gamma": 2}`, "gamma"],
];

for (const [stage, text, key] of BAD) {
  Deno.test(`${stage}.ts refuses params.json ${JSON.stringify(text)} with exit 1, naming the file${key ? ` and "${key}"` : ""}, writing nothing`, async () => {
    await using dir = await tempDir();
    const params = await paramsFolder(dir.path, "params", { "params.json": text });
    const r = await train(stage, dir.path, "out", params);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, new RegExp(`^${stage}: params\\.json: `));
    if (key !== null) assert.ok(r.stderr.includes(`"${key}"`), r.stderr);
    assert.deepEqual(await filesOf(r.out), {});
  });
}

Deno.test("train_svm.ts refuses a params.json that is not UTF-8, or a folder, writing nothing", async () => {
  await using dir = await tempDir();
  const binary = await paramsFolder(dir.path, "binary");
  await Deno.writeFile(`${binary}/params.json`, new Uint8Array([0x7b, 0x22, 0x43, 0xff, 0x7d]));
  const folder = await paramsFolder(dir.path, "folder");
  await Deno.mkdir(`${folder}/params.json`);
  for (const [params, message] of [[binary, /not UTF-8/], [folder, /is a folder/]] as const) {
    const r = await train("train_svm", dir.path, `out-${params.slice(-6)}`, params);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^train_svm: params\.json: /);
    assert.match(r.stderr, message);
    assert.deepEqual(await filesOf(r.out), {});
  }
});

Deno.test("train_svm.ts refuses a parameters folder that does not exist, naming it", async () => {
  await using dir = await tempDir();
  const r = await train("train_svm", dir.path, "out", `${dir.path}/missing`);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^train_svm: Cannot read parameters from ".*\/missing": no such folder/);
  assert.deepEqual(await filesOf(r.out), {});
});

for (const stage of ["train_svm", "train_lda"] as const) {
  Deno.test(`${stage}.ts with 1 or 4 arguments prints its usage and exits 2`, async () => {
    await using dir = await tempDir();
    for (const args of [[DATA], [DATA, dir.path, dir.path, dir.path]]) {
      const r = await runStage(stage, args, { read: [DATA], write: dir.path });
      assert.equal(r.code, 2);
      assert.match(
        r.stderr,
        new RegExp(
          `^Usage: ${stage}\\.ts <training folder> <out folder> \\[<parameters folder>\\]`,
        ),
      );
    }
  });
}
