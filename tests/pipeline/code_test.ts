/**
 * Stage code snapshots are canonical and confined: the same stage code gives the same bundle
 * and code hash wherever the checkout, the Deno cache and tusk itself are, and a stage that
 * reaches outside its folder through a symbolic link is refused.
 */
import assert from "node:assert/strict";
import {
  canonicalBundle,
  firstOutside,
  parseJsonc,
  snapshotStage,
} from "../../lib/pipeline/code.ts";
import { SpecError, type SpecRule } from "../../lib/pipeline/spec/spec_error.ts";
import { ROOT, snapshotStore, tempDir, tempStore, TUSK_PERMS } from "../_helpers.ts";
import { assertFails, ok, tusk } from "../e2e/_cli.ts";

const IRIS = `${ROOT}/pipelines/iris`;
const STAGES = `${ROOT}/tests/fixtures/stages`;
const DATA = `${ROOT}/data`;
const DENO_BIN_DIR = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));

/** The npm cache of the Deno that runs the tests, as a real path. */
async function npmCache(): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "null",
  }).output();
  const info = JSON.parse(new TextDecoder().decode(r.stdout)) as { npmCache: string };
  return await Deno.realPath(info.npmCache);
}

/** Assert `bundle` names no path of this machine: no checkout, cache or temp folder. */
function assertNoMachinePaths(bundle: Uint8Array, paths: readonly string[]): void {
  const text = new TextDecoder().decode(bundle);
  for (const p of paths) assert.ok(!text.includes(p), `the bundle names "${p}"`);
  for (const bad of ["file://", "/.cache/", "../"]) {
    const at = text.indexOf(bad);
    assert.equal(at, -1, `the bundle holds "${bad}": …${text.slice(at - 60, at + 60)}…`);
  }
  assert.doesNotMatch(text, /sourceMappingURL/);
}

Deno.test("snapshotStage() gives byte-identical bundles of one stage twice, naming no path of this machine", async () => {
  const first = await snapshotStage(`${IRIS}/train_svm.ts`);
  const second = await snapshotStage(`${IRIS}/train_svm.ts`);
  assert.deepEqual(second.bundle, first.bundle);
  assertNoMachinePaths(first.bundle, [ROOT, await npmCache(), Deno.env.get("HOME") ?? ROOT]);
  const text = new TextDecoder().decode(first.bundle);
  assert.match(text, /^\/\/ npm:\/ml-matrix@6\.15\.1\//m, "npm modules are named by package");
  assert.match(text, /^\/\/ iris\.ts$/m, "local modules are named relative to the stage");
  assert.deepEqual(first.modules, [
    "iris.ts",
    "lda.ts",
    "metrics.ts",
    "params.ts",
    "smo.ts",
    "svm.ts",
    "train.ts",
    "train_svm.ts",
  ]);
});

Deno.test("canonicalBundle() names modules of the npm cache by package, version and file, and nothing else", () => {
  const cache = "../../../home/u/.cache/deno/npm";
  const bundle = [
    `// ${cache}/registry.npmjs.org/@scope/pkg/1.2.0_1/dist/index.js`,
    "var require_index = __commonJS({",
    `  "${cache}/npm.mirror.test/plain/0.3.1/lib/main.cjs"() {`,
    `    var s = "x/${cache}/registry.npmjs.org/p/1.0.0/a.js";`,
    "  }",
    "});",
    "// lib/helper.ts",
    "",
  ].join("\n");
  assert.equal(
    canonicalBundle(bundle, cache),
    [
      "// npm:/@scope/pkg@1.2.0_1/dist/index.js",
      "var require_index = __commonJS({",
      '  "npm:/plain@0.3.1/lib/main.cjs"() {',
      `    var s = "x/${cache}/registry.npmjs.org/p/1.0.0/a.js";`,
      "  }",
      "});",
      "// lib/helper.ts",
      "",
    ].join("\n"),
  );
});

/** Copy the files of the iris tutorial a pipeline needs into `dir`, as a clone holds them. */
async function cloneIris(dir: string): Promise<string> {
  await Deno.mkdir(`${dir}/pipelines/iris`, { recursive: true });
  for (const f of ["deno.json", "deno.lock"]) await Deno.copyFile(`${ROOT}/${f}`, `${dir}/${f}`);
  for await (const f of Deno.readDir(IRIS)) {
    if (f.isFile) await Deno.copyFile(`${IRIS}/${f.name}`, `${dir}/pipelines/iris/${f.name}`);
  }
  return `${dir}/pipelines/iris`;
}

/**
 * A Deno cache of its own at `dir`: the tests' npm packages and Deno's bundler (`dl/`, where
 * Deno keeps the esbuild it fetched), copied from the tests' cache.
 */
async function denoDir(dir: string, npm: string): Promise<string> {
  await Deno.mkdir(dir, { recursive: true });
  const dl = `${npm.slice(0, npm.lastIndexOf("/"))}/dl`;
  for (const [from, to] of [[npm, `${dir}/npm`], [dl, `${dir}/dl`]]) {
    const r = await new Deno.Command("cp", { args: ["-R", from!, to!], stderr: "piped" }).output();
    assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
  }
  return dir;
}

interface Job {
  readonly pipeline: string;
  readonly state: string;
  readonly progress: { total: number; processed: number; skipped: number };
}

Deno.test("two clones at different depths, two Deno caches and an installed tusk give one code hash and reuse every datum", async () => {
  await using t = await tempDir();
  const npm = await npmCache();
  const cacheB = await denoDir(`${t.path}/x/y/z/cache-b`, npm);
  const irisA = await cloneIris(`${t.path}/a`);
  const irisB = await cloneIris(`${t.path}/b/c/d/e/f`);
  const store = `${t.path}/store/.tusk`;

  // Clone A: the checkout's tusk, run from the project root, with the tests' Deno cache.
  const a = { store };
  await ok(["init"], a);
  await ok(["create", "repo", "training"], a);
  await ok(["create", "repo", "attributes"], a);
  await ok(["put", "file", "training@master:/iris.csv", "-f", `${DATA}/iris.csv`], a);
  for (const n of ["1", "2"]) {
    await ok(["put", "file", `attributes@master:/${n}.csv`, "-f", `${DATA}/test/${n}.csv`], a);
  }
  await ok(["create", "pipeline", "-f", `${irisA}/train.json`], a);
  await ok(["create", "pipeline", "-f", `${irisA}/infer.json`], a);
  const hashes = async (o: { store: string }) => {
    const out: Record<string, string> = {};
    for (const p of ["model", "inference"]) {
      out[p] = JSON.parse((await ok(["inspect", "pipeline", p, "--json"], o)).stdout).codeHash;
    }
    return out;
  };
  const before = await hashes(a);
  await ok(["export", "pachyderm", "-o", `${t.path}/export-a`], a);

  // Clone B: tusk installed as `deno task install` does, run from clone B, with cache B.
  const root = `${t.path}/install-root`;
  const install = await new Deno.Command(Deno.execPath(), {
    args: ["install", "-g", "--root", root, "-f", "-n", "tusk", ...TUSK_PERMS, "--config"]
      .concat([`${ROOT}/deno.json`, `${ROOT}/main.ts`]),
    cwd: ROOT,
    env: { DENO_DIR: cacheB, DENO_INSTALL_ROOT: root },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(install.code, 0, new TextDecoder().decode(install.stderr));
  const installed = async (...args: string[]) => {
    const r = await new Deno.Command(`${root}/bin/tusk`, {
      args,
      cwd: irisB,
      env: {
        PATH: `${DENO_BIN_DIR}:/usr/bin:/bin`,
        DENO_DIR: cacheB,
        TUSK_STORE: store,
        INIT_CWD: "",
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const dec = new TextDecoder();
    assert.equal(r.code, 0, `tusk ${args.join(" ")}:\n${dec.decode(r.stderr)}`);
    return dec.decode(r.stdout);
  };
  await installed("update", "pipeline", "-f", "train.json");
  await installed("update", "pipeline", "-f", "infer.json");
  assert.deepEqual(await hashes(a), before, "one code hash from both clones");
  const jobs = JSON.parse(await installed("list", "job", "--json")) as Job[];
  const latest = (p: string) => jobs.find((j) => j.pipeline === p)!;
  for (const [p, n] of [["model", 1], ["inference", 2]] as const) {
    const j = latest(p);
    assert.equal(j.state, "SUCCESS", p);
    assert.deepEqual([j.progress.processed, j.progress.skipped, j.progress.total], [0, n, n], p);
  }
  await installed("export", "pachyderm", "-o", `${t.path}/export-b`);
  for (const p of ["model", "inference"]) {
    const bundleA = await Deno.readFile(`${t.path}/export-a/${p}/stage.js`);
    const bundleB = await Deno.readFile(`${t.path}/export-b/${p}/stage.js`);
    assert.deepEqual(bundleB, bundleA, `${p}: byte-identical bundles`);
    assertNoMachinePaths(bundleA, [t.path, ROOT, npm]);
  }
});

/** A store, a spec folder `spec/` beside a folder `secret/` holding a secret file. */
async function confinement(): Promise<{
  s: AsyncDisposable & { path: string; store: string };
  spec: string;
  secret: string;
}> {
  const s = await tempStore();
  await ok(["create", "repo", "data"], { store: s.store });
  const spec = `${s.path}/spec`;
  const secret = `${s.path}/secret`;
  await Deno.mkdir(spec);
  await Deno.mkdir(secret);
  await Deno.writeTextFile(`${secret}/x.js`, 'console.log("the secret of the secret folder");\n');
  await Deno.writeTextFile(`${secret}/lib.ts`, 'export const secret = "s3cr3t";\n');
  return { s, spec, secret };
}

/** Write a spec running `stage` (and `errStage` as errCmd) on repo data into `dir`. */
async function specFile(dir: string, stage: string, errStage?: string): Promise<string> {
  const file = `${dir}/p.json`;
  const args = ["/pfs/data/", "/pfs/out/"];
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name: "p" },
      transform: {
        cmd: ["deno", "run", stage, ...args],
        ...(errStage ? { errCmd: ["deno", "run", errStage, ...args] } : {}),
      },
      input: { pfs: { repo: "data", glob: "/*" } },
    }),
  );
  return file;
}

const escapes: {
  readonly name: string;
  readonly stage: string;
  readonly setup: (spec: string, secret: string) => Promise<void>;
}[] = [
  {
    name: "a stage script that is a link to a file outside the spec's folder",
    stage: "stage.js",
    setup: (spec, secret) => Deno.symlink(`${secret}/x.js`, `${spec}/stage.js`),
  },
  {
    name: "a stage script reached through a linked folder outside the spec's folder",
    stage: "code/x.js",
    setup: (spec, secret) => Deno.symlink(secret, `${spec}/code`),
  },
  {
    name: "a stage importing a local module that is a link outside its folder",
    stage: "stage.ts",
    setup: async (spec, secret) => {
      await Deno.writeTextFile(
        `${spec}/stage.ts`,
        'import { secret } from "./lib.ts";\nconsole.log(secret);\n',
      );
      await Deno.symlink(`${secret}/lib.ts`, `${spec}/lib.ts`);
    },
  },
  {
    name: "a stage importing through a linked folder outside its folder",
    stage: "stage.ts",
    setup: async (spec, secret) => {
      await Deno.writeTextFile(
        `${spec}/stage.ts`,
        'import { secret } from "./vendor/lib.ts";\nconsole.log(secret);\n',
      );
      await Deno.symlink(secret, `${spec}/vendor`);
    },
  },
];

for (const c of escapes) {
  Deno.test(`create pipeline refuses ${c.name}, exit 2, and changes nothing`, async () => {
    const { s, spec, secret } = await confinement();
    await using _s = s;
    await c.setup(spec, secret);
    const before = await snapshotStore(s.store);
    const r = await tusk(["create", "pipeline", "-f", await specFile(spec, c.stage)], {
      store: s.store,
    });
    assertFails(r, 2, /transform\.cmd\[2\]/, /outside/);
    assert.equal(await snapshotStore(s.store), before);
  });
}

Deno.test("create pipeline refuses an errCmd script that is a link outside the spec's folder", async () => {
  const { s, spec, secret } = await confinement();
  await using _s = s;
  await Deno.copyFile(`${STAGES}/upper.ts`, `${spec}/upper.ts`);
  await Deno.symlink(`${secret}/x.js`, `${spec}/recover.js`);
  const before = await snapshotStore(s.store);
  const r = await tusk(
    ["create", "pipeline", "-f", await specFile(spec, "upper.ts", "recover.js")],
    {
      store: s.store,
    },
  );
  assertFails(r, 2, /transform\.errCmd\[2\]/, /outside/);
  assert.equal(await snapshotStore(s.store), before);
});

Deno.test("create pipeline takes a spec folder reached through a link, and links that stay inside it", async () => {
  const { s, spec } = await confinement();
  await using _s = s;
  await Deno.mkdir(`${spec}/impl`);
  await Deno.copyFile(`${STAGES}/upper.ts`, `${spec}/impl/upper.ts`);
  await Deno.symlink("impl/upper.ts", `${spec}/stage.ts`);
  await Deno.symlink(spec, `${s.path}/linked-spec`);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { store: s.store, stdin: "quiet\n" });
  await ok(["create", "pipeline", "-f", await specFile(`${s.path}/linked-spec`, "stage.ts")], {
    store: s.store,
  });
  const got = await ok(["get", "file", "p@master:/a.txt"], { store: s.store });
  assert.equal(got.stdout, "QUIET\n");
  const view = JSON.parse(
    (await ok(["inspect", "pipeline", "p", "--json"], { store: s.store })).stdout,
  );
  assert.deepEqual(view.modules, ["impl/upper.ts"]);
});

/** Assert that `snapshotStage()` of `stage` rejects with a SpecError for `rule`, at its field. */
async function assertStageRefused(stage: string, rule: SpecRule): Promise<void> {
  await assert.rejects(snapshotStage(stage), (err: unknown) => {
    assert.ok(err instanceof SpecError, String(err));
    assert.equal(err.rule, rule, err.message);
    assert.equal(err.data.path, "transform.cmd[2]");
    assert.ok(err.message.includes("transform.cmd[2]"), err.message);
    return true;
  });
}

Deno.test("snapshotStage() refuses a stage script that does not exist (MISSING_STAGE)", async () => {
  await using t = await tempDir();
  await assertStageRefused(`${t.path}/missing.ts`, "MISSING_STAGE");
});

Deno.test("snapshotStage() refuses a stage importing a file outside its folder (STAGE_OUTSIDE)", async () => {
  await using t = await tempDir();
  await Deno.mkdir(`${t.path}/stage`);
  await Deno.writeTextFile(`${t.path}/secret.ts`, 'export const secret = "s";\n');
  await Deno.writeTextFile(`${t.path}/stage/evil.ts`, 'import { secret } from "../secret.ts";\n');
  await assertStageRefused(`${t.path}/stage/evil.ts`, "STAGE_OUTSIDE");
});

Deno.test("snapshotStage() refuses a stage importing a remote URL (BAD_IMPORT)", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(`${t.path}/remote.ts`, 'import "https://example.invalid/x.ts";\n');
  await assertStageRefused(`${t.path}/remote.ts`, "BAD_IMPORT");
});

Deno.test("snapshotStage() refuses a stage with a syntax error (BAD_STAGE)", async () => {
  await using t = await tempDir();
  await Deno.writeTextFile(`${t.path}/broken.ts`, "const x = ;\n");
  await assertStageRefused(`${t.path}/broken.ts`, "BAD_STAGE");
});

Deno.test("create pipeline names the target of a linked import outside the stage's folder", async () => {
  const { s, spec, secret } = await confinement();
  await using _s = s;
  await Deno.writeTextFile(
    `${spec}/stage.ts`,
    'import { secret } from "./m.ts";\nconsole.log(secret);\n',
  );
  await Deno.symlink(`${secret}/lib.ts`, `${spec}/m.ts`);
  const r = await tusk(["create", "pipeline", "-f", await specFile(spec, "stage.ts")], {
    store: s.store,
  });
  const real = await Deno.realPath(`${secret}/lib.ts`);
  assertFails(r, 2, /m\.ts", a link to "/, new RegExp(`"${real}", which is outside`));
});

// ---- the stage's Deno configuration: tusk's own, offline, and nothing written ----

/** The names in `dir`, sorted, with the folders' contents (`a/b`). */
async function listing(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, prefix: string) => {
    for await (const e of Deno.readDir(d)) {
      out.push(prefix + e.name);
      if (e.isDirectory) await walk(`${d}/${e.name}`, `${prefix}${e.name}/`);
    }
  };
  await walk(dir, "");
  return out.sort();
}

/** `secret/evilpkg`: an npm-shaped package outside every stage folder. */
async function evilPackage(root: string): Promise<string> {
  const pkg = `${root}/secret/evilpkg`;
  await Deno.mkdir(pkg, { recursive: true });
  await Deno.writeTextFile(
    `${pkg}/package.json`,
    '{"name":"evilpkg","version":"1.0.0","main":"index.js","type":"module"}\n',
  );
  await Deno.writeTextFile(`${pkg}/index.js`, 'export const s = "TOPSECRET-LINKED-PKG";\n');
  return pkg;
}

const EVIL_STAGE = 'import { s } from "evilpkg";\nconsole.log(s);\n';

Deno.test("create pipeline refuses a deno.json whose links bring a package from outside the spec's folder, and writes nothing there", async () => {
  const s = await tempStore();
  await using _s = s;
  await ok(["create", "repo", "data"], { store: s.store });
  await evilPackage(s.path);
  const spec = `${s.path}/links`;
  await Deno.mkdir(spec);
  await Deno.writeTextFile(
    `${spec}/deno.json`,
    '{"nodeModulesDir":"auto","links":["../secret/evilpkg"],"imports":{"evilpkg":"npm:evilpkg@1.0.0"}}\n',
  );
  await Deno.writeTextFile(`${spec}/stage.js`, EVIL_STAGE);
  const file = await specFile(spec, "stage.js");
  const before = { store: await snapshotStore(s.store), folder: await listing(spec) };
  const r = await tusk(["create", "pipeline", "-f", file], { store: s.store });
  assertFails(r, 2, /deno\.json" sets "links"/, /transform\.cmd\[2\]/);
  assert.equal(await snapshotStore(s.store), before.store);
  assert.deepEqual(await listing(spec), before.folder, "no deno.lock or node_modules written");
});

Deno.test('snapshotStage() refuses a deno.json with "patch", which also links local packages (STAGE_CONFIG)', async () => {
  await using t = await tempDir();
  await evilPackage(t.path);
  await Deno.mkdir(`${t.path}/p`);
  await Deno.writeTextFile(`${t.path}/p/deno.json`, '{"patch":["../secret/evilpkg"]}\n');
  await Deno.writeTextFile(`${t.path}/p/stage.js`, EVIL_STAGE);
  await assertStageRefused(`${t.path}/p/stage.js`, "STAGE_CONFIG");
});

for (
  const [what, files] of [
    [
      "a package.json file: dependency installed by nodeModulesDir",
      {
        "deno.json": '{"nodeModulesDir":"auto"}\n',
        "package.json": '{"type":"module","dependencies":{"evilpkg":"file:../secret/evilpkg"}}\n',
      },
    ],
    [
      "a node_modules link to a package outside",
      { "deno.json": '{"nodeModulesDir":"manual"}\n', "package.json": '{"type":"module"}\n' },
    ],
  ] as const
) {
  Deno.test(`snapshotStage() resolves nothing through ${what}, and writes nothing into the folder`, async () => {
    await using t = await tempDir();
    const pkg = await evilPackage(t.path);
    const dir = `${t.path}/p`;
    await Deno.mkdir(`${dir}/node_modules`, { recursive: true });
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    if (what.includes("node_modules")) await Deno.symlink(pkg, `${dir}/node_modules/evilpkg`);
    await Deno.writeTextFile(`${dir}/stage.js`, EVIL_STAGE);
    const before = await listing(dir);
    await assertStageRefused(`${dir}/stage.js`, "BAD_STAGE");
    assert.deepEqual(await listing(dir), before);
  });
}

Deno.test("snapshotStage() takes the nearest deno.json's imports and lock, and writes no lock or node_modules into the folder", async () => {
  await using t = await tempDir();
  const dir = `${t.path}/p`;
  await Deno.mkdir(dir);
  await Deno.writeTextFile(
    `${dir}/deno.json`,
    '{"nodeModulesDir":"auto","imports":{"ml-matrix":"npm:ml-matrix@6.15.1"}}\n',
  );
  await Deno.writeTextFile(`${dir}/package.json`, '{"dependencies":{"ml-matrix":"6.15.1"}}\n');
  await Deno.copyFile(`${ROOT}/deno.lock`, `${dir}/deno.lock`);
  await Deno.writeTextFile(
    `${dir}/stage.ts`,
    'import { Matrix } from "ml-matrix";\nconsole.log(new Matrix(1, 1).rows);\n',
  );
  const before = await listing(dir);
  const snap = await snapshotStage(`${dir}/stage.ts`);
  assert.ok(snap.packages.includes("ml-matrix@6.15.1"), snap.packages.join(", "));
  assert.deepEqual(snap.modules, ["stage.ts"]);
  assert.deepEqual(await listing(dir), before, "no deno.lock or node_modules written");
  assert.deepEqual(
    await Deno.readFile(`${dir}/deno.lock`),
    await Deno.readFile(`${ROOT}/deno.lock`),
    "the lock is left as it was",
  );
});

Deno.test("snapshotStage() reads a deno.jsonc with comments and relative import map entries, and an importMap file", async () => {
  await using t = await tempDir();
  const dir = `${t.path}/p`;
  await Deno.mkdir(`${dir}/lib`, { recursive: true });
  await Deno.mkdir(`${dir}/maps`);
  await Deno.writeTextFile(`${dir}/lib/x.ts`, 'export const x = "x";\n');
  await Deno.writeTextFile(
    `${dir}/deno.jsonc`,
    '{\n  // where "#lib/" points\n  "imports": { "#lib/": "./lib/", },\n  /* done */\n}\n',
  );
  await Deno.writeTextFile(`${dir}/stage.ts`, 'import { x } from "#lib/x.ts";\nconsole.log(x);\n');
  assert.deepEqual((await snapshotStage(`${dir}/stage.ts`)).modules, ["lib/x.ts", "stage.ts"]);
  await Deno.remove(`${dir}/deno.jsonc`);
  await Deno.writeTextFile(`${dir}/deno.json`, '{"importMap":"./maps/map.json"}\n');
  await Deno.writeTextFile(`${dir}/maps/map.json`, '{"imports":{"#lib/":"../lib/"}}\n');
  assert.deepEqual((await snapshotStage(`${dir}/stage.ts`)).modules, ["lib/x.ts", "stage.ts"]);
});

/**
 * A Deno cache of its own at `dir` for a tusk subprocess: the tests' npm packages (tusk's
 * own among them, so that tusk starts without fetching any) and, unless `bundler` is false,
 * Deno's bundler; without the npm package `absent`, if the tests' cache has it.
 */
async function privateDenoDir(
  dir: string,
  options: { bundler?: boolean; absent?: string } = {},
): Promise<string> {
  await denoDir(dir, await npmCache());
  if (options.bundler === false) await Deno.remove(`${dir}/dl`, { recursive: true });
  if (options.absent !== undefined) {
    await Deno.remove(`${dir}/npm/registry.npmjs.org/${options.absent}`, { recursive: true })
      .catch(() => {});
  }
  return dir;
}

Deno.test("create pipeline refuses an npm package not in Deno's cache, naming it, and downloads nothing", async () => {
  const s = await tempStore();
  await using _s = s;
  await ok(["create", "repo", "data"], { store: s.store });
  // left-pad is no package of tusk's: the tusk process has no reason to fetch it either.
  const cache = await privateDenoDir(`${s.path}/deno-dir`, { absent: "left-pad" });
  await Deno.mkdir(`${s.path}/spec`);
  await Deno.writeTextFile(
    `${s.path}/spec/stage.js`,
    'import leftPad from "npm:left-pad@1.3.0";\nconsole.log(leftPad("x", 3));\n',
  );
  const file = await specFile(`${s.path}/spec`, "stage.js");
  const before = await snapshotStore(s.store);
  const r = await tusk(["create", "pipeline", "-f", file], {
    store: s.store,
    env: { DENO_DIR: cache },
  });
  assertFails(r, 2, /npm package "left-pad"/, /not in Deno's cache/, /deno cache/);
  assert.equal(await snapshotStore(s.store), before);
  const fetched = await Deno.stat(`${cache}/npm/registry.npmjs.org/left-pad`).catch(() => null);
  assert.equal(fetched, null, "nothing was fetched");
});

Deno.test("create pipeline refuses an npm package whose folder in Deno's cache is a link elsewhere", async () => {
  const s = await tempStore();
  await using _s = s;
  await ok(["create", "repo", "data"], { store: s.store });
  const cache = await privateDenoDir(`${s.path}/deno-dir`);
  await Deno.mkdir(`${s.path}/spec`);
  await Deno.writeTextFile(
    `${s.path}/spec/stage.js`,
    'import { isAnyArray } from "npm:is-any-array@3.0.0";\nconsole.log(isAnyArray([]));\n',
  );
  // As its author would: cache the stage's package first (its registry entry too, which a
  // cache filled from tusk's lockfile may lack), so that what is refused is the link alone.
  const cached = await new Deno.Command(Deno.execPath(), {
    args: ["cache", "--no-config", "stage.js"],
    cwd: `${s.path}/spec`,
    env: { DENO_DIR: cache },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(cached.code, 0, new TextDecoder().decode(cached.stderr));
  const inCache = `${cache}/npm/registry.npmjs.org/is-any-array/3.0.0`;
  await Deno.rename(inCache, `${s.path}/elsewhere`);
  await Deno.symlink(`${s.path}/elsewhere`, inCache);
  const r = await tusk(["create", "pipeline", "-f", await specFile(`${s.path}/spec`, "stage.js")], {
    store: s.store,
    env: { DENO_DIR: cache },
  });
  assertFails(r, 2, /npm package "is-any-array@3\.0\.0"/, /outside Deno's npm cache/);
});

Deno.test("create pipeline says Deno's bundler is missing when it is not cached and cannot be fetched", async () => {
  const s = await tempStore();
  await using _s = s;
  await ok(["create", "repo", "data"], { store: s.store });
  const cache = await privateDenoDir(`${s.path}/deno-dir`, { bundler: false });
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  const nowhere = "http://127.0.0.1:0";
  const r = await tusk(["create", "pipeline", "-f", await specFile(s.path, "upper.ts")], {
    store: s.store,
    env: { DENO_DIR: cache, HTTPS_PROXY: nowhere, HTTP_PROXY: nowhere, ALL_PROXY: nowhere },
  });
  assertFails(r, 2, /Deno's bundler \(esbuild\) is not in Deno's cache/, /deno bundle/);
});

Deno.test("firstOutside() names the first bundled file outside the allowed folders, links resolved", async () => {
  await using t = await tempDir();
  const root = await Deno.realPath(t.path);
  await Deno.mkdir(`${root}/stage/lib`, { recursive: true });
  await Deno.mkdir(`${root}/cache/pkg`, { recursive: true });
  await Deno.mkdir(`${root}/secret`);
  for (const f of ["stage/a.js", "stage/lib/b.js", "cache/pkg/c.js", "secret/d.js"]) {
    await Deno.writeTextFile(`${root}/${f}`, "");
  }
  await Deno.symlink(`${root}/secret/d.js`, `${root}/stage/link.js`);
  const base = `${root}/out`;
  const roots = [`${root}/stage`, `${root}/cache`];
  const inside = ["../stage/a.js", "../stage/lib/b.js", "../cache/pkg/c.js"];
  assert.equal(await firstOutside(inside, base, roots), undefined);
  assert.equal(
    await firstOutside([...inside, "../secret/d.js"], base, roots),
    `${root}/secret/d.js`,
  );
  assert.equal(await firstOutside(["../stage/link.js"], base, roots), `${root}/secret/d.js`);
  assert.equal(
    await firstOutside(["../stage-other/x.js"], base, roots),
    `${root}/stage-other/x.js`,
  );
});

Deno.test("parseJsonc() reads comments and trailing commas, and leaves strings as they are", () => {
  const text = '{\n  // a comment\n  "a": "x // not a comment, }",\n  "b": [1, 2, /* two */],\n}\n';
  assert.deepEqual(parseJsonc(text), { a: "x // not a comment, }", b: [1, 2] });
  assert.throws(() => parseJsonc('{"a": }'), SyntaxError);
});

for (
  const [what, files] of [
    ["a deno.json that is not JSON", { "deno.json": '{"imports": {\n' }],
    ["a deno.json naming a remote import map", {
      "deno.json": '{"importMap":"https://x.invalid/m.json"}',
    }],
    ["a deno.json whose imports are not strings", { "deno.json": '{"imports":{"x":1}}' }],
    ["a deno.json whose scopes are not objects", { "deno.json": '{"scopes":["x"]}' }],
    ["a lock that is a folder", { "deno.json": '{"lock":"lock.d"}', "lock.d/x": "" }],
  ] as const
) {
  Deno.test(`snapshotStage() refuses ${what} (STAGE_CONFIG)`, async () => {
    await using t = await tempDir();
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(`${t.path}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${t.path}/${name}`, text);
    }
    await Deno.writeTextFile(`${t.path}/stage.js`, "console.log(1);\n");
    await assertStageRefused(`${t.path}/stage.js`, "STAGE_CONFIG");
  });
}

Deno.test("snapshotStage() refuses an npm package whose folder is missing from Deno's cache (NOT_CACHED)", async () => {
  await using t = await tempDir();
  const npm = await npmCache();
  const cache = `${t.path}/deno-dir`;
  await Deno.mkdir(`${cache}/npm/registry.npmjs.org`, { recursive: true });
  const r = await new Deno.Command("cp", {
    args: ["-R", `${npm}/registry.npmjs.org/is-any-array`, `${cache}/npm/registry.npmjs.org/`],
  }).output();
  assert.ok(r.success);
  // Its registry record is there, the package's files are not.
  await Deno.remove(`${cache}/npm/registry.npmjs.org/is-any-array/3.0.0`, { recursive: true });
  await Deno.writeTextFile(
    `${t.path}/stage.js`,
    'import { isAnyArray } from "npm:is-any-array@3.0.0";\nconsole.log(isAnyArray([]));\n',
  );
  const before = Deno.env.get("DENO_DIR");
  Deno.env.set("DENO_DIR", cache);
  try {
    await assertStageRefused(`${t.path}/stage.js`, "NOT_CACHED");
  } finally {
    if (before === undefined) Deno.env.delete("DENO_DIR");
    else Deno.env.set("DENO_DIR", before);
  }
  const fetched = await Deno.stat(`${cache}/npm/registry.npmjs.org/is-any-array/3.0.0`)
    .catch(() => null);
  assert.equal(fetched, null, "nothing was fetched");
});
