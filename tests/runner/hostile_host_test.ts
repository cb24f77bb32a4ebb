/**
 * Hostile host-program stages (Python and shell) against the sandbox they get: each probe
 * of tests/fixtures/hostile-host/ must be refused — the secret beside the datum, system
 * files, homes, the store, other processes and their environment, the network (TCP, UDP,
 * unix sockets), writing outside /pfs/out and scratch, links out, privileges — and fork
 * bombs, thread bombs and runaway memory ended by the limits, each named.
 */
import assert from "node:assert/strict";
import { runStage, type StageResult } from "../../lib/runner/run_stage.ts";
import { HOST_STAGE_MAX_TASKS } from "../../lib/runner/host_stage.ts";
import { assertContained, processesMentioning, type Workspace, workspace } from "./_helpers.ts";
import {
  HOST_SANDBOX,
  hostileCode,
  hostOptions,
  type NetListeners,
  netListeners,
  PYTHON,
  SH,
} from "./_host.ts";

const MIB = 1024 * 1024;

/** A store-like folder beside the datum, holding the secret as an object. */
async function fakeStore(ws: Workspace): Promise<string> {
  const store = `${ws.root}/store`;
  await Deno.mkdir(`${store}/objects/ab`, { recursive: true });
  await Deno.writeTextFile(`${store}/objects/ab/cdef`, ws.secret);
  return store;
}

/** The attempts a probe reported, by verdict. */
function verdicts(r: StageResult): { blocked: string[]; got: string[] } {
  const lines = r.stdout.split("\n");
  return {
    blocked: lines.filter((l) => l.startsWith("blocked: ")),
    got: lines.filter((l) => l.startsWith("got: ")),
  };
}

/** Assert nothing of the datum's inputs, code or the store changed, and no listener was hit. */
async function assertUntouched(
  ws: Workspace,
  store: string,
  net: NetListeners,
  code: string,
  original: string,
): Promise<void> {
  assert.equal(await Deno.readTextFile(`${ws.inputDir}/a.txt`), "alpha\n");
  assert.deepEqual((await Array.fromAsync(Deno.readDir(ws.inputDir))).map((e) => e.name), [
    "a.txt",
  ]);
  assert.equal(await Deno.readTextFile(code), original, "the code was changed");
  assert.equal(await Deno.readTextFile(`${store}/objects/ab/cdef`), ws.secret);
  assert.deepEqual(await net.hits(), [], "a host listener was reached");
  assert.equal(await Deno.stat("/dev/shm/probe").catch(() => null), null);
  assert.equal(await Deno.stat("/pwned").catch(() => null), null);
}

if (HOST_SANDBOX) {
  Deno.test("runStage() refuses every probe of a hostile Python stage", async () => {
    await using ws = await workspace();
    const store = await fakeStore(ws);
    await using net = await netListeners(ws.secret, ws.root);
    const envName = `TUSK_TEST_SECRET_${crypto.randomUUID().slice(0, 8)}`;
    Deno.env.set(envName, ws.secret);
    try {
      const host = await hostileCode(ws, PYTHON, ["probe.py"]);
      const original = await Deno.readTextFile(`${host.codeDir}/probe.py`);
      const r = await runStage(hostOptions(ws, host, [
        "/code/probe.py",
        ws.secretPath,
        envName,
        String(net.tcp),
        String(net.udp),
        net.path,
        net.abstract,
        store,
        "/pfs/data",
        "/pfs/out",
      ]));
      assert.equal(r.outcome, "ok", r.stderr);
      await assertContained(ws, r);
      await assertUntouched(ws, store, net, `${host.codeDir}/probe.py`, original);
      const { blocked, got } = verdicts(r);
      assert.deepEqual(got, []);
      assert.ok(blocked.length >= 61, `${blocked.length} probes:\n${r.stdout}`);
      // The scratch /dev/shm is the datum's own, on disk.
      assert.equal(await Deno.readTextFile(`${ws.scratchDir}/shm/probe`), "scratch");
    } finally {
      Deno.env.delete(envName);
    }
  });

  Deno.test("runStage() refuses every probe of a hostile shell stage", async () => {
    await using ws = await workspace();
    const store = await fakeStore(ws);
    await using net = await netListeners(ws.secret, ws.root);
    const envName = `TUSK_TEST_SECRET_${crypto.randomUUID().slice(0, 8)}`;
    Deno.env.set(envName, ws.secret);
    try {
      const host = await hostileCode(ws, SH, ["probe.sh"]);
      const original = await Deno.readTextFile(`${host.codeDir}/probe.sh`);
      const r = await runStage(hostOptions(ws, host, [
        "/code/probe.sh",
        ws.secretPath,
        envName,
        String(net.tcp),
        String(net.udp),
        net.path,
        store,
        "/pfs/data",
        "/pfs/out",
      ]));
      assert.equal(r.outcome, "ok", r.stderr);
      await assertContained(ws, r);
      await assertUntouched(ws, store, net, `${host.codeDir}/probe.sh`, original);
      const { blocked, got } = verdicts(r);
      assert.deepEqual(got, []);
      assert.ok(blocked.length >= 29, `${blocked.length} probes:\n${r.stdout}`);
    } finally {
      Deno.env.delete(envName);
    }
  });

  for (
    const [name, program, script] of [
      ["Python", PYTHON, "bomb.py"],
      ["shell", SH, "bomb.sh"],
      ["thread", PYTHON, "threads.py"],
    ] as const
  ) {
    Deno.test(`runStage() ends a ${name} bomb at the process limit, naming it`, async () => {
      await using ws = await workspace();
      const host = await hostileCode(ws, program, [script]);
      const marker = `bomb-${crypto.randomUUID()}`;
      const r = await runStage(hostOptions(ws, host, [`/code/${script}`, marker], {
        timeoutMs: 120_000,
      }));
      assert.equal(r.outcome, "process-limit", `${r.outcome}: ${r.message}\n${r.stderr}`);
      assert.match(r.message, new RegExp(`limit of ${HOST_STAGE_MAX_TASKS} processes`));
      assert.deepEqual(await processesMentioning(marker), [], "a process of the bomb is left");
    });
  }

  Deno.test("runStage() ends runaway memory of a Python stage at its limit, naming it", async () => {
    await using ws = await workspace();
    const host = await hostileCode(ws, PYTHON, ["memory.py"]);
    const r = await runStage(hostOptions(ws, host, ["/code/memory.py"], {
      memoryBytes: 256 * MIB,
    }));
    assert.equal(r.outcome, "memory", `${r.outcome}: ${r.message}\n${r.stderr}`);
    assert.match(r.message, /memory limit of 256 MiB/);
  });

  Deno.test("runStage() ends a host stage's background process before the harvest", async () => {
    await using ws = await workspace();
    const host = await hostileCode(ws, "/bin/bash", []);
    const marker = `late-${crypto.randomUUID()}`;
    const r = await runStage(hostOptions(ws, host, [
      "-c",
      `(exec -a ${marker} sh -c 'sleep 1; ln -s ${ws.secretPath} /pfs/out/late; echo x > /pfs/out/late2') & echo started`,
    ]));
    assert.equal(r.outcome, "ok", r.stderr);
    assert.deepEqual(r.outputs, []);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(await processesMentioning(marker), []);
    assert.deepEqual(await Array.fromAsync(Deno.readDir(ws.outDir)), []);
  });

  Deno.test("runStage() fails a host stage that leaves a symlink out of /pfs/out", async () => {
    await using ws = await workspace();
    const host = await hostileCode(ws, SH, []);
    const r = await runStage(hostOptions(ws, host, [
      "-c",
      `ln -s ${ws.secretPath} /pfs/out/link.txt && ln -s /etc/shadow /pfs/out/shadow`,
    ]));
    assert.notEqual(r.outcome, "ok");
    assert.equal(r.harvested, false);
    assert.match(r.message, /link/i);
    assert.equal(await Deno.readTextFile(ws.secretPath), ws.secret);
  });
}
