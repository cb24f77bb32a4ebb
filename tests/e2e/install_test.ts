/**
 * `deno task install`: run as a user runs it, into a temporary install root or home, with no
 * `deno` on PATH (Deno from npm), it gives a `tusk` command that starts with no `deno` on
 * PATH either, with the `tusk` task's permissions (never more than read, write, env and run)
 * and V8 flags.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "../_helpers.ts";
import {
  InstallError,
  installRoot,
  pinDeno,
  taskEnv,
  taskFlags,
  upFlags,
} from "../../scripts/install.ts";

const DENO_DIR = (JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stdout: "piped" })
      .output()).stdout,
  ),
) as { denoDir: string }).denoDir;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * How this machine reaches the npm registry, if it says: the certificate authorities Deno is
 * told to trust and the proxies. `deno install -g` may fetch a package's registry entry that
 * the cache lacks, and a user's install has these too.
 */
const NETWORK_ENV = Object.fromEntries(
  [
    "DENO_CERT",
    "DENO_TLS_CA_STORE",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "NPM_CONFIG_REGISTRY",
  ].flatMap((name) => {
    const value = Deno.env.get(name);
    return value === undefined ? [] : [[name, value]];
  }),
);

/**
 * Run `program` with exactly `env` (plus Deno's cache, so nothing is downloaded again, and
 * how the machine reaches the registry): nothing else of the caller's environment, PATH
 * included, leaks in.
 */
async function run(
  program: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<Run> {
  const r = await new Deno.Command(program, {
    args,
    cwd,
    clearEnv: true,
    env: { DENO_DIR, ...NETWORK_ENV, NO_COLOR: "1", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** An empty folder to serve as PATH: no `deno` (nor anything else) on it. */
async function noDenoPath(dir: string): Promise<string> {
  const path = `${dir}/empty-bin`;
  await Deno.mkdir(path);
  return path;
}

/** `deno task install <args>` from the checkout, as a user with `env` runs it. */
async function installTask(args: string[], env: Record<string, string>): Promise<Run> {
  const r = await run(Deno.execPath(), ["task", "--quiet", "install", ...args], env, ROOT);
  assert.equal(r.code, 0, `deno task install ${args.join(" ")}:\n${r.stderr}${r.stdout}`);
  return r;
}

Deno.test("deno task install with no deno on PATH gives a tusk that starts with no deno on PATH", async () => {
  await using dir = await tempDir();
  const PATH = await noDenoPath(dir.path);
  const root = `${dir.path}/root`;
  const r = await installTask([], { PATH, DENO_INSTALL_ROOT: root, HOME: `${dir.path}/home` });
  const v = await run(`${root}/bin/tusk`, ["--version"], { PATH }, dir.path);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, "0.1.0\n");
  assert.match(r.stdout, new RegExp(`^Installed tusk: ${root}/bin/tusk$`, "m"));
  assert.ok(r.stdout.includes(`export PATH="${root}/bin:$PATH"`), r.stdout);
});

Deno.test("deno task install with only HOME set puts tusk in ~/.deno/bin", async () => {
  await using dir = await tempDir();
  const PATH = await noDenoPath(dir.path);
  const home = `${dir.path}/home`;
  const r = await installTask([], { PATH, HOME: home });
  assert.match(r.stdout, new RegExp(`^Installed tusk: ${home}/.deno/bin/tusk$`, "m"));
  const v = await run(`${home}/.deno/bin/tusk`, ["--version"], { PATH, HOME: home }, home);
  assert.equal(v.code, 0, v.stderr);
  assert.equal(v.stdout, "0.1.0\n");
});

Deno.test("deno task install --root DIR says nothing about PATH when DIR/bin is on it", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  const r = await installTask(["--root", root], { PATH: `${root}/bin` });
  assert.match(r.stdout, new RegExp(`^Installed tusk: ${root}/bin/tusk$`, "m"));
  assert.doesNotMatch(r.stdout, /export PATH/);
});

Deno.test("tusk installed with no deno on PATH runs a pipeline and doctor", async () => {
  await using dir = await tempDir();
  const PATH = await noDenoPath(dir.path);
  const root = `${dir.path}/root`;
  await installTask(["--root", root], { PATH });
  const shim = `${root}/bin/tusk`;
  // --allow-net is the tusk task's, for S3 remotes; stages never get it (they run with flags
  // of their own, in their own sandbox).
  assert.doesNotMatch(
    await Deno.readTextFile(shim),
    /--allow-sys|--allow-ffi|--allow-all|\s-A\s/,
  );
  const work = `${dir.path}/work`;
  await Deno.mkdir(work);
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.ts`, `${work}/upper.ts`);
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.json`, `${work}/upper.json`);
  await Deno.writeTextFile(`${work}/a.txt`, "quiet\n");
  const tusk = async (...args: string[]) => {
    const r = await run(shim, args, { PATH }, work);
    assert.equal(r.code, 0, `tusk ${args.join(" ")}:\n${r.stderr}${r.stdout}`);
    return r.stdout;
  };
  await tusk("init");
  await tusk("create", "repo", "data");
  await tusk("create", "pipeline", "-f", "upper.json");
  await tusk("put", "file", "data@master:/a.txt", "-f", "a.txt");
  assert.equal(await tusk("get", "file", "upper@master:/a.txt"), "QUIET\n");
  assert.match(await tusk("doctor"), /^Sandbox: (bwrap|deno) /m);
  assert.match(await tusk("up", "--help"), /headless/);
});

Deno.test("the installed tusk runs with the tusk task's flags, and tusk up with the up task's V8 flags and environment", async () => {
  await using dir = await tempDir();
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as {
    tasks: Record<string, { command: string }>;
  };
  const v8 = (command: string | undefined) =>
    (command ?? "").split(/\s+/).filter((w) => w.startsWith("--v8-flags="));
  const [upV8] = v8(config.tasks.up?.command);
  const [tuskV8] = v8(config.tasks.tusk?.command);
  assert.ok(upV8 && tuskV8, "the up and tusk tasks set V8 flags");
  const root = `${dir.path}/root`;
  await installTask(["--root", root], { PATH: await noDenoPath(dir.path) });
  const shim = await Deno.readTextFile(`${root}/bin/tusk`);
  const exec = shim.split("\n").find((l) => l.startsWith("exec "));
  assert.ok(exec, shim);
  assert.ok(exec.startsWith(`exec '${Deno.execPath()}' run `), exec);
  for (const flag of taskFlags(config).filter((f) => f !== tuskV8)) {
    assert.ok(exec.includes(` ${flag} `), `${flag}: ${exec}`);
  }
  // What the shell runs, as it traces it: `up` gets the up task's flag, the rest the tusk task's.
  const traced = async (args: string[]) => {
    const PATH = `${dir.path}/empty-bin`;
    const r = await run("/bin/sh", ["-x", `${root}/bin/tusk`, ...args], { PATH }, dir.path);
    const line = r.stderr.split("\n").find((l) => l.startsWith("+ exec "));
    assert.ok(line, `no exec traced:\n${r.stderr}`);
    return { r, line };
  };
  const up = await traced(["up", "--help"]);
  assert.equal(up.r.code, 0, up.r.stderr);
  assert.match(up.r.stdout, /headless/);
  assert.ok(up.line.includes(` ${upV8} `), up.line);
  // The environment the up task sets (its leading NAME=value words) is exported for `up` alone.
  const upEnv = taskEnv(config, "up");
  assert.ok(upEnv.length > 0, "the up task sets malloc's environment");
  const exported = (stderr: string) =>
    stderr.split("\n").filter((l) => l.startsWith("+ export ")).join(" ");
  for (const w of upEnv) assert.ok(exported(up.r.stderr).includes(w), up.r.stderr);
  for (const args of [["list", "repo", "--help"], ["--help"]]) {
    const other = await traced(args);
    assert.equal(other.r.code, 0, other.r.stderr);
    assert.ok(other.line.includes(` ${tuskV8} `), other.line);
    if (upV8 !== tuskV8) assert.ok(!other.line.includes(upV8), other.line);
    assert.equal(exported(other.r.stderr), "", other.r.stderr);
  }
});

Deno.test("deno task install with an unknown argument exits 2 and installs nothing", async () => {
  await using dir = await tempDir();
  const root = `${dir.path}/root`;
  const r = await run(
    Deno.execPath(),
    ["task", "--quiet", "install", "--rot", root],
    { PATH: await noDenoPath(dir.path), DENO_INSTALL_ROOT: root },
    ROOT,
  );
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^install: Unknown argument "--rot"/m);
  await assert.rejects(Deno.stat(root), Deno.errors.NotFound);
});

Deno.test("installRoot() takes --root, then DENO_INSTALL_ROOT, then HOME/.deno", () => {
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.equal(installRoot(["--root", "/r"], env({ DENO_INSTALL_ROOT: "/d" })), "/r");
  assert.equal(installRoot(["--root=/r/"], env({})), "/r");
  assert.equal(installRoot([], env({ DENO_INSTALL_ROOT: "/d", HOME: "/h" })), "/d");
  assert.equal(installRoot([], env({ HOME: "/h" })), "/h/.deno");
  assert.equal(installRoot(["--root", "r"], env({ INIT_CWD: "/from" })), "/from/r");
});

Deno.test("installRoot() refuses an empty --root and a missing HOME with exit code 2", () => {
  const none = () => undefined;
  for (const args of [["--root="], [], ["--root"]]) {
    assert.throws(
      () => installRoot(args, none),
      (e: unknown) => e instanceof InstallError && e.exitCode === 2,
      JSON.stringify(args),
    );
  }
});

Deno.test("pinDeno() names the Deno binary in the shim, quoted for the shell", () => {
  const shim =
    "#!/bin/sh\n# generated by deno install\nexec deno run --allow-read 'file:///x/main.ts' \"$@\"\n";
  assert.equal(
    pinDeno(shim, "/opt/it's here/deno"),
    "#!/bin/sh\n# generated by deno install\nexec '/opt/it'\\''s here/deno' run --allow-read 'file:///x/main.ts' \"$@\"\n",
  );
});

Deno.test("pinDeno() refuses a shim that is not the expected script, with exit code 1", () => {
  for (const shim of ["#!/bin/sh\nexec /usr/bin/deno run x\n", "@echo off\r\ndeno run x\r\n"]) {
    assert.throws(
      () => pinDeno(shim, "/deno"),
      (e: unknown) => e instanceof InstallError && e.exitCode === 1,
    );
  }
});

Deno.test("taskFlags() gives the tusk task's flags and refuses a task granting -A", () => {
  const flags = taskFlags({ tasks: { tusk: { command: "deno run --allow-read -q main.ts" } } });
  assert.deepEqual(flags, ["--allow-read", "-q"]);
  for (const command of ["deno run -A main.ts", "deno run --allow-all main.ts", "deno x.ts"]) {
    assert.throws(
      () => taskFlags({ tasks: { tusk: { command } } }),
      (e: unknown) => e instanceof InstallError && e.exitCode === 1,
    );
  }
});

Deno.test("taskEnv() gives the NAME=value words a task's command starts with, and none when it sets none", () => {
  const config = {
    tasks: { a: "A_1=x B=2 deno run C=3 main.ts", b: { command: "deno run main.ts" } },
  };
  assert.deepEqual(taskEnv(config, "a"), ["A_1=x", "B=2"]);
  assert.deepEqual(taskEnv(config, "b"), []);
  assert.deepEqual(taskEnv(config, "missing"), []);
});

Deno.test("upFlags() leaves a shim alone when both tasks share the flag, and refuses one that does not pass it once", () => {
  const shim = "#!/bin/sh\nexec '/d' run --allow-read --v8-flags=--a=8 'file:///m.ts' \"$@\"";
  assert.equal(upFlags(shim, "--v8-flags=--a=8", "--v8-flags=--a=8"), shim);
  const both = upFlags(shim, "--v8-flags=--a=8", "--v8-flags=--a=1");
  assert.match(
    both,
    /^case "\$1" in up\) v8='--v8-flags=--a=1' ;; \*\) v8='--v8-flags=--a=8' ;; esac$/m,
  );
  assert.match(both, /^exec '\/d' run --allow-read "\$v8" 'file:\/\/\/m.ts' "\$@"$/m);
  const env = upFlags(shim, "--v8-flags=--a=8", "--v8-flags=--a=8", ["A_B=1", "C=x y"]);
  assert.match(
    env,
    /^case "\$1" in up\) v8='--v8-flags=--a=8'; export A_B='1' C='x y' ;; \*\) v8='--v8-flags=--a=8' ;; esac$/m,
  );
  for (
    const bad of [
      shim.replace(" --v8-flags=--a=8", ""),
      shim.replace("--a=8", "--a=8 --v8-flags=--a=8"),
    ]
  ) {
    assert.throws(
      () => upFlags(bad, "--v8-flags=--a=8", "--v8-flags=--a=1"),
      (e) =>
        e instanceof InstallError && e.exitCode === 1 &&
        /does not pass --v8-flags=--a=8 once/.test(e.message),
    );
  }
});
