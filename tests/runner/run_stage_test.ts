/**
 * runStage() with well-behaved stages, in every sandbox mode that works here: outputs,
 * Pachyderm's /pfs arguments, env, stdin, exit codes, log caps, stop and misuse.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError, NotFoundError } from "../../lib/errors.ts";
import {
  failureText,
  runStage,
  type StageResult,
  StageTimeout,
} from "../../lib/runner/run_stage.ts";
import { MAX_PATH_BYTES } from "../../lib/store/names.ts";
import { bundle, MODES, ROOT, stageOptions, workspace, writeBundle } from "./_helpers.ts";

const MIB = 1024 * 1024;

for (const mode of MODES) {
  Deno.test(`runStage() [${mode}] runs a bundled stage that copies its input to out`, async () => {
    await using ws = await workspace();
    const path = `${ws.root}/copy.js`;
    await bundle(`${ROOT}/tests/runner/_stages/copy.ts`, path);
    const lines: string[] = [];
    const r = await runStage(
      stageOptions(ws, mode, {
        bundle: path,
        args: ["/pfs/data/", "/pfs/out/"],
        onLog: (stream, line) => lines.push(`${stream}: ${line}`),
      }),
    );
    assert.equal(r.outcome, "ok", r.stderr);
    assert.equal(r.exitCode, 0);
    assert.equal(r.signal, null);
    assert.equal(r.message, "");
    assert.deepEqual(r.outputs.map((o) => o.path), ["/a.txt", "/args.json"]);
    assert.equal(r.outputs[0]!.size, 6);
    assert.equal(await Deno.readTextFile(`${ws.outDir}/a.txt`), "alpha\n");
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /^stdout: copied /);
    assert.ok(r.durationMs > 0);
    assert.ok(r.peakRssBytes > 0);
  });

  Deno.test(`runStage() [${mode}] caps a stage with no memory limit at a quarter of RAM, V8 heap included`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      'import { getHeapStatistics } from "node:v8";\n' +
        "console.log(getHeapStatistics().heap_size_limit);\n",
    );
    const r = await runStage(stageOptions(ws, mode, { bundle: path, args: [] }));
    assert.equal(r.outcome, "ok", r.stderr);
    const meminfo = await new Deno.Command("awk", {
      args: ["/^MemTotal:/ { print $2 * 1024 }", "/proc/meminfo"],
      stdout: "piped",
    }).output();
    const total = Number(new TextDecoder().decode(meminfo.stdout).trim());
    assert.ok(total > 0);
    assert.equal(r.memoryBytes, Math.floor(total / 4 / MIB) * MIB);
    // V8's heap limit is the old space (three quarters of the cap) plus the young space.
    const heapLimit = Number(r.stdout.trim());
    const oldSpace = Math.floor((r.memoryBytes * 3) / 4 / MIB) * MIB;
    assert.ok(heapLimit >= oldSpace && heapLimit < oldSpace + 256 * MIB, `${heapLimit}`);
  });

  Deno.test(`runStage() [${mode}] ends a stage as a timeout on a StageTimeout abort, harvesting with harvestAlways`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      "Deno.writeTextFileSync(Deno.args[0] + '/done.txt', 'done');\n" +
        "console.log('written');\n" +
        "await new Promise((r) => setTimeout(r, 60_000));\n",
    );
    const stop = new AbortController();
    const r = await runStage(
      stageOptions(ws, mode, {
        bundle: path,
        args: ["/pfs/out"],
        signal: stop.signal,
        harvestAlways: true,
        graceMs: 200,
        onLog: (_stream, line) => {
          if (line === "written") stop.abort(new StageTimeout("Datum d1 took too long"));
        },
      }),
    );
    assert.equal(r.outcome, "timeout");
    assert.equal(r.message, "Datum d1 took too long");
    assert.equal(r.harvested, true);
    assert.deepEqual(r.outputs.map((o) => o.path), ["/done.txt"]);
  });

  Deno.test(`runStage() [${mode}] harvests with harvestAlways after the stage runs out of V8 heap`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      "Deno.writeTextFileSync(Deno.args[0] + '/done.txt', 'done');\n" +
        "console.error('Fatal JavaScript out of memory: Reached heap limit');\n" +
        "Deno.exit(134);\n",
    );
    const r = await runStage(
      stageOptions(ws, mode, { bundle: path, args: ["/pfs/out"], harvestAlways: true }),
    );
    assert.equal(r.outcome, "memory");
    assert.equal(r.harvested, true);
    assert.deepEqual(r.outputs.map((o) => o.path), ["/done.txt"]);
  });

  Deno.test(`runStage() [${mode}] gives /pfs arguments that name the datum's folders`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `const [input, out, other] = Deno.args;\n` +
        `const text = await Deno.readTextFile(input + "a.txt");\n` +
        `await Deno.mkdir(out + "sub");\n` +
        `await Deno.writeTextFile(out + "sub/b.txt", text.toUpperCase());\n` +
        `await Deno.writeTextFile(out + "args.json", JSON.stringify(Deno.args));\n` +
        `console.log(other);\n`,
    );
    const r = await runStage(
      stageOptions(ws, mode, { bundle: path, args: ["/pfs/data/", "/pfs/out/", "/pfs/nope"] }),
    );
    assert.equal(r.outcome, "ok", r.stderr);
    assert.deepEqual(r.outputs.map((o) => o.path), ["/args.json", "/sub/b.txt"]);
    assert.equal(await Deno.readTextFile(`${ws.outDir}/sub/b.txt`), "ALPHA\n");
    const args = JSON.parse(await Deno.readTextFile(`${ws.outDir}/args.json`));
    if (mode === "bwrap") {
      assert.deepEqual(args, ["/pfs/data/", "/pfs/out/", "/pfs/nope"]);
    } else {
      assert.deepEqual(args, [`${ws.inputDir}/`, `${ws.outDir}/`, "/pfs/nope"]);
    }
  });

  Deno.test(`runStage() [${mode}] lets a stage read the spec's env and its stdin`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `const input = await new Response(Deno.stdin.readable).text();\n` +
        `await Deno.writeTextFile(Deno.args[0] + "/got.txt", Deno.env.get("GREETING") + ":" + input);\n`,
    );
    const r = await runStage(
      stageOptions(ws, mode, {
        bundle: path,
        args: ["/pfs/out"],
        env: { GREETING: "hello" },
        stdin: new TextEncoder().encode("line 1\nline 2\n"),
      }),
    );
    assert.equal(r.outcome, "ok", r.stderr);
    assert.equal(await Deno.readTextFile(`${ws.outDir}/got.txt`), "hello:line 1\nline 2\n");
  });

  Deno.test(`runStage() [${mode}] lets a stage write temporary files in its scratch folder`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `const dir = await Deno.makeTempDir();\n` +
        `await Deno.writeTextFile(dir + "/t.txt", "temp");\n` +
        `await Deno.copyFile(dir + "/t.txt", Deno.args[0] + "/copied.txt");\n`,
    );
    const r = await runStage(stageOptions(ws, mode, { bundle: path, args: ["/pfs/out"] }));
    assert.equal(r.outcome, "ok", r.stderr);
    assert.deepEqual(r.outputs, [{ path: "/copied.txt", size: 4 }]);
    assert.equal([...Deno.readDirSync(ws.scratchDir)].length, 1);
  });

  Deno.test(`runStage() [${mode}] reports a non-zero exit and still lists the outputs`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `await Deno.writeTextFile(Deno.args[0] + "/partial.txt", "p");\n` +
        `console.error("bad row");\nDeno.exit(3);\n`,
    );
    const r = await runStage(stageOptions(ws, mode, { bundle: path, args: ["/pfs/out"] }));
    assert.equal(r.outcome, "failed");
    assert.equal(r.exitCode, 3);
    assert.equal(r.message, "Stage exited with code 3");
    assert.equal(r.stderr, "bad row\n");
    assert.deepEqual(r.outputs, [{ path: "/partial.txt", size: 1 }]);
  });

  Deno.test(`runStage() [${mode}] gives an uncaught error's own line, uncoloured, as the failure reason`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `console.error("reading rows");\nfunction parse() { throw new Error("boom"); }\nparse();\n`,
    );
    const r = await runStage(stageOptions(ws, mode, { bundle: path, args: [] }));
    assert.equal(r.outcome, "failed");
    assert.equal(r.exitCode, 1);
    assert.ok(!r.stderr.includes("\x1b"), JSON.stringify(r.stderr));
    assert.match(r.stderr, /\n\s+at parse /);
    assert.equal(failureText(r), "Stage exited with code 1: Uncaught (in promise) Error: boom");
  });

  Deno.test(`runStage() [${mode}] fails a stage whose output path is longer than the store keeps`, async () => {
    await using ws = await workspace();
    // 16 folders of 200-byte names: a 3,216-byte path, which the host opens.
    const path = await writeBundle(
      ws,
      `let dir = Deno.args[0];\n` +
        `for (let i = 0; i < 16; i++) { dir += "/" + "d".repeat(200); Deno.mkdirSync(dir); }\n` +
        `Deno.writeTextFileSync(dir + "/f.txt", "x");\n`,
    );
    const r = await runStage(stageOptions(ws, mode, { bundle: path, args: ["/pfs/out"] }));
    assert.equal(r.outcome, "output-limit", r.message + r.stderr);
    assert.ok(r.message.includes(`limit of ${MAX_PATH_BYTES} bytes`), r.message);
    assert.deepEqual(r.outputs, []);
  });

  Deno.test(`runStage() [${mode}] caps captured output and live lines at maxLogBytes`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `for (let i = 0; i < 2000; i++) console.log("line " + i);\n`,
    );
    const lines: string[] = [];
    const r = await runStage(
      stageOptions(ws, mode, {
        bundle: path,
        args: [],
        limits: { maxLogBytes: 1000 },
        onLog: (_stream, line) => lines.push(line),
      }),
    );
    assert.equal(r.outcome, "ok", r.stderr);
    assert.ok(r.stdout.startsWith("line 0\nline 1\n"));
    assert.ok(r.stdout.endsWith("\n[… truncated]"));
    assert.ok(r.stdout.length < 1100);
    assert.equal(lines.at(-1), "[… truncated]");
    assert.ok(lines.length < 200);
  });

  Deno.test(`runStage() [${mode}] stops a stage when the job's signal aborts`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(ws, `console.log("up");\nsetInterval(() => {}, 1000);\n`);
    const controller = new AbortController();
    const running = runStage(
      stageOptions(ws, mode, {
        bundle: path,
        args: [],
        signal: controller.signal,
        onLog: () => controller.abort(new Error("Job was stopped")),
      }),
    );
    const r = await running;
    assert.equal(r.outcome, "killed");
    assert.equal(r.message, "Stage was stopped: Job was stopped");
    assert.deepEqual(r.outputs, []);
  });

  Deno.test(`runStage() [${mode}] starts every run with an empty out folder`, async () => {
    await using ws = await workspace();
    await Deno.mkdir(`${ws.outDir}/old`, { recursive: true });
    await Deno.writeTextFile(`${ws.outDir}/old/stale.txt`, "stale");
    const path = await writeBundle(
      ws,
      `await Deno.writeTextFile(Deno.args[0] + "/new.txt", "n");\n`,
    );
    const r = await runStage(stageOptions(ws, mode, { bundle: path, args: ["/pfs/out"] }));
    assert.equal(r.outcome, "ok", r.stderr);
    assert.deepEqual(r.outputs, [{ path: "/new.txt", size: 1 }]);
  });

  Deno.test(`runStage() [${mode}] fails a stage whose JavaScript heap runs out`, async () => {
    await using ws = await workspace();
    const path = await writeBundle(
      ws,
      `const keep = [];\nfor (let i = 0; ; i++) keep.push({ i, s: "x" + i, a: [i, i] });\n`,
    );
    // A high limit so V8's heap limit (three quarters of it) is hit before the RSS check.
    const r = await runStage(
      stageOptions(ws, mode, { bundle: path, args: [], memoryBytes: 96 * 1024 * 1024 }),
    );
    assert.equal(r.outcome, "memory");
    assert.match(r.message, /memory limit of 96 MiB|heap \(memory limit 96 MiB\)/);
  });
}

Deno.test("runStage() [deno] runs a bundle whose path holds characters URLs escape", async () => {
  await using ws = await workspace();
  const dir = `${ws.root}/odd name@+=%#?ü\\x`;
  await Deno.mkdir(dir);
  const path = `${dir}/stage.js`;
  await Deno.writeTextFile(path, `await Deno.writeTextFile(Deno.args[0] + "/ran", "");\n`);
  const r = await runStage(stageOptions(ws, "deno", { bundle: path, args: ["/pfs/out"] }));
  assert.equal(r.outcome, "ok", r.stderr);
  assert.deepEqual(r.outputs, [{ path: "/ran", size: 0 }]);
});

Deno.test("runStage() refuses a reserved environment variable", async () => {
  await using ws = await workspace();
  const path = await writeBundle(ws, "");
  await assert.rejects(
    runStage(
      stageOptions(ws, "deno", { bundle: path, args: [], env: { LD_PRELOAD: "/pfs/data/a.txt" } }),
    ),
    (err: unknown) => err instanceof InvalidArgumentError && err.data.name === "LD_PRELOAD",
  );
});

Deno.test("runStage() refuses SSLKEYLOGFILE, which would make Deno write a file outside the sandbox", async () => {
  await using ws = await workspace();
  const path = await writeBundle(ws, "");
  const keys = `${ws.root}/keys.log`;
  await assert.rejects(
    runStage(stageOptions(ws, "deno", { bundle: path, args: [], env: { SSLKEYLOGFILE: keys } })),
    (err: unknown) => err instanceof InvalidArgumentError && err.data.name === "SSLKEYLOGFILE",
  );
  assert.equal(await Deno.lstat(keys).catch(() => null), null);
});

Deno.test('runStage() refuses an input named "out"', async () => {
  await using ws = await workspace();
  const path = await writeBundle(ws, "");
  await assert.rejects(
    runStage(
      stageOptions(ws, "deno", {
        bundle: path,
        args: [],
        inputs: [{ name: "out", dir: ws.inputDir }],
      }),
    ),
    InvalidArgumentError,
  );
});

Deno.test("runStage() throws NotFoundError for a missing bundle", async () => {
  await using ws = await workspace();
  await assert.rejects(
    runStage(stageOptions(ws, "deno", { bundle: `${ws.root}/missing.js`, args: [] })),
    NotFoundError,
  );
});

Deno.test("runStage() returns killed without starting when the signal is already aborted", async () => {
  await using ws = await workspace();
  const path = await writeBundle(ws, `await Deno.writeTextFile(Deno.args[0] + "/x", "");\n`);
  const r = await runStage(
    stageOptions(ws, "deno", { bundle: path, args: ["/pfs/out"], signal: AbortSignal.abort() }),
  );
  assert.equal(r.outcome, "killed");
  assert.deepEqual([...Deno.readDirSync(ws.outDir)], []);
});

/** A failed run whose stderr is `stderr`, for `failureText()`. */
function failed(stderr: string, message = ""): StageResult {
  return {
    exitCode: 2,
    signal: null,
    outcome: message ? "timeout" : "failed",
    message,
    stdout: "",
    stderr,
    durationMs: 1,
    peakRssBytes: 0,
    memoryBytes: 0,
    outputs: [],
    harvested: true,
  };
}

Deno.test("failureText() finds Deno's error line, coloured or not, over the stack frames after it", () => {
  const frames = '  throw new Error("boom");\n        ^\n' +
    "    at \x1b[0m\x1b[36mfile:///w/stage.js\x1b[0m:\x1b[0m\x1b[33m7\x1b[0m\n";
  assert.equal(
    failureText(failed(`working\nerror: Uncaught Error: boom\n${frames}`)),
    "Stage exited with code 2: Uncaught Error: boom",
  );
  // Coloured (a spec that sets FORCE_COLOR): found all the same, and kept as printed.
  const coloured = "\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Uncaught Error: boom";
  assert.equal(
    failureText(failed(`working\n${coloured}\n${frames}`)),
    `Stage exited with code 2: ${coloured}`,
  );
});

Deno.test("failureText() takes the last error line a stage printed", () => {
  const stderr = "error: row 1 is short\nerror: row 9 is bad\ndone\n";
  assert.equal(failureText(failed(stderr)), "Stage exited with code 2: row 9 is bad");
});

Deno.test("failureText() without an error line takes the last line that is no stack frame or marker", () => {
  assert.equal(
    failureText(failed("bad row 3\n    at main (file:///s.js:1:1)\n   ^\n[… truncated]\n")),
    "Stage exited with code 2: bad row 3",
  );
  assert.equal(failureText(failed("")), "Stage exited with code 2");
  assert.equal(failureText(failed("\x1b[31m\x1b[0m\n")), "Stage exited with code 2");
});

Deno.test("failureText() keeps the runner's message, with the reason unless it says it already", () => {
  assert.equal(
    failureText(failed("error: stuck\n", "Stage exceeded its datum timeout of 1 s")),
    "Stage exceeded its datum timeout of 1 s: stuck",
  );
  assert.equal(
    failureText(failed("x".repeat(400))),
    `Stage exited with code 2: ${"x".repeat(300)}…`,
  );
});
