/**
 * The iris tutorial with Pachyderm's own Python pipeline, unchanged: its two specs (byte for
 * byte), `pytrain.py` and `pyinfer.py` run by the host's python3 (scikit-learn, pandas)
 * inside the sandbox, through the real CLI. Predictions as scikit-learn's reference,
 * incremental reuse, provenance naming the code and python3's version, code versioned
 * until `update pipeline`, and a host-program stage refused where only Deno's permissions
 * would hold it.
 */
import assert from "node:assert/strict";
import { ROOT, snapshotStore, tempDir, tempStore, tusk, tuskOk } from "../_helpers.ts";
import { HOST_SANDBOX } from "../runner/_host.ts";

const PY = `${ROOT}/pipelines/iris-python`;
const DATA = `${ROOT}/data`;
const REFERENCE = JSON.parse(
  await Deno.readTextFile(`${ROOT}/tests/fixtures/reference/sklearn-iris.json`),
) as { models: { svm: { repr: string; test_predictions: Record<string, string[]> } } };

interface Job {
  id: string;
  pipeline: string;
  state: string;
  reason?: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
}

async function jobs(store: string, pipeline: string): Promise<Job[]> {
  const all = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  return all.filter((j) => j.pipeline === pipeline);
}

/** The version line of the host's python3, as `python3 --version` prints it. */
async function pythonVersion(): Promise<string> {
  const out = await new Deno.Command("/usr/bin/python3", { args: ["--version"], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("pipelines/iris-python holds Pachyderm's two Python specs byte for byte", async () => {
  for (const name of ["python_train.pipeline.json", "python_infer.pipeline.json"]) {
    assert.deepEqual(
      await Deno.readFile(`${PY}/${name}`),
      await Deno.readFile(`${ROOT}/tests/fixtures/pachyderm/${name}`),
      name,
    );
  }
});

if (HOST_SANDBOX) {
  Deno.test("the iris tutorial runs with Pachyderm's unchanged Python specs", async () => {
    await using s = await tempStore();
    const store = s.store;
    const at = (cwd: string) => ({ store, cwd, initCwd: cwd });
    await tuskOk(["create-repo", "training"], at(DATA));
    await tuskOk(["create-repo", "attributes"], at(DATA));
    await tuskOk(["put-file", "training", "master", "-c", "-f", "iris.csv"], at(DATA));
    await tuskOk(["create-pipeline", "-f", "python_train.pipeline.json"], at(PY));
    assert.match(
      (await tuskOk(["list-job"], at(DATA))).stdout,
      /\bmodel\b.*\b1 \+ 0 \/ 1\s+success/,
    );
    const model = (await tuskOk(["list-file", "model", "master"], at(DATA))).stdout;
    assert.match(model, /^\/model\.pkl\s+file/m);
    assert.match(model, /^\/model\.txt\s+file/m);
    const txt = (await tuskOk(["get-file", "model", "master", "model.txt"], at(DATA))).stdout;
    assert.equal(txt, REFERENCE.models.svm.repr);

    await tuskOk(["create-pipeline", "-f", "python_infer.pipeline.json"], at(PY));
    await tuskOk(["put-file", "attributes", "master", "-c", "-r", "-f", "."], at(`${DATA}/test`));
    const two = (await tuskOk(["get", "file", "inference@master:/2"], at(DATA))).stdout;
    assert.equal(two, REFERENCE.models.svm.test_predictions["2"]!.join("\n") + "\n");
    assert.equal(two.trimEnd().split("\n").length, 6);
    const one = (await tuskOk(["get", "file", "inference@master:/1"], at(DATA))).stdout;
    assert.equal(one, REFERENCE.models.svm.test_predictions["1"]!.join("\n") + "\n");

    // A third attributes file: one datum runs, two are reused.
    await tuskOk(["put", "file", "attributes@master:/3.csv", "-f", `${DATA}/test/2.csv`], {
      store,
    });
    const inference = await jobs(store, "inference");
    assert.deepEqual(inference[0]!.progress, {
      total: 3,
      processed: 1,
      skipped: 2,
      failed: 0,
      recovered: 0,
    });
    assert.match(
      (await tuskOk(["list", "job"], { store })).stdout,
      /\binference\b.*\b1 \+ 2 \/ 3\s+success/,
    );
    assert.equal((await tuskOk(["get", "file", "inference@master:/3"], { store })).stdout, two);
  });

  Deno.test("provenance of the Python tutorial names the code and python3's version", async () => {
    await using s = await tempStore();
    const store = s.store;
    await tuskOk(["create", "repo", "training"], { store });
    await tuskOk(["create", "repo", "attributes"], { store });
    await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], { store });
    await tuskOk(["put", "file", "attributes@master:/2.csv", "-f", `${DATA}/test/2.csv`], {
      store,
    });
    await tuskOk(["create", "pipeline", "-f", `${PY}/python_train.pipeline.json`], { store });
    await tuskOk(["create", "pipeline", "-f", `${PY}/python_infer.pipeline.json`], { store });
    const version = await pythonVersion();
    assert.match(version, /^Python 3\./);

    const pipeline = JSON.parse(
      (await tuskOk(["inspect", "pipeline", "inference", "--json"], { store })).stdout,
    );
    assert.equal(pipeline.image, "pachyderm/iris-infer:python");
    assert.equal(pipeline.program.name, "python3");
    assert.equal(pipeline.program.version, version);
    assert.equal(pipeline.workingDir, "/code");
    assert.ok(pipeline.modules.includes("/pyinfer.py"));
    const shown = (await tuskOk(["inspect", "pipeline", "inference"], { store })).stdout;
    assert.match(shown, /^Image: pachyderm\/iris-infer:python \(recorded, not pulled/m);
    assert.ok(shown.includes(`Program: python3 → ${pipeline.program.path}`), shown);

    const commit = JSON.parse(
      (await tuskOk(["inspect", "commit", "inference@master", "--json"], { store })).stdout,
    );
    assert.equal(commit.provenance.code, pipeline.codeHash);
    assert.equal(commit.provenance.program.version, version);
    assert.equal(commit.provenance.program.path, pipeline.program.path);
    assert.equal(commit.provenance.program.sha256, pipeline.program.sha256);
    const model = commit.upstream.find((n: { repo: string }) => n.repo === "model");
    assert.equal(model.program.version, version);
    const text = (await tuskOk(["inspect", "commit", "inference@master"], { store })).stdout;
    assert.ok(text.includes(`Code: ${pipeline.codeHash}`), text);
    assert.ok(text.includes(version), text);

    const lineage = JSON.parse(
      (await tuskOk(["lineage", "inference@master:/2", "--json"], { store })).stdout,
    );
    assert.equal(lineage.code, pipeline.codeHash);
    assert.equal(lineage.program.version, version);
    assert.equal(lineage.upstream[0].program.version, version);
    const said = (await tuskOk(["lineage", "inference@master:/2"], { store })).stdout;
    assert.match(said, new RegExp(`program: .*${version.replace(/\./g, "\\.")}`));
  });

  Deno.test("editing pytrain.py changes nothing until update pipeline", async () => {
    await using s = await tempStore();
    await using code = await tempDir();
    const store = s.store;
    for (const f of ["python_train.pipeline.json", "pytrain.py"]) {
      await Deno.copyFile(`${PY}/${f}`, `${code.path}/${f}`);
    }
    await tuskOk(["create", "repo", "training"], { store });
    await tuskOk(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], { store });
    await tuskOk(["create", "pipeline", "-f", `${code.path}/python_train.pipeline.json`], {
      store,
    });
    const before = JSON.parse(
      (await tuskOk(["inspect", "pipeline", "model", "--json"], { store })).stdout,
    );
    // C=1.0 becomes C=0.5: the working copy changes, the pipeline does not.
    const py = await Deno.readTextFile(`${code.path}/pytrain.py`);
    await Deno.writeTextFile(`${code.path}/pytrain.py`, py.replaceAll("C=1.0", "C=0.5"));
    await tuskOk(["put", "file", "training@master:/more.csv", "-f", `${DATA}/test/1.csv`], {
      store,
    });
    const still = JSON.parse(
      (await tuskOk(["inspect", "pipeline", "model", "--json"], { store })).stdout,
    );
    assert.equal(still.codeHash, before.codeHash);
    const txt = (await tuskOk(["get", "file", "model@master:/model.txt"], { store })).stdout;
    assert.equal(txt, "SVC(kernel='linear')");

    await tuskOk(["update", "pipeline", "-f", `${code.path}/python_train.pipeline.json`], {
      store,
    });
    const after = JSON.parse(
      (await tuskOk(["inspect", "pipeline", "model", "--json"], { store })).stdout,
    );
    assert.notEqual(after.codeHash, before.codeHash);
    const [latest] = await jobs(store, "model");
    assert.equal(latest!.state, "SUCCESS");
    assert.equal(latest!.progress.processed, 1);
    const retrained = (await tuskOk(["get", "file", "model@master:/model.txt"], { store })).stdout;
    assert.equal(retrained, "SVC(C=0.5, kernel='linear')");
  });

  Deno.test("a Python job run with --sandbox deno ends UNRUNNABLE and moves no branch", async () => {
    await using s = await tempStore();
    const store = s.store;
    await tuskOk(["create", "repo", "training"], { store });
    await tuskOk(["create", "pipeline", "-f", `${PY}/python_train.pipeline.json`], { store });
    await tuskOk([
      "--sandbox",
      "deno",
      "put",
      "file",
      "training@master:/iris.csv",
      "-f",
      `${DATA}/iris.csv`,
    ], {
      store,
    });
    const [job] = await jobs(store, "model");
    assert.equal(job!.state, "UNRUNNABLE");
    assert.match(job!.reason ?? "", /only inside the OS sandbox/);
    const commits = JSON.parse(
      (await tuskOk(["list", "commit", "model", "--json"], { store })).stdout,
    );
    assert.deepEqual(commits, []);
  });
}

for (
  const [how, args, env] of [
    ["--sandbox deno", ["--sandbox", "deno"], {}],
    ["TUSK_SANDBOX=deno", [], { TUSK_SANDBOX: "deno" }],
  ] as const
) {
  Deno.test(`create pipeline refuses a Python stage with ${how}: exit 2, nothing changed`, async () => {
    await using s = await tempStore();
    const store = s.store;
    await tuskOk(["create", "repo", "training"], { store });
    const before = await snapshotStore(store);
    const r = await tusk(
      [...args, "create", "pipeline", "-f", `${PY}/python_train.pipeline.json`],
      { store, env },
    );
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr, /"python3" \(transform\.cmd\[0\]\)/);
    assert.match(r.stderr, /only inside the OS sandbox \(bubblewrap\)/);
    assert.match(r.stderr, /--sandbox deno/);
    assert.equal(await snapshotStore(store), before);
  });
}
