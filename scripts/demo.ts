/**
 * `deno task demo`: Pachyderm's iris tutorial, command for command, in a fresh temporary
 * store built from `data/`. Each step prints the command as the tutorial shows it and the
 * real output of the `tusk` CLI. `--keep DIR` keeps the store in DIR. `--python` runs the
 * tutorial's own Python pipeline (`pipelines/iris-python/`: Pachyderm's two specs,
 * unchanged, and `pytrain.py` and `pyinfer.py` run by the host's python3 with scikit-learn
 * and pandas, inside the sandbox) in place of the Deno stages.
 */
const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-run"];
const color = Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR");
const bold = (s: string) => (color ? `\x1b[1m${s}\x1b[0m` : s);
const dim = (s: string) => (color ? `\x1b[2m${s}\x1b[0m` : s);

function usage(): never {
  console.error("usage: deno task demo [--python] [--keep DIR]");
  Deno.exit(2);
}

const args = [...Deno.args];
let keep: string | undefined;
let python = false;
while (args.length) {
  const a = args.shift()!;
  if (a === "--python") python = true;
  else if (a === "--keep") keep = args.shift() ?? usage();
  else if (a.startsWith("--keep=")) keep = a.slice(7);
  else usage();
}

const initCwd = Deno.env.get("INIT_CWD") || Deno.cwd();
let base: string;
if (keep) {
  base = keep.startsWith("/") ? keep : `${initCwd}/${keep}`;
  await Deno.mkdir(base, { recursive: true });
} else {
  base = await Deno.makeTempDir({ prefix: "tusk-demo-" });
}
const store = `${base}/.tusk`;

/** Run one tutorial step: print it, run the real CLI, print its output; stop on failure. */
async function step(shown: string, args: string[], cwd = `${ROOT}/data`): Promise<string> {
  console.log(bold(`$ ${shown}`));
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...PERMS, `${ROOT}/main.ts`, ...args],
    cwd,
    env: { TUSK_STORE: store, INIT_CWD: cwd },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(r.stdout);
  Deno.stdout.writeSync(r.stdout);
  Deno.stderr.writeSync(r.stderr);
  if (r.code !== 0) {
    console.error(`demo: step failed with exit code ${r.code}`);
    Deno.exit(1);
  }
  console.log();
  return text;
}

/** Commit data/params/<file> as the parameters repo's params.json. */
async function putParams(file: string): Promise<void> {
  await step(`tusk put file parameters@master:/params.json -f params/${file}`, [
    "put",
    "file",
    "parameters@master:/params.json",
    "-f",
    `params/${file}`,
  ]);
}

function say(text: string): void {
  console.log(dim(`# ${text}`));
}

try {
  const started = performance.now();
  const iris = `${ROOT}/pipelines/${python ? "iris-python" : "iris"}`;
  const train = python ? "python_train.pipeline.json" : "train.json";
  const infer = python ? "python_infer.pipeline.json" : "infer.json";
  const data = `${ROOT}/data`;
  const testDir = `${data}/test`;
  say(`a fresh store in ${store}`);
  await step("tusk init", ["init"]);
  say("Versioned data: one repo for the training set, one for the attributes to classify");
  await step("tusk create-repo training", ["create-repo", "training"]);
  await step("tusk create-repo attributes", ["create-repo", "attributes"]);
  say("From data/: commit the training set");
  await step("tusk put-file training master -c -f iris.csv", [
    "put-file",
    "training",
    "master",
    "-c",
    "-f",
    "iris.csv",
  ], data);
  await step("tusk list-repo", ["list-repo"]);
  await step("tusk list-file training master", ["list-file", "training", "master"]);
  if (python) {
    say(
      "The training pipeline: Pachyderm's own python_train.pipeline.json, unchanged — " +
        "python3 /code/pytrain.py (scikit-learn's SVC), run by the host's python3 in the sandbox",
    );
  } else {
    say("The training pipeline: an SVM (linear kernel, C = 1) trained in a sandboxed Deno stage");
  }
  await step(`tusk create-pipeline -f ${train}`, ["create-pipeline", "-f", train], iris);
  await step("tusk list-job", ["list-job"]);
  await step("tusk list-file model master", ["list-file", "model", "master"]);
  await step("tusk get-file model master model.txt", ["get-file", "model", "master", "model.txt"]);
  if (python) {
    say("The image is recorded, never pulled; the program that ran is found on this host");
    await step("tusk inspect pipeline model", ["inspect", "pipeline", "model"]);
  }
  say("The inference pipeline: the cross of every attributes file with the model");
  await step(`tusk create-pipeline -f ${infer}`, ["create-pipeline", "-f", infer], iris);
  say("From data/test/: commit the attributes files; inference runs by itself");
  await step("tusk put-file attributes master -c -r -f .", [
    "put-file",
    "attributes",
    "master",
    "-c",
    "-r",
    "-f",
    ".",
  ], testDir);
  await step("tusk list-job", ["list-job"]);
  await step("tusk list-file inference master", ["list-file", "inference", "master"]);
  await step("tusk get-file inference master 1", ["get-file", "inference", "master", "1"]);
  await step("tusk get-file inference master 2", ["get-file", "inference", "master", "2"]);
  say("The record: which model, from which data, with which code, made which prediction");
  await step("tusk inspect commit inference@master", ["inspect", "commit", "inference@master"]);
  await step("tusk lineage inference@master:/2", ["lineage", "inference@master:/2"]);
  say(
    "Bad data gets in: data/corrupted/iris.csv (setosa and virginica swapped) retrains the model",
  );
  await step("tusk put file training@master:/iris.csv -f corrupted/iris.csv", [
    "put",
    "file",
    "training@master:/iris.csv",
    "-f",
    "corrupted/iris.csv",
  ], data);
  await step("tusk get-file inference master 2", ["get-file", "inference", "master", "2"]);
  say("One command reverts to the good training data, the parent of the bad commit");
  await step("tusk revert training@master --to master^", [
    "revert",
    "training@master",
    "--to",
    "master^",
  ]);
  await step("tusk get-file inference master 2", ["get-file", "inference", "master", "2"]);
  await step("tusk list-job", ["list-job"]);
  await step("tusk list commit training", ["list", "commit", "training"]);
  // The parameters and metrics story is the Deno pipeline's: Pachyderm's Python specs read
  // no parameters repo and pytrain.py writes no metrics.
  if (!python) {
    say(
      "Parameters: train.json also reads params.json from an optional parameters repo; " +
        "without one, as so far, it takes scikit-learn's defaults (C = 1)",
    );
    say("From data/: four flowers near the versicolor/virginica boundary, where models disagree");
    await step("tusk put file attributes@master:/3.csv -f borderline/3.csv", [
      "put",
      "file",
      "attributes@master:/3.csv",
      "-f",
      "borderline/3.csv",
    ], data);
    await step("tusk get file inference@master:/3", ["get", "file", "inference@master:/3"]);
    await step("tusk create repo parameters", ["create", "repo", "parameters"]);
    say("C = 1, the default: training runs once more and makes the same model.json");
    await putParams("svm-C1.json");
    say("C = 0.01: the model retrains by itself, and inference after it");
    await putParams("svm-C0.01.json");
    await step("tusk get file model@master:/model.txt", ["get", "file", "model@master:/model.txt"]);
    await step("tusk metrics diff model@master", ["metrics", "diff", "model@master"]);
    await step("tusk get file inference@master:/3", ["get", "file", "inference@master:/3"]);
    say("Not performing: one revert of the parameters brings the earlier model back");
    await step("tusk revert parameters@master --to master^", [
      "revert",
      "parameters@master",
      "--to",
      "master^",
    ]);
    await step("tusk list job -p model -n 2", ["list", "job", "-p", "model", "-n", "2"]);
    await step("tusk get file inference@master:/3", ["get", "file", "inference@master:/3"]);
    say("The model kind is a parameter too: LDA, then back to the SVM");
    await putParams("lda.json");
    await step("tusk metrics diff model@master", ["metrics", "diff", "model@master"]);
    await step("tusk get file inference@master:/3", ["get", "file", "inference@master:/3"]);
    await step("tusk revert parameters@master --to master^", [
      "revert",
      "parameters@master",
      "--to",
      "master^",
    ]);
    await step("tusk list job -p model -n 1", ["list", "job", "-p", "model", "-n", "1"]);
    say("Every model commit holds its metrics: the branch's history is the experiment table");
    await step("tusk metrics show model@master", ["metrics", "show", "model@master"]);
    await step("tusk plots model@master -o model.svg", [
      "plots",
      "model@master",
      "-o",
      `${base}/model.svg`,
    ]);
  }
  await step("tusk verify", ["verify"]);
  say(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  if (keep) {
    say(`the store is kept in ${store}: watch it live with TUSK_STORE=${store} deno task up`);
  } else {
    say(
      `next: deno task demo${
        python ? " --python" : ""
      } --keep DIR, then TUSK_STORE=DIR/.tusk deno task up`,
    );
  }
} finally {
  if (!keep) await Deno.remove(base, { recursive: true }).catch(() => {});
}
