/**
 * `tusk export pachyderm` through the real CLI: every exported spec validates against
 * Pachyderm's own JSON schema, carries the stage bundle tusk ran and the stock Deno image,
 * leaves tusk-only fields out, and the README creates repos and pipelines in order.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import ajvDraft04 from "ajv-draft-04";
// ajv-draft-04 loads its optional peer "ajv" at run time: naming it puts it in the graph.
import "ajv";
import { detectSandbox } from "../../lib/mod.ts";
import { ROOT, snapshotStore, tempDir, tempStore } from "../_helpers.ts";
import { assertFails, ok, tusk } from "./_cli.ts";

const SCHEMA = `${ROOT}/tests/fixtures/pachyderm/CreatePipelineRequest.schema.json`;
const IRIS = `${ROOT}/pipelines/iris`;
const IMAGE = `denoland/deno:${Deno.version.deno}`;
/** bwrap runs Deno here: the container check needs it. */
const BWRAP_WORKS = (await detectSandbox("auto")).mode === "bwrap";
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/i;

type Json = Record<string, unknown>;

/**
 * The schema as draft-04 reads it: keywords beside `$ref` are ignored there, while Ajv
 * applies them (and the generated schema's `additionalProperties: false` beside each
 * `$ref` would refuse every field), so they are dropped first.
 */
function refOnly(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(refOnly);
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Json;
  const keep = typeof obj.$ref === "string"
    ? Object.entries(obj).filter(([k]) => k === "$ref" || k === "$schema" || k === "definitions")
    : Object.entries(obj);
  return Object.fromEntries(keep.map(([k, v]) => [k, refOnly(v)]));
}

const validate = new ajvDraft04.default({
  allErrors: true,
  strict: false,
  formats: {
    regex: true,
    "date-time": (s: string) => RFC3339.test(s) && !Number.isNaN(Date.parse(s)),
  },
}).compile(refOnly(JSON.parse(await Deno.readTextFile(SCHEMA))) as Json);

function assertValid(spec: unknown, what: string): void {
  const valid = validate(spec);
  assert.ok(valid, `${what} does not validate:\n${JSON.stringify(validate.errors, null, 2)}`);
}

async function readJson(path: string): Promise<Json> {
  return JSON.parse(await Deno.readTextFile(path)) as Json;
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The repos the README's `pachctl create repo` lines create, and its commands in order. */
function readmeCommands(readme: string): { repos: string[]; commands: string[] } {
  const commands = readme.split("\n").filter((l) => l.startsWith("pachctl "));
  const repos = commands.filter((c) => c.startsWith("pachctl create repo "))
    .map((c) => c.slice("pachctl create repo ".length));
  return { repos, commands };
}

Deno.test("the schema check refuses what Pachyderm refuses", () => {
  assertValid(
    JSON.parse(
      Deno.readTextFileSync(`${ROOT}/tests/fixtures/pachyderm/python_train.pipeline.json`),
    ),
    "the tutorial's python_train.pipeline.json",
  );
  assert.equal(validate({ pipeline: { name: "m" }, datumBatching: true }), false);
  assert.equal(validate({ pipeline: { name: "m" }, datumTimeout: 600 }), false);
  assert.equal(validate({ pipeline: { name: "m" }, transform: { cmd: ["deno"], x: 1 } }), false);
});

Deno.test("export pachyderm writes the iris pipelines as specs Pachyderm's schema accepts", async (t) => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "repo", "attributes"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${IRIS}/train.json`], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${IRIS}/infer.json`], o);
  const r = await ok(["export", "pachyderm", "-o", "out"], o);
  const out = `${s.path}/out`;
  assert.match(r.stdout, /README\.md/);

  await t.step(
    "the optional parameters input becomes a required one, and the export says so",
    async () => {
      assert.match(r.stderr, /model: left out input\.cross\[1\]\.pfs\.optional: .*required/);
      assert.deepEqual((await readJson(`${out}/model.json`)).input, {
        cross: [
          { pfs: { repo: "training", glob: "/" } },
          { pfs: { repo: "parameters", glob: "/params.json" } },
          { pfs: { repo: "model_code", glob: "/" } },
        ],
      });
      assert.match(await Deno.readTextFile(`${out}/README.md`), /input\.cross\[1\]\.pfs\.optional/);
    },
  );

  await t.step("each spec validates, with the Deno image and the bundle's path", async () => {
    for (const name of ["model", "inference"]) {
      const spec = await readJson(`${out}/${name}.json`);
      assertValid(spec, `${name}.json`);
      const transform = spec.transform as Json;
      assert.equal(transform.image, IMAGE);
      const cmd = transform.cmd as string[];
      assert.deepEqual(cmd.slice(0, 2), ["deno", "run"]);
      assert.ok(cmd.includes(`/pfs/${name}_code/stage.js`), `cmd runs the bundle: ${cmd}`);
      assert.ok(cmd.includes("--allow-write=/pfs/out,/tmp"));
      assert.ok(!cmd.some((a) => /^--allow-(net|run|sys|ffi|all)|^-A$/.test(a)), `${cmd}`);
      assert.ok(!JSON.stringify(spec).includes("datumBatching"));
    }
    const infer = await readJson(`${out}/inference.json`);
    assert.deepEqual((infer.transform as Json).cmd, [
      "deno",
      "run",
      "--no-prompt",
      "--no-config",
      "--no-remote",
      "--no-npm",
      "--allow-read=/pfs/attributes,/pfs/model,/pfs/inference_code,/pfs/out,/tmp",
      "--allow-write=/pfs/out,/tmp",
      "/pfs/inference_code/stage.js",
      "/pfs/model/",
      "/pfs/attributes/",
      "/pfs/out/",
    ]);
    assert.deepEqual(infer.input, {
      cross: [
        { pfs: { repo: "attributes", glob: "/*" } },
        { pfs: { repo: "model", glob: "/" } },
        { pfs: { repo: "inference_code", glob: "/" } },
      ],
    });
    assert.deepEqual(infer.parallelismSpec, { constant: 1 });
  });

  await t.step("each bundle is the stage code tusk snapshotted", async () => {
    for (const name of ["model", "inference"]) {
      const view = JSON.parse((await ok(["inspect", "pipeline", name, "--json"], o)).stdout);
      const bundle = await Deno.readFile(`${out}/${name}/stage.js`);
      assert.equal(sha256(bundle), view.codeHash);
    }
  });

  await t.step(
    "no bundle names a path of this machine: checkout, store or Deno cache",
    async () => {
      const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
      const { npmCache } = JSON.parse(new TextDecoder().decode(info.stdout));
      const paths = [ROOT, s.path, npmCache, await Deno.realPath(npmCache), "file://", "/.cache/"];
      for (const name of ["model", "inference"]) {
        const bundle = await Deno.readTextFile(`${out}/${name}/stage.js`);
        for (const p of paths) assert.ok(!bundle.includes(p), `${name}/stage.js names "${p}"`);
      }
    },
  );

  await t.step("the README creates input and code repos, then pipelines in order", async () => {
    const { repos, commands } = readmeCommands(await Deno.readTextFile(`${out}/README.md`));
    assert.deepEqual(repos.sort(), [
      "attributes",
      "inference_code",
      "model_code",
      "parameters",
      "training",
    ]);
    const at = (c: string) => {
      const i = commands.indexOf(c);
      assert.ok(i >= 0, `README lacks "${c}":\n${commands.join("\n")}`);
      return i;
    };
    const model = at("pachctl create pipeline -f model.json");
    const inference = at("pachctl create pipeline -f inference.json");
    assert.ok(model < inference, "model before inference, whose input it is");
    assert.ok(at("pachctl put file model_code@master:/stage.js -f model/stage.js") < model);
    assert.ok(at("pachctl create repo training") < model);
    assert.ok(at("pachctl create repo attributes") < inference);
  });

  await t.step({
    name: "the exported commands run the stages in a Pachyderm-like filesystem",
    ignore: !BWRAP_WORKS,
    fn: async () => {
      await Deno.mkdir(`${s.path}/parameters`);
      await Deno.writeTextFile(`${s.path}/parameters/params.json`, `{"C": 0.5}\n`);
      const model = await runInContainer(await readJson(`${out}/model.json`), {
        "/pfs/training": `${ROOT}/data`,
        "/pfs/parameters": `${s.path}/parameters`,
        "/pfs/model_code": `${out}/model`,
      }, s.path);
      assert.match(await Deno.readTextFile(`${model}/model.txt`), /^SVC\(C=0\.5,/);
      const inference = await runInContainer(await readJson(`${out}/inference.json`), {
        "/pfs/attributes": `${ROOT}/data/test`,
        "/pfs/model": model,
        "/pfs/inference_code": `${out}/inference`,
      }, s.path);
      const predictions = (await Deno.readTextFile(`${inference}/1`)).trim().split("\n");
      assert.ok(predictions.length > 0);
      for (const p of predictions) assert.match(p, /^Iris-(setosa|versicolor|virginica)$/);
    },
  });
});

/**
 * Run a spec's `transform.cmd` in bubblewrap with only the system, the given read-only
 * `/pfs` folders, a fresh `/pfs/out` and `/tmp`: what a Pachyderm worker gives a
 * container. Returns the host folder of `/pfs/out`, made in `parent`.
 */
async function runInContainer(
  spec: Json,
  pfs: Record<string, string>,
  parent: string,
): Promise<string> {
  const outDir = await Deno.makeTempDir({ dir: parent, prefix: "out-" });
  const tmp = await Deno.makeTempDir({ dir: parent, prefix: "tmp-" });
  try {
    const cmd = (spec.transform as Json).cmd as string[];
    const system = ["/usr", "/bin", "/lib", "/lib64", "/etc"].filter((p) => {
      try {
        Deno.statSync(p);
        return true;
      } catch {
        return false;
      }
    });
    const deno = Deno.execPath();
    const args = [
      "--unshare-all",
      "--die-with-parent",
      ...system.flatMap((p) => ["--ro-bind", p, p]),
      "--ro-bind",
      deno,
      "/opt/deno/deno",
      "--proc",
      "/proc",
      "--dev",
      "/dev",
      ...Object.entries(pfs).flatMap(([inside, host]) => ["--ro-bind", host, inside]),
      "--bind",
      outDir,
      "/pfs/out",
      "--bind",
      tmp,
      "/tmp",
      "--setenv",
      "DENO_DIR",
      "/tmp/deno-dir",
      "--setenv",
      "PATH",
      "/opt/deno:/usr/bin:/bin",
      "--chdir",
      "/",
      "--",
      ...cmd,
    ];
    const r = await new Deno.Command("bwrap", { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    assert.equal(r.code, 0, `${cmd.join(" ")}:\n${dec.decode(r.stderr)}${dec.decode(r.stdout)}`);
    return outDir;
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

Deno.test("export pachyderm of a cron pipeline creates neither its cron repo nor output repos", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${IRIS}/train_cron.json`], o);
  await ok(["export", "pachyderm", "model", "-o", `${s.path}/out`], o);
  const spec = await readJson(`${s.path}/out/model.json`);
  assertValid(spec, "train_cron's model.json");
  assert.deepEqual((spec.input as { cross: unknown[] }).cross[1], {
    cron: { name: "tick", spec: "@every 60s", overwrite: true },
  });
  const { repos } = readmeCommands(await Deno.readTextFile(`${s.path}/out/README.md`));
  assert.deepEqual(repos, ["parameters", "training", "model_code"]);
});

Deno.test("export pachyderm leaves tusk-only fields out and keeps the rest in Pachyderm's forms", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.ts`, `${s.path}/upper.ts`);
  await Deno.writeTextFile(
    `${s.path}/upper.json`,
    JSON.stringify({
      pipeline: { name: "upper" },
      transform: {
        cmd: ["deno", "run", "upper.ts", "/pfs/data/", "/pfs/out/"],
        err_cmd: ["deno", "run", "upper.ts", "/pfs/data/", "/pfs/out/"],
        accept_return_code: ["3"],
        env: { GREETING: "hi" },
      },
      input: { pfs: { repo: "data", glob: "/*" } },
      datum_batching: true,
      datum_timeout: "10m",
      job_timeout: 90,
      datum_tries: "2",
      parallelism_spec: { constant: "3" },
      resource_limits: { memory: "64Mi" },
      salt: "pepper",
      reprocess_spec: "every_job",
    }),
  );
  await ok(["create", "pipeline", "--no-wait", "-f", "upper.json"], o);
  const r = await ok(["export", "pachyderm", "upper", "-o", "out"], o);
  assert.match(r.stderr, /left out transform\.datumBatching/);
  const spec = await readJson(`${s.path}/out/upper.json`);
  assertValid(spec, "upper.json");
  assert.ok(!JSON.stringify(spec).includes("datumBatching"), JSON.stringify(spec));
  assert.equal(spec.datumTimeout, "600s");
  assert.equal(spec.jobTimeout, "90s");
  assert.equal(spec.datumTries, 2);
  assert.deepEqual(spec.parallelismSpec, { constant: 3 });
  assert.deepEqual(spec.resourceLimits, { memory: "64Mi" });
  assert.equal(spec.salt, "pepper");
  assert.equal(spec.reprocessSpec, "every_job");
  const transform = spec.transform as Json;
  assert.deepEqual(transform.acceptReturnCode, [3]);
  assert.deepEqual(transform.env, { GREETING: "hi" });
  const flags = [
    "--allow-read=/pfs/data,/pfs/upper_code,/pfs/out,/tmp",
    "--allow-write=/pfs/out,/tmp",
    "--allow-env=GREETING",
    "--v8-flags=--max-old-space-size=48",
  ];
  for (const f of flags) assert.ok((transform.cmd as string[]).includes(f), f);
  assert.deepEqual((transform.errCmd as string[]).slice(-3), [
    "/pfs/upper_code/err_stage.js",
    "/pfs/data/",
    "/pfs/out/",
  ]);
  assert.ok((await Deno.stat(`${s.path}/out/upper/err_stage.js`)).isFile);
  const readme = await Deno.readTextFile(`${s.path}/out/README.md`);
  assert.match(readme, /transform\.datumBatching/);
  assert.match(
    readme,
    /^pachctl put file upper_code@master:\/err_stage\.js -f upper\/err_stage\.js$/m,
  );
});

Deno.test("export pachyderm of an unknown pipeline suggests a name and writes nothing", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok([
    "create",
    "pipeline",
    "--no-wait",
    "-f",
    `${ROOT}/tests/fixtures/stages/upper.json`,
  ], o);
  const before = await snapshotStore(s.store);
  const r = await tusk(["export", "pachyderm", "upper", "uper", "-o", "out"], o);
  assertFails(r, 1, /Cannot find pipeline "uper": did you mean "upper"\?/);
  await assert.rejects(Deno.stat(`${s.path}/out`), Deno.errors.NotFound);
  assert.equal(await snapshotStore(s.store), before);
});

Deno.test("export pachyderm on a store without pipelines says so", async () => {
  await using dir = await tempDir();
  await using s = await tempStore();
  const r = await tusk(["export", "pachyderm", "-o", `${dir.path}/out`], { store: s.store });
  assertFails(r, 1, /no pipelines/);
});

Deno.test("export pachyderm -o naming an existing file fails with exit 2 and leaves the file", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok(
    ["create", "pipeline", "--no-wait", "-f", `${ROOT}/tests/fixtures/stages/upper.json`],
    o,
  );
  await Deno.writeTextFile(`${s.path}/taken`, "mine\n");
  const r = await tusk(["export", "pachyderm", "-o", "taken"], o);
  assertFails(r, 2, /Cannot write into ".*\/taken": it is a file, not a folder/);
  assert.equal(await Deno.readTextFile(`${s.path}/taken`), "mine\n");
  const under = await tusk(["export", "pachyderm", "-o", "taken/out"], o);
  assertFails(under, 2, /Cannot write into ".*\/taken\/out": a part of its path is a file/);
});

Deno.test("export pachyderm -o into a folder holding files of the same names refuses, naming them, and changes nothing", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok(
    ["create", "pipeline", "--no-wait", "-f", `${ROOT}/tests/fixtures/stages/upper.json`],
    o,
  );
  const proj = `${s.path}/proj`;
  await Deno.mkdir(proj);
  await Deno.writeTextFile(`${proj}/README.md`, "# my notes\n");
  await Deno.writeTextFile(`${proj}/upper.json`, '{"mine":true}\n');
  const r = await tusk(["export", "pachyderm", "-o", "proj"], o);
  assertFails(r, 1, /README\.md/, /upper\.json/, /--force/);
  assert.equal(await Deno.readTextFile(`${proj}/README.md`), "# my notes\n");
  assert.equal(await Deno.readTextFile(`${proj}/upper.json`), '{"mine":true}\n');
  await assert.rejects(Deno.stat(`${proj}/upper`), Deno.errors.NotFound, "nothing written");
});

Deno.test("export pachyderm -o refuses a second export into the same folder unless --force", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok(
    ["create", "pipeline", "--no-wait", "-f", `${ROOT}/tests/fixtures/stages/upper.json`],
    o,
  );
  await Deno.mkdir(`${s.path}/empty`);
  await ok(["export", "pachyderm", "-o", "empty"], o);
  const again = await tusk(["export", "pachyderm", "-o", "empty"], o);
  assertFails(again, 1, /upper\/stage\.js/);
  await Deno.writeTextFile(`${s.path}/empty/upper.json`, "stale\n");
  await ok(["export", "pachyderm", "--force", "-o", "empty"], o);
  assertValid(await readJson(`${s.path}/empty/upper.json`), "the replaced upper.json");
});

Deno.test("export pachyderm --force still refuses to write through a folder or a symlink in a file's place", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "data"], o);
  await ok(
    ["create", "pipeline", "--no-wait", "-f", `${ROOT}/tests/fixtures/stages/upper.json`],
    o,
  );
  await Deno.mkdir(`${s.path}/out/README.md`, { recursive: true });
  await Deno.writeTextFile(`${s.path}/elsewhere.json`, "mine\n");
  await Deno.symlink(`${s.path}/elsewhere.json`, `${s.path}/out/upper.json`);
  const r = await tusk(["export", "pachyderm", "--force", "-o", "out"], o);
  assertFails(r, 1, /README\.md.*folder/, /upper\.json.*symbolic link/);
  assert.equal(await Deno.readTextFile(`${s.path}/elsewhere.json`), "mine\n");
});

const PY = `${ROOT}/pipelines/iris-python`;

Deno.test("export pachyderm keeps a Python pipeline's cmd and image and writes its code and a Dockerfile", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "repo", "attributes"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${PY}/python_train.pipeline.json`], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${PY}/python_infer.pipeline.json`], o);
  const r = await ok(["export", "pachyderm", "-o", "out", "--json"], o);
  const out = `${s.path}/out`;
  const result = JSON.parse(r.stdout) as { pipelines: Json[] };
  for (const [name, file] of [["model", "python_train"], ["inference", "python_infer"]]) {
    const spec = await readJson(`${out}/${name}.json`);
    assertValid(spec, `${name}.json`);
    const original = await readJson(`${PY}/${file}.pipeline.json`);
    assert.deepEqual((spec.transform as Json).cmd, (original.transform as Json).cmd);
    assert.equal((spec.transform as Json).image, (original.transform as Json).image);
    assert.deepEqual(spec.input, original.input);
    for (const f of ["pytrain.py", "pyinfer.py"]) {
      assert.deepEqual(
        await Deno.readFile(`${out}/${name}/code/${f}`),
        await Deno.readFile(`${PY}/${f}`),
      );
    }
    const dockerfile = await Deno.readTextFile(`${out}/${name}/Dockerfile`);
    assert.match(dockerfile, /^FROM \S+$/m);
    assert.match(dockerfile, /^COPY code\/ \/code\/$/m);
    assert.match(dockerfile, /apt-get install .*python3/);
    assert.ok(dockerfile.includes(`docker build -t ${(original.transform as Json).image}`));
    const exported = result.pipelines.find((p) => p.name === name)!;
    assert.equal(exported.image, (original.transform as Json).image);
    assert.equal(exported.dockerfile, `${out}/${name}/Dockerfile`);
    assert.equal(exported.codeRepo, undefined);
  }
  const readme = await Deno.readTextFile(`${out}/README.md`);
  assert.match(readme, /Build that image yourself/);
  assert.match(readme, /^docker build -t pachyderm\/iris-train:python-svm model /m);
  assert.ok(!readme.includes("_code"), readme);
});

Deno.test("export pachyderm names the image of a host-program pipeline whose spec names none", async () => {
  await using s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await Deno.mkdir(`${s.path}/code`);
  await Deno.writeTextFile(`${s.path}/code/run.sh`, "cp -r /pfs/data/. /pfs/out/\n");
  await Deno.writeTextFile(
    `${s.path}/code/spec.json`,
    JSON.stringify({
      pipeline: { name: "Copy" },
      transform: { cmd: ["sh", "/code/run.sh"], workingDir: "/tmp" },
      input: { pfs: { repo: "data", glob: "/" } },
    }),
  );
  await ok(["create", "repo", "data"], o);
  await ok(["create", "pipeline", "--no-wait", "-f", `${s.path}/code/spec.json`], o);
  const code = JSON.parse((await ok(["inspect", "pipeline", "Copy", "--json"], o)).stdout).codeHash;
  await ok(["export", "pachyderm", "-o", "out"], o);
  const spec = await readJson(`${s.path}/out/Copy.json`);
  assertValid(spec, "Copy.json");
  assert.deepEqual(spec.transform, {
    cmd: ["sh", "/code/run.sh"],
    workingDir: "/tmp",
    image: `tusk/copy:${code.slice(0, 12)}`,
  });
  const dockerfile = await Deno.readTextFile(`${s.path}/out/Copy/Dockerfile`);
  assert.ok(!dockerfile.includes("apt-get"), "sh is in every base image");
  assert.match(dockerfile, /^WORKDIR \/tmp$/m);
});
