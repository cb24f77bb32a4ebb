/** The pure sandbox flag builders: deno permission flags, bwrap mounts, env and /pfs args. */
import assert from "node:assert/strict";
import { InvalidArgumentError } from "../../lib/errors.ts";
import {
  bwrapFlags,
  defaultMemoryBytes,
  denoRunFlags,
  type HostTools,
  mapPfsArg,
  oldSpaceMiB,
  stageCommand,
  type StageSpec,
  validateStageEnv,
} from "../../lib/runner/sandbox.ts";

const TOOLS: HostTools = {
  deno: "/opt/deno/bin/deno",
  setsid: "/usr/bin/setsid",
  setpriv: "/usr/bin/setpriv",
  bash: "/usr/bin/bash",
  stat: "/usr/bin/stat",
  bwrap: "/usr/bin/bwrap",
  libraries: [{
    source: "/usr/lib/x86_64-linux-gnu/libc.so.6",
    target: "/lib/x86_64-linux-gnu/libc.so.6",
  }],
};

const SPEC: StageSpec = {
  bundle: "/store/blobs/ab/cd.js",
  args: ["/pfs/training/", "/pfs/out/", "--k", "3"],
  inputs: [{ name: "training", dir: "/work/d1/pfs/training" }],
  outDir: "/work/d1/out",
  scratchDir: "/work/d1/scratch",
  mode: "deno",
  env: { K: "3" },
};

/** The value of `--name=` in `flags`. */
function flag(flags: readonly string[], name: string): string | undefined {
  return flags.find((f) => f.startsWith(`${name}=`))?.slice(name.length + 1);
}

/** The `[source, target]` pairs of `--ro-bind` (or `--bind`) in bwrap flags. */
function binds(flags: readonly string[], kind: "--ro-bind" | "--bind"): [string, string][] {
  const out: [string, string][] = [];
  flags.forEach((f, i) => {
    if (f === kind) out.push([flags[i + 1]!, flags[i + 2]!]);
  });
  return out;
}

Deno.test("denoRunFlags() allows reading only the bundle, inputs, out and temp", () => {
  const flags = denoRunFlags({ bundle: "/b.js", inputs: ["/i1", "/i2"], out: "/o", tmp: "/t" });
  assert.equal(flag(flags, "--allow-read"), "/b.js,/i1,/i2,/o,/t");
  assert.equal(flag(flags, "--allow-write"), "/o,/t");
  for (
    const f of [
      "--no-prompt",
      "--no-config",
      "--no-remote",
      "--no-npm",
      "--cached-only",
      "--no-lock",
    ]
  ) {
    assert.ok(flags.includes(f), f);
  }
  assert.ok(!flags.some((f) => /^--allow-(net|run|ffi|sys|env|all)|^-A$|--unstable/.test(f)));
});

Deno.test("denoRunFlags() maps every file: URL but the bundle's to an unreachable host", () => {
  const flags = denoRunFlags({ bundle: "/b dir/s.js", inputs: [], out: "/o", tmp: "/t" });
  const map = JSON.parse(
    decodeURIComponent(flag(flags, "--import-map")!.slice("data:application/json,".length)),
  );
  assert.deepEqual(map, {
    imports: {
      "file:///b%20dir/s.js": "file:///b%20dir/s.js",
      "file:///": "https://blocked.invalid/",
    },
  });
});

Deno.test("denoRunFlags() allows only the spec's env names and sets the V8 heap limit", () => {
  const flags = denoRunFlags(
    { bundle: "/b.js", inputs: [], out: "/o", tmp: "/t" },
    { envNames: ["A", "B"], memoryBytes: 256 * 1024 * 1024 },
  );
  assert.equal(flag(flags, "--allow-env"), "A,B");
  assert.equal(flag(flags, "--v8-flags"), "--max-old-space-size=192");
});

Deno.test("denoRunFlags() refuses a path holding a comma (Deno's list separator)", () => {
  assert.throws(
    () => denoRunFlags({ bundle: "/b.js", inputs: ["/a,/etc"], out: "/o", tmp: "/t" }),
    InvalidArgumentError,
  );
});

Deno.test("defaultMemoryBytes() is a quarter of RAM in whole MiB, 2 GiB when RAM is unknown", () => {
  const MIB = 1024 * 1024;
  assert.equal(defaultMemoryBytes(24 * 1024 * MIB), 6 * 1024 * MIB);
  assert.equal(defaultMemoryBytes(8 * 1024 * MIB + 3), 2 * 1024 * MIB);
  assert.equal(defaultMemoryBytes(null), 2 * 1024 * MIB);
  assert.equal(defaultMemoryBytes(0), 2 * 1024 * MIB);
  assert.equal(defaultMemoryBytes(100 * MIB), 64 * MIB);
});

Deno.test("oldSpaceMiB() is three quarters of the memory limit, at least 16 MiB", () => {
  assert.equal(oldSpaceMiB(128 * 1024 * 1024), 96);
  assert.equal(oldSpaceMiB(1024 * 1024), 16);
});

Deno.test("mapPfsArg() rewrites /pfs/<input> and /pfs/out to host folders only", () => {
  const inputs = [{ name: "iris", dir: "/w/pfs/iris" }];
  assert.equal(mapPfsArg("/pfs/iris/", inputs, "/w/out"), "/w/pfs/iris/");
  assert.equal(mapPfsArg("/pfs/iris", inputs, "/w/out"), "/w/pfs/iris");
  assert.equal(mapPfsArg("/pfs/iris/a/b.csv", inputs, "/w/out"), "/w/pfs/iris/a/b.csv");
  assert.equal(mapPfsArg("/pfs/out/model.json", inputs, "/w/out"), "/w/out/model.json");
  assert.equal(mapPfsArg("/pfs/other/", inputs, "/w/out"), "/pfs/other/");
  assert.equal(mapPfsArg("x/pfs/iris", inputs, "/w/out"), "x/pfs/iris");
  assert.equal(mapPfsArg("/pfs/irisx", inputs, "/w/out"), "/pfs/irisx");
});

Deno.test("bwrapFlags() unshares every namespace and binds only deno, libraries, bundle and pfs", () => {
  const flags = bwrapFlags(SPEC, TOOLS);
  for (
    const f of [
      "--unshare-all",
      "--unshare-user",
      "--disable-userns",
      "--die-with-parent",
      "--new-session",
    ]
  ) {
    assert.ok(flags.includes(f), f);
  }
  assert.ok(!flags.includes("--share-net"));
  assert.deepEqual(binds(flags, "--ro-bind"), [
    ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"],
    ["/opt/deno/bin/deno", "/usr/bin/deno"],
    ["/store/blobs/ab/cd.js", "/tusk/stage.js"],
    ["/work/d1/pfs/training", "/pfs/training"],
  ]);
  assert.deepEqual(binds(flags, "--bind"), [
    ["/work/d1/out", "/pfs/out"],
    ["/work/d1/scratch", "/tmp"],
  ]);
  assert.equal(flags.at(-1), "--");
  // The root and /dev are tmpfs: read-only, after the last mount point is made in them.
  const ro = flags.flatMap((f, at) => f === "--remount-ro" ? [[at, flags[at + 1]]] : []);
  assert.deepEqual(ro.map(([, dest]) => dest), ["/dev", "/"]);
  assert.ok((ro[1]![0] as number) > flags.lastIndexOf("--bind"));
  assert.ok((ro[0]![0] as number) > flags.indexOf("--dev"));
  const i = flags.indexOf("--cap-drop");
  assert.equal(flags[i + 1], "ALL");
});

Deno.test("stageCommand() in bwrap mode keeps Pachyderm's /pfs arguments as they are", () => {
  const cmd = stageCommand({ ...SPEC, mode: "bwrap" }, TOOLS);
  assert.equal(cmd.program, "/usr/bin/setsid");
  assert.equal(cmd.args[0], "/usr/bin/bwrap");
  assert.deepEqual(cmd.args.slice(-5), [
    "/tusk/stage.js",
    "/pfs/training/",
    "/pfs/out/",
    "--k",
    "3",
  ]);
  assert.equal(flag(cmd.args, "--allow-read"), "/tusk/stage.js,/pfs/training,/pfs/out,/tmp");
  assert.equal(cmd.env.TMPDIR, "/tmp");
});

Deno.test("stageCommand() in deno mode runs the native binary on host paths", () => {
  const cmd = stageCommand(SPEC, TOOLS);
  assert.equal(cmd.program, "/usr/bin/setsid");
  assert.deepEqual(cmd.args.slice(0, 5), [
    "/usr/bin/setpriv",
    "--pdeathsig",
    "KILL",
    "--",
    "/opt/deno/bin/deno",
  ]);
  assert.deepEqual(cmd.args.slice(-5), [
    "/store/blobs/ab/cd.js",
    "/work/d1/pfs/training/",
    "/work/d1/out/",
    "--k",
    "3",
  ]);
  assert.equal(flag(cmd.args, "--allow-write"), "/work/d1/out,/work/d1/scratch");
  assert.equal(flag(cmd.args, "--allow-env"), "K");
});

Deno.test("stageCommand() gives the stage the spec's env and only what Deno needs", () => {
  const cmd = stageCommand(SPEC, TOOLS);
  assert.deepEqual(cmd.env, {
    K: "3",
    DENO_DIR: "/dev/null/deno",
    DENO_NO_UPDATE_CHECK: "1",
    HOME: "/nonexistent",
    NO_COLOR: "1",
    TMPDIR: "/work/d1/scratch",
  });
});

Deno.test("stageCommand() lets a spec's env choose colours", () => {
  const cmd = stageCommand({ ...SPEC, env: { FORCE_COLOR: "1", NO_COLOR: "" } }, TOOLS);
  assert.equal(cmd.env.FORCE_COLOR, "1");
  assert.equal(cmd.env.NO_COLOR, "");
});

Deno.test("stageCommand() refuses relative folders", () => {
  assert.throws(() => stageCommand({ ...SPEC, outDir: "out" }, TOOLS), TypeError);
  assert.throws(() => stageCommand({ ...SPEC, scratchDir: "/w/../etc" }, TOOLS), TypeError);
});

Deno.test("stageCommand() refuses a TZ naming a host file, which Deno would read past --allow-read", () => {
  assert.throws(
    () => stageCommand({ ...SPEC, env: { TZ: "/usr/share/zoneinfo/America/New_York" } }, TOOLS),
    InvalidArgumentError,
    "TZ",
  );
});

Deno.test("validateStageEnv() refuses names that steer Deno or the loader", () => {
  for (
    const name of [
      "LD_PRELOAD",
      "DENO_DIR",
      "deno_v8_flags",
      "NPM_CONFIG_REGISTRY",
      "NODE_OPTIONS",
      "HOME",
      "A-B",
    ]
  ) {
    assert.throws(() => validateStageEnv({ [name]: "x" }), InvalidArgumentError, name);
  }
  validateStageEnv({ NODE_ENV: "production", LANG: "C", K_1: "" });
});
