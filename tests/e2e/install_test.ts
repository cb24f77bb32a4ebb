/**
 * `deno task install`: `deno install -g` into a temporary root gives a `tusk` command that
 * works, with the permissions the task grants and no more than read, write, env and run.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "../_helpers.ts";

const DENO_BIN_DIR = Deno.execPath().slice(0, Deno.execPath().lastIndexOf("/"));

/** The install task's command, split into words (it holds no quotes). */
async function installTask(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as {
    tasks: Record<string, { command: string }>;
  };
  const command = config.tasks.install?.command;
  assert.ok(command, "deno.json has an install task");
  return command.split(/\s+/);
}

async function run(program: string, args: string[], env: Record<string, string>, cwd: string) {
  const r = await new Deno.Command(program, {
    args,
    cwd,
    env: { ...env, NO_COLOR: "1", TUSK_STORE: "", INIT_CWD: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: r.code, stdout: dec.decode(r.stdout), stderr: dec.decode(r.stderr) };
}

/** Run `words` (a `deno install -g …` command) with `--root root`; returns the shim's path. */
async function install(words: string[], root: string): Promise<string> {
  assert.deepEqual(words.slice(0, 3), ["deno", "install", "-g"]);
  const args = ["install", "-g", "--root", root, ...words.slice(3)];
  const env = { PATH: `${DENO_BIN_DIR}:/usr/bin:/bin`, DENO_INSTALL_ROOT: root };
  const r = await run(Deno.execPath(), args, env, ROOT);
  assert.equal(r.code, 0, `deno ${args.join(" ")}:\n${r.stderr}`);
  return `${root}/bin/tusk`;
}

Deno.test("deno task install's command installs a tusk that prints its version", async () => {
  await using dir = await tempDir();
  const words = await installTask();
  assert.ok(!words.some((w) => w === "-A" || w === "--allow-all"), "no -A");
  const shim = await install(words, `${dir.path}/root`);
  const env = { PATH: `${DENO_BIN_DIR}:/usr/bin:/bin` };
  const r = await run(shim, ["--version"], env, dir.path);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "0.1.0\n");
});

Deno.test("tusk installed with read, write, env and run only runs a pipeline and doctor", async () => {
  await using dir = await tempDir();
  const words = (await installTask()).filter((w) => w !== "--allow-sys");
  const shim = await install(words, `${dir.path}/root`);
  const shimText = await Deno.readTextFile(shim);
  assert.doesNotMatch(shimText, /--allow-sys|--allow-net|--allow-ffi|--allow-all|\s-A\s/);
  const work = `${dir.path}/work`;
  await Deno.mkdir(work);
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.ts`, `${work}/upper.ts`);
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.json`, `${work}/upper.json`);
  await Deno.writeTextFile(`${work}/a.txt`, "quiet\n");
  const env = { PATH: `${DENO_BIN_DIR}:/usr/bin:/bin` };
  const tusk = async (...args: string[]) => {
    const r = await run(shim, args, env, work);
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

Deno.test("the installed tusk starts with the up task's V8 flags (the dashboard's memory)", async () => {
  await using dir = await tempDir();
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)) as {
    tasks: Record<string, { command: string }>;
  };
  const v8 = (command: string | undefined) =>
    (command ?? "").split(/\s+/).filter((w) => w.startsWith("--v8-flags="));
  const flags = v8(config.tasks.up?.command);
  assert.ok(flags.length > 0, "the up task sets V8 flags");
  assert.deepEqual(v8(config.tasks.tusk?.command), flags, "deno task tusk uses the same");
  const shim = await Deno.readTextFile(await install(await installTask(), `${dir.path}/root`));
  for (const flag of flags) assert.ok(shim.includes(flag), `the shim passes ${flag}:\n${shim}`);
});
