/**
 * The iris tutorial end to end through the real CLI and sandbox: the seed transcript in
 * both grammars, the bad-data story with revert, cron retraining and bad attributes.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const IRIS = `${ROOT}/pipelines/iris`;
const DATA = `${ROOT}/data`;
const PREDICTED_2 = [
  "Iris-versicolor",
  "Iris-virginica",
  "Iris-virginica",
  "Iris-virginica",
  "Iris-setosa",
  "Iris-setosa",
].join("\n") + "\n";

interface Job {
  id: string;
  pipeline: string;
  state: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
}

/** Repos training and attributes, iris.csv committed, and the train and infer pipelines. */
async function irisPipelines(store: string): Promise<void> {
  await tuskOk(["create", "repo", "training"], { store });
  await tuskOk(["create", "repo", "attributes"], { store });
  await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], { store });
  await tuskOk(["create", "pipeline", "-f", `${IRIS}/train.json`], { store });
  await tuskOk(["create", "pipeline", "-f", `${IRIS}/infer.json`], { store });
}

async function jobs(store: string): Promise<Job[]> {
  return JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout);
}

Deno.test("the tutorial's transcript runs unchanged in the 1.8 grammar", async () => {
  await using s = await tempStore();
  const store = s.store;
  const at = (cwd: string) => ({ store, cwd, initCwd: cwd });
  await tuskOk(["create-repo", "training"], at(DATA));
  await tuskOk(["create-repo", "attributes"], at(DATA));
  await tuskOk(["put-file", "training", "master", "-c", "-f", "iris.csv"], at(DATA));
  // train.json crosses training with an optional parameters repo, which the tutorial lacks.
  await tuskOk(["create-pipeline", "-f", "train.json"], at(IRIS));
  const repos = (await tuskOk(["list-repo"], at(DATA))).stdout;
  assert.doesNotMatch(repos, /parameters/);
  const lj = (await tuskOk(["list-job"], at(DATA))).stdout;
  assert.match(lj, /\bmodel\b.*\b1 \+ 0 \/ 1\s+success/);
  const lf = (await tuskOk(["list-file", "model", "master"], at(DATA))).stdout;
  assert.match(lf, /\/model\.json\s+file/);
  assert.match(lf, /\/model\.txt\s+file/);
  const txt = (await tuskOk(["get-file", "model", "master", "model.txt"], at(DATA))).stdout;
  assert.match(txt, /^SVC\(C=1\.0, kernel='linear'/);
  const metrics = JSON.parse(
    (await tuskOk(["get-file", "model", "master", "metrics.json"], at(DATA))).stdout,
  );
  assert.deepEqual(metrics.params, { C: 1 });
  await tuskOk(["create-pipeline", "-f", "infer.json"], at(IRIS));
  await tuskOk(["put-file", "attributes", "master", "-c", "-r", "-f", "."], at(`${DATA}/test`));
  const lj2 = (await tuskOk(["list-job"], at(DATA))).stdout;
  assert.match(lj2, /\binference\b.*\b2 \+ 0 \/ 2\s+success/);
  const inf = (await tuskOk(["list-file", "inference", "master"], at(DATA))).stdout;
  assert.match(inf, /^\/1\s+file/m);
  assert.match(inf, /^\/2\s+file/m);
  const two = (await tuskOk(["get-file", "inference", "master", "2"], at(DATA))).stdout;
  assert.equal(two, PREDICTED_2);
});

Deno.test("the tutorial's transcript runs in the 2.x grammar, with the LDA model too", async () => {
  await using s = await tempStore();
  const store = s.store;
  await irisPipelines(store);
  await tuskOk(["put", "file", "attributes@master", "-r", "-f", "."], {
    store,
    cwd: `${DATA}/test`,
    initCwd: `${DATA}/test`,
  });
  assert.equal(
    (await tuskOk(["get", "file", "inference@master:/2"], { store })).stdout,
    PREDICTED_2,
  );
  // Switching to LDA is one update: the model retrains, inference re-runs on its own.
  await tuskOk(["update", "pipeline", "-f", `${IRIS}/train_lda.json`], { store });
  const txt = (await tuskOk(["get", "file", "model@master:/model.txt"], { store })).stdout;
  assert.match(txt, /^LinearDiscriminantAnalysis\(/);
  assert.equal(
    (await tuskOk(["get", "file", "inference@master:/2"], { store })).stdout,
    PREDICTED_2,
  );
  const latest = (await jobs(store)).filter((j) => j.pipeline === "inference")[0]!;
  assert.equal(latest.progress.processed, 2);
  // Switching back reuses the SVM model trained earlier: same data, same code, same hash.
  await tuskOk(["update", "pipeline", "-f", `${IRIS}/train.json`], { store });
  const back = (await jobs(store)).filter((j) => j.pipeline === "model")[0]!;
  assert.deepEqual([back.progress.processed, back.progress.skipped], [0, 1]);
  const again = (await tuskOk(["get", "file", "model@master:/model.txt"], { store })).stdout;
  assert.match(again, /^SVC\(/);
});

Deno.test("training twice on the same data gives a byte-identical model.json", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "training"], { store });
  await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], { store });
  await tuskOk(["create", "pipeline", "-f", `${IRIS}/train.json`], { store });
  const first = (await tuskOk(["get", "file", "model@master:/model.json"], { store })).stdoutBytes;
  await tuskOk(["update", "pipeline", "-f", `${IRIS}/train.json`, "--reprocess"], { store });
  const [job] = await jobs(store);
  assert.equal(job!.progress.processed, 1, "the datum really ran again");
  const second = (await tuskOk(["get", "file", "model@master:/model.json"], { store })).stdoutBytes;
  assert.deepEqual(second, first);
});

Deno.test("bad data gets in, predictions change, and one revert restores model and predictions", async () => {
  await using s = await tempStore();
  const store = s.store;
  await irisPipelines(store);
  await tuskOk(["put", "file", "attributes@master:/2.csv", "-f", `${DATA}/test/2.csv`], { store });
  const good = JSON.parse(
    (await tuskOk(["inspect", "commit", "training@master", "--json"], { store })).stdout,
  );
  const goodModel =
    (await tuskOk(["get", "file", "model@master:/model.json"], { store })).stdoutBytes;
  // Swap two species' labels: a plausible, silent corruption.
  const rows = (await Deno.readTextFile(`${DATA}/iris.csv`)).trim().split("\n").map((r) =>
    r.replace("Iris-setosa", "TMP").replace("Iris-virginica", "Iris-setosa").replace(
      "TMP",
      "Iris-virginica",
    )
  );
  const bad = `${s.path}/iris-bad.csv`;
  await Deno.writeTextFile(bad, rows.join("\n") + "\n");
  await tuskOk(["put", "file", "training@master:/iris.csv", "-f", bad], { store });
  const badModel =
    (await tuskOk(["get", "file", "model@master:/model.json"], { store })).stdoutBytes;
  assert.notDeepEqual(badModel, goodModel);
  assert.notEqual(
    (await tuskOk(["get", "file", "inference@master:/2"], { store })).stdout,
    PREDICTED_2,
  );

  await tuskOk(["revert", "training@master", "--to", good.id], { store });
  const after = (await tuskOk(["get", "file", "model@master:/model.json"], { store })).stdoutBytes;
  assert.deepEqual(after, goodModel);
  assert.equal(
    (await tuskOk(["get", "file", "inference@master:/2"], { store })).stdout,
    PREDICTED_2,
  );
  const [inferJob, trainJob] = await jobs(store);
  assert.equal(trainJob!.pipeline, "model");
  assert.deepEqual(
    [trainJob!.progress.processed, trainJob!.progress.skipped],
    [0, 1],
    "the training datum is reused, not re-run",
  );
  assert.equal(inferJob!.progress.skipped, 1);
  const head = JSON.parse(
    (await tuskOk(["inspect", "commit", "training@master", "--json"], { store })).stdout,
  );
  assert.equal(head.origin, "revert");
  assert.equal(head.revertOf, good.id);
  const chain = (await tuskOk(["inspect", "commit", "inference@master"], { store })).stdout;
  assert.ok(chain.includes(`training@${head.id}`), chain);
  assert.match(chain, /model@[0-9a-f]{64} \(pipeline model/);
  await tuskOk(["verify"], { store });
});

Deno.test("train_cron.json retrains on cron ticks", async () => {
  await using s = await tempStore();
  const store = s.store;
  const spec = JSON.parse(await Deno.readTextFile(`${IRIS}/train_cron.json`));
  const cron = JSON.stringify(spec).replace(/"@every [^"]+"/, '"@every 2s"');
  await Deno.writeTextFile(`${IRIS}/.train_cron_test.json`, cron);
  try {
    await tuskOk(["create", "repo", "training"], { store });
    await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], { store });
    await tuskOk(["create", "pipeline", "-f", `${IRIS}/.train_cron_test.json`], { store });
    await tuskOk(["run", "cron", "model"], { store });
    assert.equal((await jobs(store)).length, 1);
    const up = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "-R",
        "-W",
        "-E",
        "--allow-run",
        `${ROOT}/main.ts`,
        "up",
        "--headless",
      ],
      env: { TUSK_STORE: store },
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const deadline = Date.now() + 20000;
      const succeeded = async () => (await jobs(store)).filter((j) => j.state === "SUCCESS").length;
      while (await succeeded() < 3 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      up.kill("SIGTERM");
      await up.status;
    }
    const list = await jobs(store);
    const done = list.filter((j) => j.state === "SUCCESS");
    assert.ok(done.length >= 3, `${done.length} jobs succeeded`);
    // A job SIGTERM cut short is left to resume, not failed.
    assert.deepEqual(list.filter((j) => ["FAILURE", "KILLED", "UNRUNNABLE"].includes(j.state)), []);
    // Each tick is a new input commit, so the training datum really re-runs.
    assert.equal(done[0]!.progress.processed, 1);
  } finally {
    await Deno.remove(`${IRIS}/.train_cron_test.json`).catch(() => {});
  }
});

const badAttributes: [string, string, RegExp][] = [
  ["a row with a non-number", "5.1,3.5,abc,0.2\n", /line 1/],
  ["a row of 3 columns", "5.1,3.5,1.4,0.2\n5.1,3.5,1.4\n", /line 2/],
  ["a row of 5 columns", "5.1,3.5,1.4,0.2,9\n", /line 1/],
];

for (const [what, content, where] of badAttributes) {
  Deno.test(`an attributes file with ${what} fails its datum naming file and line; output unchanged`, async () => {
    await using s = await tempStore();
    const store = s.store;
    await irisPipelines(store);
    await tuskOk(["put", "file", "attributes@master:/2.csv", "-f", `${DATA}/test/2.csv`], {
      store,
    });
    const before = JSON.parse(
      (await tuskOk(["inspect", "commit", "inference@master", "--json"], { store })).stdout,
    );
    const r = await tusk(["put", "file", "attributes@master:/bad.csv", "-f", "-"], {
      store,
      stdin: content,
    });
    assert.equal(r.code, 0);
    const [job] = await jobs(store);
    assert.equal(job!.state, "FAILURE");
    assert.equal(job!.progress.failed, 1);
    const insp = JSON.parse(
      (await tuskOk(["inspect", "job", job!.id, "--json"], { store })).stdout,
    );
    assert.match(insp.reason, /bad\.csv/);
    assert.match(insp.reason, where);
    const after = JSON.parse(
      (await tuskOk(["inspect", "commit", "inference@master", "--json"], { store })).stdout,
    );
    assert.equal(after.id, before.id);
  });
}

Deno.test("CRLF line ends and blank lines in attributes are accepted", async () => {
  await using s = await tempStore();
  const store = s.store;
  await irisPipelines(store);
  const crlf = (await Deno.readTextFile(`${DATA}/test/2.csv`)).replaceAll("\n", "\r\n") + "\r\n";
  await tuskOk(["put", "file", "attributes@master:/2.csv", "-f", "-"], { store, stdin: crlf });
  await tuskOk(["put", "file", "attributes@master:/empty.csv", "-f", "-"], {
    store,
    stdin: "\n\n",
  });
  assert.equal(
    (await tuskOk(["get", "file", "inference@master:/2"], { store })).stdout,
    PREDICTED_2,
  );
  assert.equal((await tuskOk(["get", "file", "inference@master:/empty"], { store })).stdout, "");
});

Deno.test("a 0-byte model fails the inference datum with a clear message", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "model"], { store });
  await tuskOk(["create", "repo", "attributes"], { store });
  await tuskOk(["put", "file", "model@master:/model.json", "-f", "-"], { store, stdin: "" });
  await tuskOk(["put", "file", "attributes@master:/2.csv", "-f", `${DATA}/test/2.csv`], { store });
  await tuskOk(["create", "pipeline", "-f", `${IRIS}/infer.json`], { store });
  const [job] = await jobs(store);
  assert.equal(job!.state, "FAILURE");
  const insp = JSON.parse((await tuskOk(["inspect", "job", job!.id, "--json"], { store })).stdout);
  assert.match(insp.reason, /model\.json/);
});
