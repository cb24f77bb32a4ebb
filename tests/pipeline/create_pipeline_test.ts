/**
 * `create pipeline` through the real CLI: Pachyderm's own specs are accepted, and every bad
 * spec is refused with its JSON path, exit code 2 and the store unchanged.
 */
import assert from "node:assert/strict";
import { ROOT, snapshotStore, tempStore, tusk, tuskOk } from "../_helpers.ts";

const REF = `${ROOT}/tests/fixtures/pachyderm`;
const STAGES = `${ROOT}/tests/fixtures/stages`;

async function referenceSpec(name: string, cmd: string[]): Promise<Record<string, unknown>> {
  const spec = JSON.parse(await Deno.readTextFile(`${REF}/${name}`));
  spec.transform.cmd = cmd;
  return spec;
}

Deno.test("Pachyderm's own iris specs, with cmd swapped for Deno stages, are accepted as they are", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "training"], { store });
  await tuskOk(["create", "repo", "attributes"], { store });
  const train = await referenceSpec("python_train.pipeline.json", [
    "deno",
    "run",
    "upper.ts",
    "/pfs/training/",
    "/pfs/out/",
  ]);
  const infer = await referenceSpec("python_infer.pipeline.json", [
    "deno",
    "run",
    "join_model.ts",
    "/pfs/attributes/",
    "/pfs/model/",
    "/pfs/out/",
  ]);
  assert.ok(String((train.transform as { image: string }).image).startsWith("pachyderm/"));
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  await Deno.copyFile(`${STAGES}/join_model.ts`, `${s.path}/join_model.ts`);
  await Deno.writeTextFile(`${s.path}/train.json`, JSON.stringify(train));
  await Deno.writeTextFile(`${s.path}/infer.json`, JSON.stringify(infer));
  await tuskOk(["create", "pipeline", "-f", `${s.path}/train.json`], { store });
  await tuskOk(["create", "pipeline", "-f", `${s.path}/infer.json`], { store });
  const list = JSON.parse((await tuskOk(["list", "pipeline", "--json"], { store })).stdout);
  assert.deepEqual(list.map((p: { name: string }) => p.name), ["inference", "model"]);
  const insp = JSON.parse(
    (await tuskOk(["inspect", "pipeline", "model", "--json"], { store })).stdout,
  );
  assert.equal(insp.spec.transform.image, "pachyderm/iris-train:python-svm");
});

interface BadCase {
  readonly name: string;
  readonly spec: unknown;
  /** Part of the JSON path the message must name. */
  readonly path: RegExp;
  readonly files?: Record<string, string>;
}

const copyCmd = ["deno", "run", "upper.ts", "/pfs/data/", "/pfs/out/"];
const pfs = { pfs: { repo: "data", glob: "/*" } };

const cases: BadCase[] = [
  {
    name: "a missing pipeline name",
    spec: { transform: { cmd: copyCmd }, input: pfs },
    path: /pipeline/,
  },
  {
    name: "an unknown input repo",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: ["deno", "run", "upper.ts", "/pfs/nope/", "/pfs/out/"] },
      input: { pfs: { repo: "nope", glob: "/" } },
    },
    path: /nope/,
  },
  {
    name: "a cycle (reading its own output)",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd },
      input: { pfs: { repo: "p", glob: "/" } },
    },
    path: /cycle/,
  },
  {
    name: "two inputs with one name",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd },
      input: {
        cross: [{ pfs: { repo: "data", glob: "/*" } }, { pfs: { repo: "data", glob: "/" } }],
      },
    },
    path: /input\.cross/,
  },
  {
    name: "a bad glob",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd },
      input: { pfs: { repo: "data", glob: "/[a" } },
    },
    path: /glob/,
  },
  {
    name: "a bad cron spec",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd },
      input: { cron: { name: "tick", spec: "every now and then" } },
    },
    path: /cron/,
  },
  {
    name: "a program given by a relative path",
    spec: { pipeline: { name: "p" }, transform: { cmd: ["bin/run", "x.py"] }, input: pfs },
    path: /transform\.cmd/,
  },
  {
    name: "a forbidden permission flag",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: ["deno", "run", "-A", "upper.ts", "/pfs/data/", "/pfs/out/"] },
      input: pfs,
    },
    path: /transform\.cmd/,
  },
  {
    name: "--allow-net in cmd",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: ["deno", "run", "--allow-net", "upper.ts", "/pfs/out/"] },
      input: pfs,
    },
    path: /transform\.cmd/,
  },
  {
    name: "an env name Deno acts on (SSLKEYLOGFILE)",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd, env: { SSLKEYLOGFILE: "/tmp/keys.log" } },
      input: pfs,
    },
    path: /"transform\.env\.SSLKEYLOGFILE".*TLS/,
  },
  {
    name: "a lower-case proxy env name (https_proxy)",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd, env: { https_proxy: "http://127.0.0.1:9" } },
      input: pfs,
    },
    path: /"transform\.env\.https_proxy"/,
  },
  {
    name: "an unsupported field",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: copyCmd },
      input: pfs,
      egress: { URL: "s3://x" },
    },
    path: /egress/,
  },
  {
    name: "a stage importing a file outside its folder",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: ["deno", "run", "stage/evil.ts", "/pfs/data/", "/pfs/out/"] },
      input: pfs,
    },
    path: /transform\.cmd\[2\]|outside/,
    files: {
      "stage/evil.ts": 'import { secret } from "../secret.ts";\nconsole.log(secret);\n',
      "secret.ts": 'export const secret = "s3cr3t";\n',
    },
  },
  {
    name: "a stage importing a remote URL",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: ["deno", "run", "remote.ts", "/pfs/data/", "/pfs/out/"] },
      input: pfs,
    },
    path: /transform\.cmd\[2\]|remote|import/,
    files: { "remote.ts": 'import "https://example.invalid/x.ts";\n' },
  },
  {
    name: "a missing stage script",
    spec: {
      pipeline: { name: "p" },
      transform: { cmd: ["deno", "run", "missing.ts", "/pfs/data/", "/pfs/out/"] },
      input: pfs,
    },
    path: /transform\.cmd\[2\]/,
  },
];

for (const c of cases) {
  Deno.test(`create pipeline refuses ${c.name} with its path, exit 2, and changes nothing`, async () => {
    await using s = await tempStore();
    const store = s.store;
    await tuskOk(["create", "repo", "data"], { store });
    await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
    for (const [name, text] of Object.entries(c.files ?? {})) {
      await Deno.mkdir(`${s.path}/${name}`.replace(/\/[^/]*$/, ""), { recursive: true });
      await Deno.writeTextFile(`${s.path}/${name}`, text);
    }
    const file = `${s.path}/spec.json`;
    await Deno.writeTextFile(file, JSON.stringify(c.spec));
    const before = await snapshotStore(store);
    const r = await tusk(["create", "pipeline", "-f", file], { store });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, c.path);
    assert.equal(r.stdout, "");
    assert.equal(await snapshotStore(store), before);
    const list = JSON.parse((await tuskOk(["list", "pipeline", "--json"], { store })).stdout);
    assert.equal(list.length, 0);
  });
}

Deno.test("create pipeline refuses a spec file that is not JSON, naming the line", async () => {
  await using s = await tempStore();
  const file = `${s.path}/spec.json`;
  await Deno.writeTextFile(file, '{\n  "pipeline": { "name": "p" },\n  oops\n}\n');
  const r = await tusk(["create", "pipeline", "-f", file], { store: s.store });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 3/);
});

Deno.test("create pipeline refuses a spec with a key given twice, naming it, and changes nothing", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
  const file = `${s.path}/spec.json`;
  // The second glob would win silently: one datum of the whole repo instead of one per file.
  await Deno.writeTextFile(
    file,
    '{\n  "pipeline": { "name": "p" },\n  "transform": { "cmd": ["deno", "run", "upper.ts", ' +
      '"/pfs/data/", "/pfs/out/"] },\n  "input": { "pfs": { "repo": "data", "glob": "/*", ' +
      '"glob": "/" } }\n}\n',
  );
  const before = await snapshotStore(store);
  const r = await tusk(["create", "pipeline", "-f", file], { store });
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /Key "glob" is given twice at "input\.pfs\.glob" in ".*spec\.json" \(line 4/,
  );
  assert.equal(await snapshotStore(store), before);
});
