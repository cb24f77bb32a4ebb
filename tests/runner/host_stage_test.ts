/**
 * Host-program stages in the runner: the bwrap command built for one (pure), and real runs
 * of Python and shell stages — outputs, Pachyderm's paths, /code and the working folder,
 * env, stdin, exit codes, timeouts that end the whole process group, output and log
 * limits, and datum batching's protocol.
 */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../lib/errors.ts";
import { runStageBatch } from "../../lib/runner/batch.ts";
import {
  BATCH_ENV,
  ETC_ENTRIES,
  hostBwrapFlags,
  hostStageArgs,
  hostStageCommand,
  type HostSystem,
  hostSystem,
  inSystemFolders,
  SANDBOX_UID,
} from "../../lib/runner/host_stage.ts";
import { runStage } from "../../lib/runner/run_stage.ts";
import type { HostTools, StageSpec } from "../../lib/runner/sandbox.ts";
import { processesMentioning, workspace } from "./_helpers.ts";
import { HOST_SANDBOX, hostCode, hostOptions, PYTHON, SH } from "./_host.ts";

const SYSTEM: HostSystem = {
  folders: [
    { kind: "bind", path: "/usr" },
    { kind: "symlink", path: "/bin", target: "usr/bin" },
  ],
  etc: ["/etc/ld.so.cache"],
  prlimit: "/usr/bin/prlimit",
  pidsCgroup: null,
  uid: 1000,
  sh: "/usr/bin/sh",
  seccomp: null,
  masked: [],
};

const TOOLS: HostTools = {
  deno: "/usr/bin/deno",
  setsid: "/usr/bin/setsid",
  setpriv: "/usr/bin/setpriv",
  bash: "/usr/bin/bash",
  bwrap: "/usr/bin/bwrap",
  stat: "/usr/bin/stat",
  libraries: [],
};

const SPEC: StageSpec = {
  bundle: "",
  args: ["/code/run.py", "/pfs/data/", "/pfs/model/m.pkl", "/pfs/out/"],
  inputs: [{ name: "data", dir: "/w/d/pfs/data" }, { name: "model", dir: "/w/d/pfs/model" }],
  outDir: "/w/d/out",
  scratchDir: "/w/d/scratch",
  mode: "bwrap",
  env: { GREETING: "hi" },
};

const HOST = { program: "/usr/bin/python3", codeDir: "/w/code", etcDir: "/w/etc" };

/** The pairs following each `flag` in `flags`. */
function pairs(flags: readonly string[], flag: string): [string, string][] {
  const out: [string, string][] = [];
  flags.forEach((f, i) => {
    if (f === flag) out.push([flags[i + 1]!, flags[i + 2]!]);
  });
  return out;
}

Deno.test("hostBwrapFlags() mounts the code, inputs read-only and out, tmp and shm writable", () => {
  const flags = hostBwrapFlags(SPEC, HOST, SYSTEM);
  assert.deepEqual(pairs(flags, "--ro-bind").filter(([, at]) => !at.startsWith("/etc")), [
    ["/usr", "/usr"],
    ["/w/code", "/code"],
    ["/w/d/pfs/data", "/pfs/data"],
    ["/w/d/pfs/model", "/pfs/model"],
  ]);
  assert.deepEqual(pairs(flags, "--bind"), [
    ["/w/d/scratch/shm", "/dev/shm"],
    ["/w/d/out", "/pfs/out"],
    ["/w/d/scratch/tmp", "/tmp"],
  ]);
  assert.deepEqual(pairs(flags, "--symlink"), [["usr/bin", "/bin"]]);
  for (const f of ["--unshare-all", "--unshare-user", "--disable-userns", "--new-session"]) {
    assert.ok(flags.includes(f), f);
  }
  assert.deepEqual(flags.slice(flags.indexOf("--cap-drop"), flags.indexOf("--cap-drop") + 2), [
    "--cap-drop",
    "ALL",
  ]);
  assert.equal(flags[flags.indexOf("--uid") + 1], String(SANDBOX_UID));
  assert.equal(flags[flags.indexOf("--hostname") + 1], "tusk");
  assert.deepEqual(flags.slice(-5), ["--remount-ro", "/", "--chdir", "/code", "--"]);
});

Deno.test("hostBwrapFlags() shows the sandbox's own passwd, group and hosts, no other /etc file", () => {
  const flags = hostBwrapFlags(SPEC, HOST, SYSTEM);
  const etc = pairs(flags, "--ro-bind").filter(([, at]) => at.startsWith("/etc"));
  assert.deepEqual(etc, [
    ["/etc/ld.so.cache", "/etc/ld.so.cache"],
    ["/w/etc/passwd", "/etc/passwd"],
    ["/w/etc/group", "/etc/group"],
    ["/w/etc/hosts", "/etc/hosts"],
  ]);
});

Deno.test("hostBwrapFlags() starts the program in the spec's workingDir", () => {
  const flags = hostBwrapFlags(SPEC, { ...HOST, workingDir: "/pfs/data/sub" }, SYSTEM);
  assert.equal(flags[flags.indexOf("--chdir") + 1], "/pfs/data/sub");
});

Deno.test("hostStageCommand() starts with an empty environment and gives the stage its own", () => {
  const c = hostStageCommand(SPEC, HOST, TOOLS, SYSTEM);
  assert.deepEqual(c.env, {});
  assert.equal(c.cwd, "/");
  assert.equal(c.program, "/usr/bin/sh");
  assert.deepEqual(c.args.slice(2, 7), ["tusk-stage", "", "", "2048", "/usr/bin/bwrap"]);
  const env = Object.fromEntries(pairs(c.args, "--setenv"));
  assert.deepEqual(env, {
    PATH: "/usr/local/bin:/usr/bin:/bin",
    LANG: "C.UTF-8",
    NO_COLOR: "1",
    GREETING: "hi",
    HOME: "/tmp",
    TMPDIR: "/tmp",
  });
  const end = c.args.indexOf("--");
  assert.deepEqual(c.args.slice(end + 1), [
    "/usr/bin/prlimit",
    "--nproc=2048:2048",
    "--",
    "/usr/bin/python3",
    "/code/run.py",
    "/pfs/data/",
    "/pfs/model/m.pkl",
    "/pfs/out/",
  ]);
});

Deno.test("hostStageCommand() starts no prlimit for root, whom RLIMIT_NPROC does not hold", () => {
  const c = hostStageCommand(SPEC, HOST, TOOLS, { ...SYSTEM, uid: 0 });
  const end = c.args.indexOf("--");
  assert.deepEqual(c.args.slice(end + 1, end + 3), ["/usr/bin/python3", "/code/run.py"]);
});

Deno.test("hostStageCommand() tells a batched program so by TUSK_DATUM_BATCHING", () => {
  const c = hostStageCommand(SPEC, HOST, TOOLS, SYSTEM, { batch: true });
  assert.equal(Object.fromEntries(pairs(c.args, "--setenv"))[BATCH_ENV], "1");
  assert.ok(!c.args.includes("--batch"));
});

Deno.test("hostStageCommand() moves the stage into its pids cgroup first, through sh", () => {
  const c = hostStageCommand(SPEC, HOST, TOOLS, SYSTEM, {
    cgroup: "/sys/fs/cgroup/pids/tusk-1-1",
  });
  assert.equal(c.program, "/usr/bin/sh");
  assert.deepEqual(c.args.slice(2, 7), [
    "tusk-stage",
    "",
    "/sys/fs/cgroup/pids/tusk-1-1",
    "2048",
    "/usr/bin/bwrap",
  ]);
  assert.deepEqual(c.env, {});
});

Deno.test("hostStageCommand() hands bwrap the seccomp filter of the etc folder as fd 3", () => {
  const c = hostStageCommand(SPEC, HOST, TOOLS, { ...SYSTEM, seccomp: new Uint8Array(8) });
  assert.equal(c.args[3], "/w/etc/seccomp.bpf");
  assert.deepEqual(c.args.slice(6, 9), ["/usr/bin/bwrap", "--seccomp", "3"]);
});

Deno.test("hostBwrapFlags() masks /proc's keys, kernel memory and timers as containers do", () => {
  const flags = hostBwrapFlags(SPEC, HOST, {
    ...SYSTEM,
    masked: [{ path: "/proc/keys", folder: false }, { path: "/proc/acpi", folder: true }],
  });
  const proc = flags.indexOf("--proc");
  assert.deepEqual(flags.slice(proc, proc + 9), [
    "--proc",
    "/proc",
    "--ro-bind",
    "/dev/null",
    "/proc/keys",
    "--tmpfs",
    "/proc/acpi",
    "--remount-ro",
    "/proc/acpi",
  ]);
});

Deno.test("hostStageCommand() refuses a program outside the system folders", () => {
  assert.throws(
    () => hostStageCommand(SPEC, { ...HOST, program: "/home/u/bin/python3" }, TOOLS, SYSTEM),
    InvalidArgumentError,
  );
});

Deno.test("hostStageCommand() never runs a host program without bwrap", () => {
  assert.throws(() => hostStageCommand(SPEC, HOST, { ...TOOLS, bwrap: null }, SYSTEM), TypeError);
});

Deno.test("hostStageCommand() refuses an env name the loader acts on", () => {
  assert.throws(
    () => hostStageCommand({ ...SPEC, env: { LD_PRELOAD: "/code/x.so" } }, HOST, TOOLS, SYSTEM),
    InvalidArgumentError,
  );
});

Deno.test("hostStageArgs() points a batched datum's /pfs/ arguments at its own folders", () => {
  const spec = { ...SPEC, inputs: [{ name: "batch", dir: "/w/b/in" }], outDir: "/w/b/out" };
  assert.deepEqual(
    hostStageArgs(spec, ["/code/run.py", "/pfs/data/", "/pfs/out/"], {
      inputs: [{ name: "data", dir: "/w/b/in/d1/pfs/data" }],
      outDir: "/w/b/out/d1",
    }),
    ["/code/run.py", "/pfs/batch/d1/pfs/data/", "/pfs/out/d1/"],
  );
});

Deno.test("inSystemFolders() takes /usr, /bin and /lib paths, not homes or /opt", () => {
  assert.ok(inSystemFolders("/usr/bin/python3"));
  assert.ok(inSystemFolders("/bin/sh"));
  assert.ok(inSystemFolders("/lib64/ld-linux-x86-64.so.2"));
  assert.ok(!inSystemFolders("/usrx/bin/python3"));
  assert.ok(!inSystemFolders("/root/.pyenv/shims/python3"));
  assert.ok(!inSystemFolders("/opt/conda/bin/python3"));
});

Deno.test("hostSystem() shows /usr and only the allowed entries of /etc", async () => {
  const system = await hostSystem();
  assert.ok(system.folders.some((f) => f.path === "/usr"));
  for (const path of system.etc) {
    const name = path.slice("/etc/".length);
    assert.ok(
      ETC_ENTRIES.some((e) => typeof e === "string" ? e === name : e.test(name)),
      path,
    );
  }
  assert.ok(!system.etc.some((p) => /shadow|passwd|ssh|sudoers|group/.test(p)));
});

if (HOST_SANDBOX) {
  Deno.test("runStage() runs a Python stage on /pfs/data into /pfs/out, code at /code", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, PYTHON, {
      "run.py": [
        "import os, sys",
        "src, dst = sys.argv[1], sys.argv[2]",
        "for n in os.listdir(src):",
        "    open(os.path.join(dst, n.upper()), 'w').write(open(os.path.join(src, n)).read().upper())",
        "print('cwd', os.getcwd(), 'uid', os.getuid(), 'greeting', os.environ.get('GREETING'))",
        "",
      ].join("\n"),
    });
    const lines: string[] = [];
    const r = await runStage(hostOptions(ws, host, ["/code/run.py", "/pfs/data/", "/pfs/out/"], {
      env: { GREETING: "hello" },
      onLog: (stream, line) => lines.push(`${stream}: ${line}`),
    }));
    assert.equal(r.outcome, "ok", r.stderr);
    assert.deepEqual(r.outputs.map((o) => o.path), ["/A.TXT"]);
    assert.equal(await Deno.readTextFile(`${ws.outDir}/A.TXT`), "ALPHA\n");
    assert.deepEqual(lines, [`stdout: cwd /code uid ${SANDBOX_UID} greeting hello`]);
  });

  Deno.test("runStage() starts a host program in its workingDir", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, SH, {}, { workingDir: "/pfs/data" });
    const r = await runStage(hostOptions(ws, host, ["-c", "pwd; ls"]));
    assert.equal(r.outcome, "ok", r.stderr);
    assert.equal(r.stdout, "/pfs/data\na.txt\n");
  });

  Deno.test('runStage() feeds a shell stage its stdin lines, as Pachyderm\'s cmd ["sh"]', async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, SH, { "lib.sh": 'say() { echo "said $1"; }\n' });
    const r = await runStage(hostOptions(ws, host, [], {
      stdin: new TextEncoder().encode(
        ". /code/lib.sh\nsay one > /pfs/out/one\ncat /pfs/data/a.txt\n",
      ),
    }));
    assert.equal(r.outcome, "ok", r.stderr);
    assert.equal(r.stdout, "alpha\n");
    assert.equal(await Deno.readTextFile(`${ws.outDir}/one`), "said one\n");
  });

  Deno.test("runStage() reports a host program's exit code as a failure", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, SH, {});
    const r = await runStage(hostOptions(ws, host, ["-c", "echo oops >&2; exit 3"]));
    assert.equal(r.outcome, "failed");
    assert.equal(r.exitCode, 3);
    assert.equal(r.stderr, "oops\n");
  });

  Deno.test("runStage() ends a host stage's whole process group at its timeout", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, "/bin/bash", {});
    const marker = `sleeper-${crypto.randomUUID()}`;
    const r = await runStage(hostOptions(ws, host, [
      "-c",
      `trap '' TERM; (trap '' TERM; exec -a ${marker} sleep 300) & exec -a ${marker} sleep 300`,
    ], { timeoutMs: 500, graceMs: 300 }));
    assert.equal(r.outcome, "timeout");
    assert.match(r.message, /datum timeout of 500 ms/);
    assert.deepEqual(await processesMentioning(marker), []);
  });

  Deno.test("runStage() fails a host stage over its output limit, naming it", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, SH, {});
    const r = await runStage(hostOptions(ws, host, [
      "-c",
      "head -c 3000000 /dev/zero > /pfs/out/big; sleep 5",
    ], { limits: { maxOutputBytes: 1_000_000 } }));
    assert.equal(r.outcome, "output-limit");
    assert.match(r.message, /output size limit/);
  });

  Deno.test("runStage() counts a host stage's /tmp and /dev/shm against the output limits", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, SH, {});
    const r = await runStage(hostOptions(ws, host, [
      "-c",
      "head -c 3000000 /dev/zero > /dev/shm/big; sleep 5",
    ], { limits: { maxOutputBytes: 1_000_000 } }));
    assert.equal(r.outcome, "output-limit");
    assert.match(r.message, /temporary files/);
  });

  Deno.test("runStageBatch() gives a Python stage its datums as JSON lines", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, PYTHON, {
      "batch.py": [
        "import json, os, sys",
        "assert os.environ.get('TUSK_DATUM_BATCHING') == '1'",
        "for line in sys.stdin:",
        "    req = json.loads(line)",
        "    src, dst = req['args'][-2:]",
        "    for n in os.listdir(src):",
        "        open(os.path.join(dst, n), 'w').write(open(os.path.join(src, n)).read()[::-1])",
        "    print(json.dumps({'datum': req['datum'], 'status': 'ok'}), flush=True)",
        "",
      ].join("\n"),
    });
    const folders = {
      root: `${ws.root}/batch`,
      in: `${ws.root}/batch/in`,
      out: `${ws.root}/batch/out`,
      scratch: `${ws.root}/batch/scratch`,
    };
    const datums = [];
    for (const id of ["d1", "d2"]) {
      const dir = `${folders.in}/${id}/pfs/data`;
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeTextFile(`${dir}/${id}.txt`, `${id}-text`);
      datums.push({ id, inputs: [{ name: "data", dir }] });
    }
    await Deno.mkdir(folders.out, { recursive: true });
    const { result, answers } = await runStageBatch({
      bundle: "",
      host,
      args: ["/code/batch.py", "/pfs/data/", "/pfs/out/"],
      folders,
      datums,
      mode: "bwrap",
    });
    assert.equal(result.outcome, "ok", result.stderr);
    assert.deepEqual(answers.map((a) => [a.id, a.ack?.status, a.outputs.map((o) => o.path)]), [
      ["d1", "ok", ["/d1.txt"]],
      ["d2", "ok", ["/d2.txt"]],
    ]);
    assert.equal(await Deno.readTextFile(`${folders.out}/d2/d2.txt`), "txet-2d");
  });

  Deno.test("runStage() shows a host stage no process of the host", async () => {
    await using ws = await workspace();
    const host = await hostCode(ws, SH, {});
    const r = await runStage(hostOptions(ws, host, ["-c", "ls /proc | grep -c '^[0-9]'"]));
    assert.equal(r.outcome, "ok", r.stderr);
    // bwrap's init, the shell, and ls and grep.
    assert.ok(Number(r.stdout.trim()) <= 4, r.stdout);
  });
}
