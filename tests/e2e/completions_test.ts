/**
 * `tusk completions bash|zsh|fish` and `tusk __complete`: the scripts complete the command
 * tree of both grammars and, by calling back a `tusk` on PATH, names from the store.
 * bash is driven through its completion function with COMP_WORDS / COMP_CWORD; zsh and
 * fish run when installed.
 */
import assert from "node:assert/strict";
import { MAIN, tempDir, tempStore, TUSK_PERMS } from "../_helpers.ts";
import { assertFails, ok, tusk } from "./_cli.ts";

/** A folder holding a `tusk` wrapper that runs this checkout's main.ts. */
async function tuskOnPath(dir: string): Promise<string> {
  const bin = `${dir}/bin`;
  await Deno.mkdir(bin, { recursive: true });
  await Deno.writeTextFile(
    `${bin}/tusk`,
    `#!/bin/sh\nexec '${Deno.execPath()}' run --quiet ${TUSK_PERMS.join(" ")} '${MAIN}' "$@"\n`,
  );
  await Deno.chmod(`${bin}/tusk`, 0o755);
  return bin;
}

/** True when `program` runs here. */
async function installed(program: string): Promise<boolean> {
  try {
    const r = await new Deno.Command(program, { args: ["-c", "exit 0"], stdout: "null" }).output();
    return r.success;
  } catch {
    return false;
  }
}

/** A store with repos `training` and `attributes` (branch `dev` too) and pipeline `upper`. */
async function fixture() {
  const s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], o);
  await ok(["create", "repo", "attributes"], o);
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", "training@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  await ok(["create", "branch", "training@dev", "--head", "master"], o);
  await ok([
    "create",
    "pipeline",
    "--no-wait",
    "-f",
    `${new URL("../fixtures/stages/upper.json", import.meta.url).pathname}`,
  ], o);
  const bin = await tuskOnPath(s.path);
  const env = { PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`, TUSK_STORE: s.store };
  return { ...s, bin, env };
}

async function run(
  program: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<string> {
  const r = await new Deno.Command(program, {
    args,
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(cwd ? { cwd } : {}),
  }).output();
  const dec = new TextDecoder();
  assert.equal(r.code, 0, `${program} ${args.join(" ")}:\n${dec.decode(r.stderr)}`);
  return dec.decode(r.stdout);
}

/**
 * What bash's `_tusk` puts in COMPREPLY for `words` (the last is the word being typed),
 * called as bash calls it: COMP_WORDS, COMP_CWORD, COMP_LINE and COMP_POINT set.
 */
async function bashComplete(words: string[], env: Record<string, string>): Promise<string[]> {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const script = [
    "source <(tusk completions bash)",
    `COMP_WORDS=(${quoted})`,
    `COMP_CWORD=${words.length - 1}`,
    `COMP_LINE=${`'${words.join(" ")}'`}`,
    "COMP_POINT=${#COMP_LINE}",
    "_tusk",
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join("\n");
  const out = await run("bash", ["-c", script], env);
  return out.split("\n").filter((l) => l !== "");
}

Deno.test("bash completes the command tree and names from the store", async (t) => {
  await using s = await fixture();

  await t.step('"tusk cre" gives the create commands of both grammars', async () => {
    assert.deepEqual(
      (await bashComplete(["tusk", "cre"], s.env)).sort(),
      ["create", "create-branch", "create-pipeline", "create-repo"],
    );
  });

  await t.step('"tusk list file tra" gives the repo name training', async () => {
    assert.deepEqual(await bashComplete(["tusk", "list", "file", "tra"], s.env), ["training"]);
  });

  await t.step('"tusk list-file training " gives its branches', async () => {
    assert.deepEqual(await bashComplete(["tusk", "list-file", "training", ""], s.env), [
      "dev",
      "master",
    ]);
  });

  await t.step('"tusk inspect pipeline " and "tusk list job -p " give pipelines', async () => {
    assert.deepEqual(await bashComplete(["tusk", "inspect", "pipeline", ""], s.env), ["upper"]);
    assert.deepEqual(await bashComplete(["tusk", "list", "job", "-p", ""], s.env), ["upper"]);
  });

  await t.step('"tusk list job --j" gives its options, "tusk --sandbox " the modes', async () => {
    assert.deepEqual(await bashComplete(["tusk", "list", "job", "--j"], s.env), ["--json"]);
    assert.deepEqual(await bashComplete(["tusk", "--sandbox", ""], s.env), [
      "auto",
      "deno",
      "bwrap",
    ]);
  });

  await t.step(
    '"tusk metrics " gives its commands, and their refs complete repo names',
    async () => {
      assert.deepEqual((await bashComplete(["tusk", "metrics", ""], s.env)).sort(), [
        "diff",
        "help",
        "show",
      ]);
      assert.deepEqual(await bashComplete(["tusk", "metrics", "show", "tra"], s.env), ["training"]);
      assert.deepEqual(await bashComplete(["tusk", "metrics", "diff", "tra"], s.env), ["training"]);
      assert.deepEqual(await bashComplete(["tusk", "plo"], s.env), ["plots"]);
      assert.deepEqual(await bashComplete(["tusk", "plots", "tra"], s.env), ["training"]);
    },
  );

  await t.step("the hidden helper is not offered", async () => {
    assert.deepEqual(await bashComplete(["tusk", "__"], s.env), []);
  });
});

Deno.test("tusk __complete prints names one per line, and nothing without a store", async () => {
  await using s = await fixture();
  assert.equal(
    (await ok(["__complete", "repos"], { store: s.store })).stdout,
    [
      "attributes",
      "data",
      "training",
      "upper",
      "",
    ].join("\n"),
  );
  assert.equal(
    (await ok(["__complete", "branches", "training"], { store: s.store })).stdout,
    "dev\nmaster\n",
  );
  assert.equal((await ok(["__complete", "pipelines"], { store: s.store })).stdout, "upper\n");
  await using dir = await tempDir();
  const r = await tusk(["__complete", "repos"], { cwd: dir.path, initCwd: dir.path });
  assert.deepEqual([r.code, r.stdout, r.stderr], [0, "", ""]);
});

Deno.test("tusk completions refuses an unknown shell with a usage error", async () => {
  const r = await tusk(["completions", "tcsh"]);
  assertFails(r, 2, /Invalid shell "tcsh"/, /bash, zsh, fish/, /run "tusk --help" for usage/);
});

Deno.test({
  name: "fish completes commands, refs and pipelines",
  ignore: !(await installed("fish")),
  fn: async () => {
    await using s = await fixture();
    const script = await ok(["completions", "fish"]);
    const file = `${s.path}/tusk.fish`;
    await Deno.writeTextFile(file, script.stdout);
    const complete = async (line: string) =>
      (await run("fish", ["-c", `source '${file}'; complete -C '${line}'`], s.env))
        .split("\n").filter((l) => l !== "").map((l) => l.split("\t")[0]!);
    assert.deepEqual((await complete("tusk cre")).sort(), [
      "create",
      "create-branch",
      "create-pipeline",
      "create-repo",
    ]);
    assert.deepEqual(await complete("tusk list file tra"), ["training"]);
    assert.deepEqual((await complete("tusk list file training@")).sort(), [
      "training@dev",
      "training@master",
    ]);
    assert.deepEqual(await complete("tusk plan "), ["upper"]);
  },
});

Deno.test({
  name: "zsh's candidate function completes commands, refs and pipelines",
  ignore: !(await installed("zsh")),
  fn: async () => {
    await using s = await fixture();
    const file = `${s.path}/tusk.zsh`;
    await Deno.writeTextFile(file, (await ok(["completions", "zsh"])).stdout);
    const candidates = async (...words: string[]) =>
      (await run(
        "zsh",
        [
          "-fc",
          `compdef() { :; }; source '${file}'; _tusk_candidates ${
            words.map((w) => `'${w}'`).join(" ")
          }`,
        ],
        s.env,
        s.path,
      )).split("\n").filter((l) => l !== "" && !l.startsWith("__"));
    assert.deepEqual(await candidates("list", "file", "tra"), ["training"]);
    assert.deepEqual(await candidates("list", "file", "training@m"), ["training@master"]);
    assert.deepEqual(await candidates("inspect", "pipeline", ""), ["upper"]);
  },
});
