/**
 * The public surface and the layering: `lib/mod.ts` exports exactly the pinned names, and
 * imports inside lib/ point one way (store ← pipeline ← runner ← scheduler ← commands),
 * while cli/, tui/ and pipelines/ reach lib/ only as allowed.
 */
import assert from "node:assert/strict";
import { ROOT } from "./_helpers.ts";

/** What `main.ts`, `cli/` and `tui/` use, and every error class a verb may throw. */
const PINNED = [
  "AlreadyExistsError",
  "BadSourceError",
  "IntegrityError",
  "InterruptedError",
  "InvalidArgumentError",
  "LeaseHeldError",
  "NoSchedulerError",
  "NoSpaceError",
  "NoStoreError",
  "NotFastForwardError",
  "NotFoundError",
  "RemoteConflictError",
  "RemoteError",
  "RerunRefusedError",
  "STORE_DIR",
  "SandboxUnavailableError",
  "Scheduler",
  "SpecError",
  "Store",
  "TuskError",
  "UsageError",
  "cloneFrom",
  "completionNames",
  "completionScript",
  "countJobs",
  "createBranch",
  "createPipeline",
  "createRepo",
  "deleteBranch",
  "deleteFile",
  "deletePipeline",
  "deleteRepo",
  "detectSandbox",
  "diffFile",
  "doctor",
  "drawPipelines",
  "exportPachyderm",
  "followLogs",
  "formatMetric",
  "formatSize",
  "gc",
  "getFile",
  "globFile",
  "headlineMetric",
  "inputLeaves",
  "inspectCommit",
  "inspectDatum",
  "inspectJob",
  "inspectPipeline",
  "inspectRepo",
  "isFinal",
  "journalPath",
  "journalStart",
  "lineage",
  "listBranch",
  "listCommit",
  "listDatums",
  "listFile",
  "listFilePage",
  "listJobs",
  "listPipelines",
  "listRepos",
  "logs",
  "mayTrigger",
  "metricNames",
  "metricsDiff",
  "metricsShow",
  "nextTick",
  "pickMetrics",
  "pipelinesOf",
  "plan",
  "plotFormat",
  "plots",
  "printable",
  "printableName",
  "provenance",
  "pullFrom",
  "pushTo",
  "putFile",
  "readJournal",
  "remoteAdd",
  "remoteList",
  "remoteRemove",
  "remoteVerify",
  "rerunJob",
  "restartDatum",
  "revert",
  "runCron",
  "runTriggered",
  "setPipelineStopped",
  "stopJob",
  "streamJobs",
  "verify",
  "waitCommit",
  "waitJob",
];

Deno.test("lib/mod.ts exports exactly the pinned public names", async () => {
  const mod = await import("../lib/mod.ts");
  assert.deepEqual(Object.keys(mod).sort(), PINNED);
});

Deno.test("lib/metrics.ts is a subset of lib/mod.ts", async () => {
  const metrics = await import("../lib/metrics.ts");
  const mod = await import("../lib/mod.ts") as Record<string, unknown>;
  for (const [name, value] of Object.entries(metrics)) assert.equal(mod[name], value, name);
});

Deno.test("lib/remote.ts is a subset of lib/mod.ts", async () => {
  const remote = await import("../lib/remote.ts");
  const mod = await import("../lib/mod.ts") as Record<string, unknown>;
  for (const [name, value] of Object.entries(remote)) assert.equal(mod[name], value, name);
});

Deno.test("lib/pfs.ts is a subset of lib/mod.ts", async () => {
  const pfs = await import("../lib/pfs.ts");
  const mod = await import("../lib/mod.ts") as Record<string, unknown>;
  for (const [name, value] of Object.entries(pfs)) assert.equal(mod[name], value, name);
});

/** Relative import specifiers of every .ts/.tsx file under `dir`, with their files. */
async function imports(dir: string): Promise<{ file: string; target: string }[]> {
  const out: { file: string; target: string }[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (/\.tsx?$/.test(e.name)) {
        const text = await Deno.readTextFile(p);
        // `from "./x"`, `import("./x")`, and `import(new URL("./x", import.meta.url).href)`.
        const specifiers =
          /(?:from|import)\s*\(?\s*"(\.[^"]+)"|new URL\(\s*"(\.[^"]+)",\s*import\.meta\.url/g;
        for (const m of text.matchAll(specifiers)) {
          const target = new URL((m[1] ?? m[2])!, `file://${p}`).pathname;
          out.push({ file: p.slice(ROOT.length + 1), target: target.slice(ROOT.length + 1) });
        }
      }
    }
  };
  await walk(`${ROOT}/${dir}`);
  return out;
}

/** Layers by path prefix, the first prefix that matches counting (a spec is read before a pipeline is). */
const LAYER: Record<string, number> = {
  "lib/errors.ts": 0,
  "lib/glob.ts": 0,
  "lib/format": 0,
  "lib/cli": 0,
  "lib/store": 1,
  "lib/pipeline/spec": 2,
  "lib/pipeline/env.ts": 2,
  "lib/pipeline/states.ts": 2,
  "lib/pipeline": 3,
  "lib/remote": 3.5,
  "lib/runner": 4,
  "lib/scheduler": 5,
  "lib/commands": 6,
  "lib/pfs.ts": 7,
  "lib/pfs": 7,
  "lib/pps.ts": 7,
  "lib/pps": 7,
  "lib/metrics.ts": 7,
  "lib/remote.ts": 7,
  "lib/mod.ts": 7,
};

function layerOf(path: string): number {
  for (const [prefix, n] of Object.entries(LAYER)) {
    if (path === prefix || path.startsWith(prefix + "/")) return n;
  }
  throw new Error(`No layer for ${path}`);
}

Deno.test("imports inside lib/ point one way: store ← pipeline ← runner ← scheduler ← commands", async () => {
  const wrong = (await imports("lib")).filter(({ file, target }) =>
    layerOf(target) > layerOf(file)
  );
  assert.deepEqual(wrong, []);
});

/** Every group of modules that import each other in a circle (strongly connected, Tarjan). */
function cycles(edges: readonly { file: string; target: string }[]): string[][] {
  const next = new Map<string, string[]>();
  for (const { file, target } of edges) next.set(file, [...(next.get(file) ?? []), target]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (next.get(v) ?? []).includes(v)) out.push(group.sort());
  };
  for (const v of next.keys()) if (!index.has(v)) visit(v);
  return out;
}

Deno.test("no modules of lib/, cli/ or tui/ import each other in a circle", async () => {
  const edges = [...await imports("lib"), ...await imports("cli"), ...await imports("tui")];
  assert.deepEqual(cycles(edges), []);
  // The check itself finds a circle when there is one.
  assert.deepEqual(
    cycles([{ file: "a", target: "b" }, { file: "b", target: "c" }, { file: "c", target: "a" }]),
    [["a", "b", "c"]],
  );
});

Deno.test("a _-prefixed file is imported only from its own folder", async () => {
  const folder = (path: string) => path.slice(0, path.lastIndexOf("/"));
  const wrong = [...await imports("lib"), ...await imports("cli")].filter(({ file, target }) =>
    target.slice(target.lastIndexOf("/") + 1).startsWith("_") && folder(file) !== folder(target)
  );
  assert.deepEqual(wrong, []);
});

Deno.test("tui/ reaches lib/ only through lib/mod.ts, and stages import nothing from lib/", async () => {
  const tui = (await imports("tui")).filter(({ target }) => target.startsWith("lib/"));
  assert.deepEqual(tui.filter(({ target }) => target !== "lib/mod.ts"), []);
  const stages = (await imports("pipelines")).filter(({ target }) =>
    !target.startsWith("pipelines/")
  );
  assert.deepEqual(stages, []);
});

Deno.test("cli/ reaches lib/ only through lib/mod.ts, lib/pfs.ts and lib/pps.ts (and their parts), lib/metrics.ts and lib/format/ (its tables through lib/cli/), and nothing below imports it", async () => {
  const table = (file: string) => /^cli\/(\w+_table|_declare)\.ts$/.test(file);
  const allowed = (file: string, target: string) =>
    target.startsWith("cli/") || target === "lib/mod.ts" || target === "lib/pfs.ts" ||
    target.startsWith("lib/pfs/") || target === "lib/pps.ts" || target.startsWith("lib/pps/") ||
    target === "lib/metrics.ts" || target === "lib/remote.ts" ||
    target.startsWith("lib/format/") || target === "tui/app.tsx" ||
    (table(file) && target === "lib/cli/command_line.ts");
  assert.deepEqual(
    (await imports("cli")).filter(({ file, target }) => !allowed(file, target)),
    [],
  );
  const below = [...await imports("lib"), ...await imports("tui")].filter(({ target }) =>
    target.startsWith("cli/") || target === "main.ts"
  );
  assert.deepEqual(below, []);
});

/**
 * The modules `deno run path` prepares before running any code: its imports, transitively,
 * dynamic ones with a literal specifier included (Deno reads those ahead too).
 */
async function preparedGraph(path: string): Promise<string[]> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const info = JSON.parse(new TextDecoder().decode(r.stdout)) as {
    roots: string[];
    modules: { specifier: string; dependencies?: { code?: { specifier: string } }[] }[];
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const walk = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const d of modules.get(specifier)?.dependencies ?? []) {
      if (d.code) walk(d.code.specifier);
    }
  };
  walk(info.roots[0]!);
  return [...seen].map((s) => s.startsWith(`file://${ROOT}/`) ? s.slice(ROOT.length + 8) : s);
}

Deno.test("main.ts starts with the parser and the error classes alone: no npm: or node: module", async () => {
  assert.deepEqual((await preparedGraph(`${ROOT}/main.ts`)).sort(), [
    "lib/cli/command_line.ts",
    "lib/errors.ts",
    "main.ts",
  ]);
});

Deno.test("a command table of cli/ loads the parser and no handler: reading the grammar loads no library", async () => {
  const tables = [...Deno.readDirSync(`${ROOT}/cli`)].map((e) => e.name)
    .filter((name) => name.endsWith("_table.ts")).sort();
  assert.ok(tables.length >= 10, tables.join(", "));
  for (const name of tables) {
    assert.deepEqual(
      (await preparedGraph(`${ROOT}/cli/${name}`)).sort(),
      [
        "cli/_declare.ts",
        `cli/${name}`,
        "lib/cli/command_line.ts",
        "lib/errors.ts",
      ].sort(),
      name,
    );
  }
});

Deno.test("a store verb's handlers load only their noun's verbs, and no pack or write-path code up front", async () => {
  const lazy = [
    "lib/store/packs.ts",
    "lib/store/pack_index.ts",
    "lib/store/pack_codec.ts",
    "lib/store/transaction.ts",
    "lib/store/tree_edit.ts",
  ];
  const others: Record<string, string[]> = {
    "cli/repo.ts": [
      "lib/commands/file.ts",
      "lib/commands/put_file.ts",
      "lib/commands/commit.ts",
      "lib/glob.ts",
    ],
    "cli/file.ts": ["lib/commands/repo.ts", "lib/glob.ts"],
    "cli/put_file.ts": [
      "lib/commands/file.ts",
      "lib/commands/repo.ts",
      "lib/commands/commit.ts",
      "lib/glob.ts",
      "cli/_run_triggered.ts",
      "cli/_job_progress.ts",
    ],
    "cli/commit.ts": [
      "lib/commands/file.ts",
      "lib/commands/put_file.ts",
      "lib/commands/repo.ts",
      "lib/glob.ts",
    ],
    "cli/branch.ts": [
      "lib/commands/file.ts",
      "lib/commands/put_file.ts",
      "lib/commands/repo.ts",
      "lib/glob.ts",
    ],
  };
  for (const [handler, not] of Object.entries(others)) {
    const graph = await preparedGraph(`${ROOT}/${handler}`);
    assert.ok(graph.includes("lib/errors.ts"), `${handler}: ${graph.join(", ")}`);
    assert.deepEqual(graph.filter((m) => [...lazy, ...not].includes(m)), [], handler);
  }
});

Deno.test("create pipeline and the running of triggered jobs load none of the library's other verbs; finding the sandbox loads its own module alone", async () => {
  const others =
    /^lib\/(mod|pfs|metrics|remote)\.ts$|^lib\/commands\/(integrity|lineage|wait|doctor|export|completions|metrics|plots|remote|repo|file|commit)\.ts$|^lib\/store\/verify\.ts$/;
  for (const entry of ["cli/create_pipeline.ts", "cli/_run_triggered.ts"]) {
    const graph = await preparedGraph(`${ROOT}/${entry}`);
    assert.ok(graph.includes("lib/errors.ts"), `${entry}: ${graph.join(", ")}`);
    assert.deepEqual(graph.filter((m) => others.test(m)), [], entry);
  }
  assert.deepEqual((await preparedGraph(`${ROOT}/lib/pps/sandbox.ts`)).sort(), [
    "lib/errors.ts",
    "lib/pipeline/env.ts",
    "lib/pps/sandbox.ts",
    "lib/runner/detect.ts",
    "lib/runner/sandbox.ts",
  ]);
});

Deno.test("the library loads no plotting module up front, lib/pfs.ts no metrics module; only plots() loads vega", async () => {
  for (const entry of ["lib/pfs.ts", "lib/metrics.ts", "lib/mod.ts", "cli/metrics.ts"]) {
    const vega = (await preparedGraph(`${ROOT}/${entry}`)).filter((m) =>
      /vega|plot_render/.test(m)
    );
    assert.deepEqual(vega, [], entry);
  }
  const lean = (await preparedGraph(`${ROOT}/lib/pfs.ts`)).filter((m) => /metric|plot/.test(m));
  assert.deepEqual(lean, [], "the store commands' lean surface loads no metrics code either");
  const render = await preparedGraph(`${ROOT}/lib/format/plot_render.ts`);
  assert.ok(render.some((m) => /^npm:\/?vega@/.test(m)), render.join("\n"));
});

Deno.test("tusk up and the library load no spec parser (nor zod) up front: reading pipeline records needs none", async () => {
  for (const entry of ["cli/up.ts", "tui/app.tsx", "lib/mod.ts", "lib/scheduler/scheduler.ts"]) {
    const parser = (await preparedGraph(`${ROOT}/${entry}`)).filter((m) =>
      /zod|parse_spec|spec\/fields/.test(m)
    );
    assert.deepEqual(parser, [], entry);
  }
  const parse = await preparedGraph(`${ROOT}/lib/pipeline/spec/parse_spec.ts`);
  assert.ok(parse.some((m) => /^npm:\/?zod@/.test(m)), parse.join("\n"));
});

Deno.test("no module but the S3 backend loads the AWS SDK, and that one only when it connects", async () => {
  for (
    const entry of ["lib/mod.ts", "lib/remote.ts", "cli/remote.ts", "lib/remote/s3_backend.ts"]
  ) {
    const aws = (await preparedGraph(`${ROOT}/${entry}`)).filter((m) => /aws-sdk|smithy/.test(m));
    assert.deepEqual(aws, [], entry);
  }
});

Deno.test("no test, script or source reads a path outside the checkout", async () => {
  const outside: string[] = [];
  const walk = async (dir: string) => {
    for await (const e of Deno.readDir(dir)) {
      const path = `${dir}/${e.name}`;
      if (e.isDirectory && e.name !== "node_modules" && !e.name.startsWith(".")) await walk(path);
      else if (e.isFile && /\.(ts|tsx|js|json)$/.test(e.name) && !path.includes("/fixtures/")) {
        const text = await Deno.readTextFile(path);
        if (/\.\.\/shared\/|\$\{ROOT\}\/\.\.\//.test(text)) {
          outside.push(path.slice(ROOT.length + 1));
        }
      }
    }
  };
  await walk(ROOT);
  assert.deepEqual(outside, []);
});
