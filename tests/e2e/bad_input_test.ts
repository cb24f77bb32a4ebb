/**
 * Bad input through the real CLI: each case gets one clear message naming the culprit on
 * stderr, a non-zero exit code (2 for usage, names and paths; 1 for not found and bad
 * sources) and leaves the store byte-for-byte as it was.
 */
import assert from "node:assert/strict";
import type { TuskResult } from "../_helpers.ts";
import { MAIN, snapshotStore, tempDir, tempStore, TUSK_PERMS } from "../_helpers.ts";
import { assertFails, DATA, ok, rows, tusk, tuskJsonArgs } from "./_cli.ts";

/** A store with repo `training` holding /iris.csv, and a scratch folder `src` beside it. */
async function fixture() {
  const s = await tempStore();
  const opts = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "training"], opts);
  await ok(["put", "file", "training@master", "-f", `${DATA}/iris.csv`], opts);
  const src = `${s.path}/src`;
  await Deno.mkdir(`${src}/sub`, { recursive: true });
  await Deno.writeTextFile(`${src}/a.csv`, "1,2,3,4\n");
  await Deno.writeTextFile(`${src}/sub/b.csv`, "5,6,7,8\n");
  return { ...s, src, opts };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

interface BadCase {
  /** What is wrong, for the test's name. */
  readonly name: string;
  /** Make the bad input (a symlink, a FIFO…) before the run. */
  readonly setup?: (f: Fixture) => Promise<void>;
  readonly run: (f: Fixture) => Promise<TuskResult>;
  readonly code: 1 | 2;
  /** Patterns the one message must match: the culprit's name, a hint. */
  readonly says: readonly RegExp[];
}

async function sh(cmd: string, ...args: string[]): Promise<void> {
  const r = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/**
 * Run `tusk <script>` through `sh`, so an argument can hold bytes that are not UTF-8
 * (written with `printf` escapes), which a Deno string cannot.
 */
async function tuskSh(script: string, f: Fixture): Promise<TuskResult> {
  const r = await new Deno.Command("sh", {
    args: [
      "-c",
      `exec "$0" run --quiet ${TUSK_PERMS.join(" ")} "$1" ${script}`,
      Deno.execPath(),
      MAIN,
    ],
    cwd: f.path,
    env: { NO_COLOR: "1", TUSK_STORE: f.store, INIT_CWD: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
    stdoutBytes: r.stdout,
  };
}

const cases: BadCase[] = [
  {
    name: 'a repo name with "/"',
    run: (f) => tusk(["create", "repo", "a/b"], f.opts),
    code: 2,
    says: [/Invalid repo name "a\/b"/, /"\/"/],
  },
  {
    name: "a repo name with a space",
    run: (f) => tusk(["create-repo", "my repo"], f.opts),
    code: 2,
    says: [/Invalid repo name "my repo"/, /" "/],
  },
  {
    name: "a repo name of 64 characters",
    run: (f) => tusk(["create", "repo", "r".repeat(64)], f.opts),
    code: 2,
    says: [new RegExp(`"${"r".repeat(64)}"`), /64 characters/, /at most 63/],
  },
  {
    name: "creating a repo that exists",
    run: (f) => tusk(["create", "repo", "training"], f.opts),
    code: 1,
    says: [/Repo "training" already exists/],
  },
  {
    name: "an unknown repo (suggests the nearest name)",
    run: (f) => tusk(["list", "file", "trainig@master"], f.opts),
    code: 1,
    says: [/Cannot find repo "trainig"/, /did you mean "training"\?/],
  },
  {
    name: "an unknown repo in the 1.8 grammar (suggests the nearest name)",
    run: (f) => tusk(["put-file", "trainig", "master", "-c", "-f", `${DATA}/iris.csv`], f.opts),
    code: 1,
    says: [/Cannot find repo "trainig"/, /did you mean "training"\?/],
  },
  {
    name: "an unknown branch",
    run: (f) => tusk(["list", "file", "training@nope"], f.opts),
    code: 1,
    says: [/"nope"/, /"training"/],
  },
  {
    name: "deleting an unknown branch",
    run: (f) => tusk(["delete", "branch", "training@nope"], f.opts),
    code: 1,
    says: [/Cannot find branch "nope" in repo "training"/],
  },
  {
    name: "an unknown commit id",
    run: (f) => tusk(["inspect", "commit", `training@${"0".repeat(64)}`], f.opts),
    code: 1,
    says: [new RegExp(`"${"0".repeat(64)}"`), /"training"/],
  },
  {
    name: "an unknown commit id prefix",
    run: (f) => tusk(["get", "file", "training@deadbeef:/iris.csv"], f.opts),
    code: 1,
    says: [/"deadbeef"/],
  },
  {
    name: 'a path with ".." (put)',
    run: (f) => tusk(["put", "file", "training@master:/a/../b.csv", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Invalid path "\/a\/\.\.\/b\.csv"/, /"\.\."/],
  },
  {
    name: 'a path with ".." (get)',
    run: (f) => tusk(["get-file", "training", "master", "../iris.csv"], f.opts),
    code: 2,
    says: [/Invalid path "\.\.\/iris\.csv"/],
  },
  {
    name: "a path with a NUL byte (put)",
    run: (f) =>
      tuskJsonArgs(["put-file", "training", "master", "a\0b.csv", "-f", `${f.src}/a.csv`], f.store),
    code: 2,
    says: [/Invalid path "a\\u0000b\.csv"/, /NUL/],
  },
  {
    name: "a path with a NUL byte (get)",
    run: (f) => tuskJsonArgs(["get", "file", "training@master:/iris.csv\0"], f.store),
    code: 2,
    says: [/Invalid path "\/iris\.csv\\u0000"/, /NUL/],
  },
  {
    name: 'a path with an empty segment ("a//b")',
    run: (f) => tusk(["put", "file", "training@master:a//b", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Invalid path "a\/\/b"/, /empty segment/],
  },
  {
    name: "a path with a name longer than 255 bytes",
    run: (f) =>
      tusk(["put", "file", `training@master:/${"n".repeat(256)}`, "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Invalid path/, /longer than 255 bytes/],
  },
  {
    name: "-f on a missing file",
    run: (f) => tusk(["put", "file", "training@master", "-f", "missing.csv"], f.opts),
    code: 1,
    says: [/Cannot read "missing\.csv"/, /no such file/],
  },
  {
    name: "a symlink inside put file -r",
    setup: (f) => Deno.symlink(`${f.src}/a.csv`, `${f.src}/sub/link.csv`),
    run: (f) => tusk(["put", "file", "training@master", "-r", "-f", "src"], f.opts),
    code: 1,
    says: [/"sub\/link\.csv"/, /symlink/, /--skip-special/],
  },
  {
    name: "a FIFO inside put file -r",
    setup: (f) => sh("mkfifo", `${f.src}/sub/pipe`),
    run: (f) => tusk(["put-file", "training", "master", "-c", "-r", "-f", "src"], f.opts),
    code: 1,
    says: [/"sub\/pipe"/, /FIFO/],
  },
  {
    name: "a file name that is not valid UTF-8 inside put file -r",
    setup: (f) => sh("sh", "-c", `printf x > "$0/sub/$(printf 'a\\377.csv')"`, f.src),
    run: (f) => tusk(["put", "file", "training@master", "-r", "-f", "src"], f.opts),
    code: 1,
    says: [/"sub\/a\uFFFD\.csv"/, /not valid UTF-8/],
  },
  {
    name: "a path that is not valid UTF-8 (put)",
    run: (f) => tuskSh(`put file "training@master:/$(printf 'x\\377.csv')" -f src/a.csv`, f),
    code: 2,
    says: [/Invalid path "\/x\uFFFD\.csv"/, /U\+FFFD/],
  },
  {
    name: "create branch with an ancestry reference (training@HEAD~1)",
    run: (f) => tusk(["create", "branch", "training@HEAD~1"], f.opts),
    code: 2,
    says: [/"HEAD~1"/, /ancestry/],
  },
  {
    name: 'create branch with "^" and --head (would move master)',
    run: (f) => tusk(["create", "branch", "training@master^", "--head", "master"], f.opts),
    code: 2,
    says: [/"master\^"/, /ancestry/],
  },
  {
    name: "delete branch with an ancestry reference (would delete master)",
    run: (f) => tusk(["delete", "branch", "training@master^"], f.opts),
    code: 2,
    says: [/"master\^"/, /ancestry/],
  },
  {
    name: "delete file with an ancestry reference (would delete from master)",
    run: (f) => tusk(["delete", "file", "training@master~1:/iris.csv"], f.opts),
    code: 2,
    says: [/"master~1"/, /ancestry/],
  },
  {
    name: 'create branch named "HEAD"',
    run: (f) => tusk(["create", "branch", "training@HEAD"], f.opts),
    code: 2,
    says: [/"HEAD"/, /reserved/],
  },
  {
    name: "a device (-f /dev/null)",
    run: (f) => tusk(["put", "file", "training@master:/null", "-f", "/dev/null"], f.opts),
    code: 1,
    says: [/"\/dev\/null"/, /device/],
  },
  {
    name: "get file of a folder without -r",
    setup: (f) => ok(["put", "file", "training@master:/more", "-r", "-f", "src"], f.opts).then(),
    run: (f) => tusk(["get", "file", "training@master:/more"], f.opts),
    code: 2,
    says: [/"\/more" is a folder/, /-r/],
  },
  {
    name: "put to the root path",
    run: (f) => tusk(["put", "file", "training@master:/", "-f", "-"], { ...f.opts, stdin: "x" }),
    code: 2,
    says: [/folder path "\/"/, /give a file path/],
  },
  {
    name: "put to the root path in the 1.8 grammar",
    run: (f) => tusk(["put-file", "training", "master", "/", "-f", "-"], { ...f.opts, stdin: "x" }),
    code: 2,
    says: [/folder path "\/"/],
  },
  {
    name: "an unknown option (suggests the nearest one)",
    run: (f) => tusk(["put", "file", "training@master:/x", "-f", "src/a.csv", "--apend"], f.opts),
    code: 2,
    says: [/Unknown option "--apend" for "tusk put file"/, /did you mean "--append"\?/],
  },
  {
    name: "an unknown short option in a group of flags",
    run: (f) => tusk(["put-file", "training", "master", "x", "-cz", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Unknown option "-z" for "tusk put-file"/],
  },
  {
    name: "a value given to a flag",
    run: (f) =>
      tusk(["put", "file", "training@master:/x", "-f", "src/a.csv", "--append=yes"], f.opts),
    code: 2,
    says: [/Option "--append" takes no value/],
  },
  {
    name: "an option missing its value",
    run: (f) => tusk(["put", "file", "training@master:/x", "-f"], f.opts),
    code: 2,
    says: [/Option "-f, --file <source\.\.\.>" needs a value/],
  },
  {
    name: "a missing argument (1.8 grammar)",
    run: (f) => tusk(["put-file", "training", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Missing argument <branch> of "tusk put-file <repo> <branch> \[path\]"/],
  },
  {
    name: "put file's target swallowed by -f's list of sources",
    run: (f) => tusk(["put", "file", "-f", "src/a.csv", "training@master"], f.opts),
    code: 2,
    says: [/Missing argument <repo@branch\[:\/path\]>/],
  },
  {
    name: "one argument too many",
    run: (f) => tusk(["create", "repo", "a", "b"], f.opts),
    code: 2,
    says: [/Unexpected argument "b" for "tusk create repo <repo>"/],
  },
  {
    name: "a missing required option",
    run: (f) => tusk(["revert", "training@master"], f.opts),
    code: 2,
    says: [/Missing required option "--to <commit>" for "tusk revert"/],
  },
  {
    name: "list commit -n that is not a whole number",
    run: (f) => tusk(["list", "commit", "training@master", "-n", "abc"], f.opts),
    code: 2,
    says: [/Invalid -n "abc": give a whole number of at least 1/],
  },
  {
    name: "list-commit -n 0 (1.8 grammar)",
    run: (f) => tusk(["list-commit", "training", "master", "-n", "0"], f.opts),
    code: 2,
    says: [/Invalid -n "0"/],
  },
  {
    name: "list job -n that is not a whole number",
    run: (f) => tusk(["list-job", "-n", "2.5"], f.opts),
    code: 2,
    says: [/Invalid -n "2\.5"/],
  },
  {
    name: 'inspect job "../../state" (a job id naming a file outside the job records)',
    run: (f) => tusk(["inspect", "job", "../../state"], f.opts),
    code: 2,
    says: [/Invalid job id "\.\.\/\.\.\/state"/, /prefix of at least 4/],
  },
  {
    name: 'stop job "" (an empty job id)',
    run: (f) => tusk(["stop", "job", ""], f.opts),
    code: 2,
    says: [/Invalid job id ""/],
  },
  {
    name: "stop job 0 (a job id prefix shorter than 4)",
    run: (f) => tusk(["stop", "job", "0"], f.opts),
    code: 2,
    says: [/Invalid job id "0"/, /at least 4/],
  },
  {
    name: 'stop job "../x"',
    run: (f) => tusk(["stop", "job", "../x"], f.opts),
    code: 2,
    says: [/Invalid job id "\.\.\/x"/],
  },
  {
    name: 'list datum "../../state"',
    run: (f) => tusk(["list", "datum", "../../state"], f.opts),
    code: 2,
    says: [/Invalid job id "\.\.\/\.\.\/state"/],
  },
  {
    name: 'logs --job "../../state"',
    run: (f) => tusk(["logs", "--job", "../../state"], f.opts),
    code: 2,
    says: [/Invalid job id "\.\.\/\.\.\/state"/],
  },
  {
    name: 'restart datum "../x"',
    run: (f) => tusk(["restart", "datum", "../x"], f.opts),
    code: 2,
    says: [/Invalid job id "\.\.\/x"/],
  },
  {
    name: 'inspect-job (1.8) "training@../x" (a pipeline and a bad id)',
    run: (f) => tusk(["inspect-job", "training@../x"], f.opts),
    code: 2,
    says: [/Invalid job id "\.\.\/x"/],
  },
  {
    name: "get file -o into a folder that does not exist",
    run: (f) => tusk(["get", "file", "training@master:/iris.csv", "-o", "missing/dir/x"], f.opts),
    code: 2,
    says: [/Cannot write ".*\/missing\/dir\/x": folder ".*\/missing\/dir" does not exist/],
  },
  {
    name: "get file -o naming a folder",
    run: (f) => tusk(["get", "file", "training@master:/iris.csv", "-o", "src"], f.opts),
    code: 2,
    says: [/Cannot write ".*\/src": it is a folder; give -o a file path/],
  },
  {
    name: "get-file (1.8) -o under a file",
    run: (f) => tusk(["get-file", "training", "master", "iris.csv", "-o", "src/a.csv/x"], f.opts),
    code: 2,
    says: [/Cannot write ".*\/src\/a\.csv\/x": a part of its path is a file/],
  },
  {
    name: "get file -r -o naming a file",
    run: (f) => tusk(["get", "file", "training@master:/", "-r", "-o", "src/a.csv"], f.opts),
    code: 2,
    says: [/Cannot write into ".*\/src\/a\.csv": it is a file, not a folder/],
  },
  {
    name: "an empty --store= (not taken as no --store)",
    run: (f) => tusk(["--store=", "create", "repo", "other"], f.opts),
    code: 2,
    says: [/Option "--store <dir>" cannot be empty/],
  },
  {
    name: 'logs --job "" (not taken as every job)',
    run: (f) => tusk(["logs", "--job", ""], f.opts),
    code: 2,
    says: [/Option "--job <id>" cannot be empty/],
  },
  {
    name: 'logs --pipeline "" (not taken as every pipeline)',
    run: (f) => tusk(["logs", "--pipeline="], f.opts),
    code: 2,
    says: [/Option "-p, --pipeline <name>" cannot be empty/],
  },
  {
    name: 'list job -p "" (not taken as every pipeline)',
    run: (f) => tusk(["list", "job", "-p", ""], f.opts),
    code: 2,
    says: [/Option "-p, --pipeline <name>" cannot be empty/],
  },
  {
    name: 'get file -o "" (not taken as standard output)',
    run: (f) => tusk(["get", "file", "training@master:/iris.csv", "-o", ""], f.opts),
    code: 2,
    says: [/Option "-o, --output <path>" cannot be empty/],
  },
  {
    name: 'put file -f "" (an empty source among others)',
    run: (f) => tusk(["put", "file", "training@master:/x", "-f", "src/a.csv", ""], f.opts),
    code: 2,
    says: [/Option "-f, --file <source\.\.\.>" cannot be empty/],
  },
  {
    name: "put-file (1.x) -o with --append, which contradict each other",
    run: (f) =>
      tusk(["put-file", "training", "master", "/x", "-o", "--append", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Options "-o, --overwrite" and "-a, --append" of "put-file" contradict each other/],
  },
  {
    name: "put-file (1.x) --overwrite with -a, which contradict each other",
    run: (f) =>
      tusk(
        ["put-file", "training", "master", "/x", "-a", "--overwrite", "-f", "src/a.csv"],
        f.opts,
      ),
    code: 2,
    says: [/Options "-o, --overwrite" and "-a, --append" of "put-file" contradict each other/],
  },
  {
    name: "an unknown $TUSK_SANDBOX mode (a typo, not taken as auto)",
    run: (f) =>
      tusk(["put", "file", "training@master:/x", "-f", "src/a.csv"], {
        ...f.opts,
        env: { TUSK_SANDBOX: "bwarp" },
      }),
    code: 2,
    says: [/Invalid \$TUSK_SANDBOX "bwarp": expected one of auto, deno, bwrap/],
  },
  {
    name: "create branch named like a commit id prefix (hex digits)",
    run: (f) => tusk(["create", "branch", "training@cafe"], f.opts),
    code: 2,
    says: [/Invalid branch name "cafe"/, /commit id prefix/],
  },
  {
    name: "create-branch (1.x) named like a commit id prefix",
    run: (f) => tusk(["create-branch", "training", "00b32468"], f.opts),
    code: 2,
    says: [/Invalid branch name "00b32468"/, /commit id prefix/],
  },
  {
    name: "put file making a branch named like a commit id prefix",
    run: (f) => tusk(["put", "file", "training@deadbeef:/x", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Invalid branch name "deadbeef"/, /commit id prefix/],
  },
  {
    name: "an unknown --sandbox mode",
    run: (f) =>
      tusk(["--sandbox", "docker", "put", "file", "training@master:/x", "-f", "src/a.csv"], f.opts),
    code: 2,
    says: [/Invalid --sandbox "docker": expected one of auto, deno, bwrap/],
  },
];

for (const c of cases) {
  Deno.test(`bad input: ${c.name} fails with exit ${c.code} and changes nothing`, async () => {
    await using f = await fixture();
    await c.setup?.(f);
    const before = await snapshotStore(f.store);
    const r = await c.run(f);
    assertFails(r, c.code, ...c.says);
    if (c.code === 2) assert.match(r.stderr, /run "tusk --help" for usage/);
    assert.equal(await snapshotStore(f.store), before, "the store is unchanged");
  });
}

Deno.test("bad input: --skip-special skips a symlink and a FIFO with a warning and puts the rest", async () => {
  await using f = await fixture();
  await Deno.symlink(`${f.src}/a.csv`, `${f.src}/link.csv`);
  await sh("mkfifo", `${f.src}/sub/pipe`);
  const r = await ok(
    ["put", "file", "training@master", "-r", "--skip-special", "-f", "src"],
    f.opts,
  );
  assert.match(r.stderr, /skipped "link\.csv"/);
  assert.match(r.stderr, /skipped "sub\/pipe"/);
  const files = rows((await ok(["glob", "file", "training@master:/src/**"], f.opts)).stdout);
  assert.deepEqual(files.slice(1).map((row) => row[0]), [
    "/src/a.csv",
    "/src/sub",
    "/src/sub/b.csv",
  ]);
});

Deno.test("bad input: no store found tells to run tusk init and exits 1", async () => {
  await using dir = await tempDir();
  const r = await tusk(["list", "repo"], { cwd: dir.path, initCwd: dir.path });
  assertFails(r, 1, /No tusk store/, new RegExp(`"${dir.path}"`), /run "tusk init"/);
  const legacy = await tusk(["create-repo", "x"], { cwd: dir.path });
  assertFails(legacy, 1, /run "tusk init"/);
  assert.deepEqual([...Deno.readDirSync(dir.path)], [], "nothing was created");
});

Deno.test("bad input: tusk init twice exits 1 and keeps the first store", async () => {
  await using dir = await tempDir();
  await ok(["init"], { cwd: dir.path, initCwd: dir.path });
  await ok(["create", "repo", "kept"], { cwd: dir.path });
  const before = await snapshotStore(`${dir.path}/.tusk`);
  const again = await tusk(["init"], { cwd: dir.path, initCwd: dir.path });
  assertFails(again, 1, new RegExp(`"${dir.path}/\\.tusk"`), /already exists/);
  assert.equal(await snapshotStore(`${dir.path}/.tusk`), before);
});
