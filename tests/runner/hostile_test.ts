/**
 * Hostile stages against the sandbox, in every mode that works here: each tries one way
 * out (reading, listing, env, processes, network, writing, links, imports, native code,
 * signals, memory, disk) and the secret must show up nowhere, with the limit named.
 */
import assert from "node:assert/strict";
import { BadSourceError } from "../../lib/errors.ts";
import { runStage, type RunStageOptions } from "../../lib/runner/run_stage.ts";
import { hostTools } from "../../lib/runner/detect.ts";
import { bwrapFlags, SANDBOX_PATHS, type SandboxMode, stageEnv } from "../../lib/runner/sandbox.ts";
import {
  assertContained,
  hostile,
  loopbackServer,
  MODES,
  processesMentioning,
  ROOT,
  stageOptions,
  type Workspace,
  workspace,
  writeBundle,
} from "./_helpers.ts";

const MIB = 1024 * 1024;

/** Options for running hostile fixture `name` in `ws` (see `stageOptions()`). */
function stage(
  ws: Workspace,
  mode: SandboxMode,
  name: string,
  args: readonly string[],
  extra: Partial<RunStageOptions> = {},
): RunStageOptions {
  return stageOptions(ws, mode, { bundle: hostile(name), args, ...extra });
}

for (const mode of MODES) {
  Deno.test(`runStage() [${mode}] keeps a stage from reading a file by absolute path`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "read_absolute", [ws.secretPath, "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from climbing out of its input with "../"`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "read_dotdot", ["/pfs/data/", "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] refuses an input folder holding a symlink to a secret`, async () => {
    await using ws = await workspace();
    await Deno.symlink(ws.secretPath, `${ws.inputDir}/link.txt`);
    await assert.rejects(
      runStage(stage(ws, mode, "read_symlink", ["/pfs/data", "/pfs/out"])),
      (err: unknown) => err instanceof BadSourceError && err.data.path === "/link.txt",
    );
    assert.equal(await Deno.readTextFile(ws.secretPath), ws.secret);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from reading through /proc`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "read_proc", [ws.secretPath, "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from listing "/" and other folders`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "list_root", ["/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
    assert.ok(!r.stdout.includes("secret.txt"));
  });

  Deno.test(`runStage() [${mode}] shows a stage only the spec's env`, async () => {
    await using ws = await workspace();
    const name = `TUSK_TEST_SECRET_${crypto.randomUUID().slice(0, 8)}`;
    Deno.env.set(name, ws.secret);
    try {
      const r = await runStage(
        stage(ws, mode, "read_env", [name, "/pfs/out"], { env: { VISIBLE: "yes" } }),
      );
      assert.equal(r.outcome, "ok", r.stderr);
      await assertContained(ws, r);
      assert.match(r.stdout, /^visible: yes$/m);
    } finally {
      Deno.env.delete(name);
    }
  });

  Deno.test(`runStage() [${mode}] keeps a stage from starting processes`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "spawn", [ws.secretPath, "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] keeps a stage off a loopback server`, async () => {
    await using ws = await workspace();
    await using server = await loopbackServer(ws.secret);
    const r = await runStage(stage(ws, mode, "network", [String(server.port), "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
    assert.equal(await server.hits(), 0);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from writing outside its out folder`, async () => {
    await using ws = await workspace();
    const r = await runStage(
      stage(ws, mode, "write_outside", [ws.secretPath, "/pfs/data", "/pfs/out"]),
    );
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
    assert.deepEqual(
      [...Deno.readDirSync(ws.inputDir)].map((e) => e.name),
      ["a.txt"],
    );
    assert.equal(await Deno.readTextFile(`${ws.inputDir}/a.txt`), "alpha\n");
    assert.equal(await Deno.lstat(`${ws.root}/escape.txt`).catch(() => null), null);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from creating links in its out folder`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "symlink_out", [ws.secretPath, "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
    assert.deepEqual(r.outputs, [{ path: "/loot.txt", size: 0 }]);
  });

  Deno.test(`runStage() [${mode}] fails a datum whose out folder holds a symlink`, async () => {
    await using ws = await workspace();
    const running = runStage(stage(ws, mode, "wait_for_link", ["/pfs/out"]));
    while (!(await Deno.lstat(`${ws.outDir}/ready`).catch(() => null))) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await Deno.symlink(ws.secretPath, `${ws.outDir}/link`);
    const r = await running;
    assert.equal(r.outcome, "failed");
    assert.match(r.message, /"\/link" is a symlink/);
    assert.deepEqual(r.outputs, []);
    assert.equal(await Deno.readTextFile(ws.secretPath), ws.secret);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from importing files outside at run time`, async () => {
    await using ws = await workspace();
    const r = await runStage(
      stage(ws, mode, "dynamic_import", [ws.secretJs, ws.secretJson, "/pfs/out"]),
    );
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] keeps a bundle's static imports from reading files outside`, async () => {
    await using ws = await workspace();
    const bundle = await writeBundle(
      ws,
      `import s from ${JSON.stringify(ws.secretJson)} with { type: "json" };\n` +
        `import t from ${JSON.stringify(ws.secretJs)};\n` +
        `console.log("got: " + s + t);\n` +
        `await import(${
          JSON.stringify(ws.secretJs)
        }).then((m) => console.log("got: " + m.default));\n`,
    );
    const r = await runStage(stageOptions(ws, mode, { bundle, args: [] }));
    assert.equal(r.outcome, "failed");
    await assertContained(ws, r, { finished: false });
  });

  Deno.test(`runStage() [${mode}] keeps a stage from importing remote modules`, async () => {
    await using ws = await workspace();
    await using server = await loopbackServer(ws.secret);
    const r = await runStage(stage(ws, mode, "remote_import", [String(server.port), "/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
    assert.equal(await server.hits(), 0);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from importing npm packages`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "npm_import", ["/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] keeps a stage from loading native code`, async () => {
    await using ws = await workspace();
    const r = await runStage(stage(ws, mode, "dlopen", ["/pfs/out"]));
    assert.equal(r.outcome, "ok", r.stderr);
    await assertContained(ws, r);
  });

  Deno.test(`runStage() [${mode}] SIGKILLs a stage that ignores SIGTERM after the grace period`, async () => {
    await using ws = await workspace();
    const t0 = performance.now();
    const r = await runStage(
      stage(ws, mode, "ignore_sigterm", ["x"], { timeoutMs: 300, graceMs: 300 }),
    );
    const elapsed = performance.now() - t0;
    assert.equal(r.outcome, "timeout");
    assert.match(r.message, /datum timeout of 300 ms/);
    assert.equal(r.signal, "SIGKILL");
    assert.match(r.stdout, /^ignoring SIGTERM$/m);
    assert.ok(elapsed >= 600 && elapsed < 5000, `took ${elapsed} ms`);
  });

  Deno.test(`runStage() [${mode}] leaves no process of a timed-out stage behind`, async () => {
    await using ws = await workspace();
    const nonce = `nonce-${crypto.randomUUID()}`;
    const r = await runStage(
      stage(ws, mode, "ignore_sigterm", [nonce], { timeoutMs: 300, graceMs: 200 }),
    );
    assert.equal(r.outcome, "timeout");
    assert.deepEqual(await processesMentioning(nonce), []);
  });

  Deno.test(`runStage() [${mode}] leaves no stage behind when its supervisor dies`, async () => {
    await using ws = await workspace();
    const nonce = `nonce-${crypto.randomUUID()}`;
    const supervisor = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...["--allow-read", "--allow-write", "--allow-env", "--allow-run"],
        `${ROOT}/tests/runner/_orphan_runner.ts`,
        mode,
        nonce,
        ws.root,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = supervisor.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    while (!seen.includes("started")) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
    assert.ok(seen.includes("started"));
    assert.notDeepEqual(await processesMentioning(nonce), []);
    supervisor.kill("SIGKILL");
    await supervisor.status;
    await reader.cancel();
    let left = await processesMentioning(nonce);
    for (let i = 0; i < 50 && left.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      left = await processesMentioning(nonce);
    }
    assert.deepEqual(left, []);
  });

  Deno.test(`runStage() [${mode}] kills a stage that exhausts memory off the V8 heap`, async () => {
    await using ws = await workspace();
    const r = await runStage(
      stage(ws, mode, "memory_offheap", [], { memoryBytes: 128 * MIB }),
    );
    assert.equal(r.outcome, "memory");
    assert.equal(r.message, "Stage exceeded its memory limit of 128 MiB");
    assert.ok(!r.stdout.includes("survived"));
    assert.ok(r.peakRssBytes > 128 * MIB);
  });

  Deno.test(`runStage() [${mode}] kills a stage with no memory limit of its own at the default cap`, async () => {
    await using ws = await workspace();
    const r = await runStage(
      stage(ws, mode, "memory_offheap", ["1024"], { defaultMemoryBytes: 192 * MIB }),
    );
    assert.equal(r.outcome, "memory", r.stdout);
    assert.equal(
      r.message,
      "Stage exceeded the default memory limit of 192 MiB (the spec sets no resourceLimits.memory)",
    );
    assert.ok(!r.stdout.includes("survived"));
    assert.equal(r.memoryBytes, 192 * MIB);
  });

  Deno.test(`runStage() [${mode}] kills a stage that writes beyond the output size limit`, async () => {
    await using ws = await workspace();
    const r = await runStage(
      stage(ws, mode, "output_flood", ["/pfs/out"], { limits: { maxOutputBytes: 8 * MIB } }),
    );
    assert.equal(r.outcome, "output-limit");
    assert.equal(r.message, "Stage exceeded its output size limit of 8 MiB");
    assert.deepEqual(r.outputs, []);
  });

  Deno.test(`runStage() [${mode}] fails a stage that writes more files than allowed`, async () => {
    await using ws = await workspace();
    const r = await runStage(
      stage(ws, mode, "many_files", ["20", "/pfs/out"], { limits: { maxOutputFiles: 10 } }),
    );
    assert.equal(r.outcome, "output-limit");
    assert.match(r.message, /output limit of 10 files and folders/);
    assert.deepEqual(r.outputs, []);
  });
}

for (const mode of MODES) {
  for (const where of ["out", "tmp"] as const) {
    Deno.test(`runStage() [${mode}] kills a stage that writes past the size limit through a deleted file in ${where}`, async () => {
      await using ws = await workspace();
      const r = await runStage(
        stage(ws, mode, "unlinked_write", [where === "out" ? "/pfs/out" : "tmp", "96"], {
          limits: { maxOutputBytes: 16 * MIB },
          timeoutMs: 15_000,
        }),
      );
      assert.equal(r.outcome, "output-limit", `${r.message}\n${r.stdout}\n${r.stderr}`);
      assert.match(r.message, /files it deleted but keeps open/, r.message);
      assert.match(r.message, /16 MiB/);
      assert.deepEqual(r.outputs, []);
    });
  }

  Deno.test(`runStage() [${mode}] stops a stage when the disk's free space falls under the floor`, async () => {
    await using ws = await workspace();
    const free = await freeBytes(ws.root);
    const r = await runStage(
      stage(ws, mode, "unlinked_write", ["/pfs/out", "2048"], {
        limits: { maxOutputBytes: 64 * 1024 * MIB, minFreeBytes: free - 32 * MIB },
        timeoutMs: 15_000,
      }),
    );
    assert.equal(r.outcome, "disk-space", `${r.message}\n${r.stdout}\n${r.stderr}`);
    assert.match(r.message, /free/);
    assert.ok(!r.stdout.includes("wrote"), r.stdout);
    assert.deepEqual(r.outputs, []);
  });
}

/** Bytes free for unprivileged writers on the filesystem holding `dir` (coreutils `stat -f`). */
async function freeBytes(dir: string): Promise<number> {
  const out = await new Deno.Command("stat", {
    args: ["-f", "-c", "%a %S", dir],
    stdout: "piped",
  }).output();
  const [blocks, size] = new TextDecoder().decode(out.stdout).trim().split(" ").map(Number);
  assert.ok(blocks! > 0 && size! > 0);
  return blocks! * size!;
}

if (MODES.includes("bwrap")) {
  Deno.test("bwrapFlags() leaves only out and scratch writable, even to a stage allowed to write anywhere", async () => {
    await using ws = await workspace();
    await Deno.mkdir(ws.outDir);
    await Deno.mkdir(ws.scratchDir);
    const tools = await hostTools();
    const spec = {
      bundle: hostile("write_root"),
      args: [],
      inputs: [{ name: "data", dir: ws.inputDir }],
      outDir: ws.outDir,
      scratchDir: ws.scratchDir,
      mode: "bwrap" as const,
    };
    const out = await new Deno.Command(tools.bwrap!, {
      args: [
        ...bwrapFlags(spec, tools),
        SANDBOX_PATHS.deno,
        "run",
        "--no-config",
        "--allow-write",
        SANDBOX_PATHS.bundle,
      ],
      clearEnv: true,
      env: stageEnv({}, SANDBOX_PATHS.tmp),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.match(text, /done/, new TextDecoder().decode(out.stderr));
    const got = text.split("\n").filter((l) => l.startsWith("got: ")).sort();
    assert.deepEqual(got, ["got: /pfs/out/probe.bin", "got: /tmp/probe.bin"], text);
    assert.equal((await Deno.stat(`${ws.outDir}/probe.bin`)).size, 1024);
    assert.equal((await Deno.stat(`${ws.scratchDir}/probe.bin`)).size, 1024);
  });
}
