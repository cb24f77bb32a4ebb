/**
 * Terminal injection through the real CLI: a hostile stage prints a window title (OSC …
 * BEL), CSI sequences, a carriage return and a C1 CSI, and writes outputs whose names hold
 * a bidi override and a zero-width space. Every surface that shows what came from it —
 * the reason printed by `create pipeline` and `put file`, `inspect job`, `list job`,
 * `logs`, `list file` — prints it escaped; `logs --raw` and `--json` give it exactly.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempStore, TUSK_PERMS } from "../_helpers.ts";
import { ok, tusk } from "./_cli.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;
/** What the stage prints after "stdout " or "stderr ". */
const HOSTILE = "\x1b]0;pwned\x07\x1b[31mred\x1b[2J\rspoofed\u009b1m";
/** `HOSTILE` as tusk prints it. */
const ESCAPED = "\\u001b]0;pwned\\u0007\\u001b[31mred\\u001b[2J\\rspoofed\\u009b1m";

/** Fail when `text` holds a control or invisible character other than a line break. */
function assertPrintable(text: string, what: string): void {
  const bad = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.exec(text.replaceAll("\n", ""));
  assert.equal(bad, null, `${what} holds U+${bad?.[0].codePointAt(0)?.toString(16)}: ${text}`);
}

Deno.test("what a hostile stage prints reaches the terminal only escaped", async (t) => {
  await using s = await tempStore();
  const opts = { store: s.store, cwd: s.path };
  await ok(["create", "repo", "data"], opts);
  await ok(["put", "file", "data@master:/in", "-f", "-"], { ...opts, stdin: "fail\n" });

  let jobId = "";
  await t.step("create pipeline prints the failed job's reason escaped", async () => {
    const r = await tusk(["create", "pipeline", "-f", `${STAGES}/hostile_print.json`], opts);
    assert.equal(r.code, 0, r.stderr);
    assertPrintable(r.stdout + r.stderr, "create pipeline");
    assert.match(r.stderr, /ended FAILURE: .*stderr \\u001b\]0;pwned\\u0007/);
    jobId = /job ([0-9a-f]{32}) of pipeline hostile/.exec(r.stderr)![1]!;
  });

  await t.step("inspect job prints the reason escaped, --json exactly", async () => {
    const r = await ok(["inspect", "job", jobId], opts);
    assertPrintable(r.stdout, "inspect job");
    assert.ok(r.stdout.includes(`Reason: 1 datum(s) failed`), r.stdout);
    assert.ok(r.stdout.includes(`stderr ${ESCAPED}`), r.stdout);
    const j = JSON.parse((await ok(["inspect", "job", jobId, "--json"], opts)).stdout);
    assert.ok(j.reason.endsWith(`stderr ${HOSTILE}`), j.reason);
  });

  await t.step("list job and list datum print nothing raw", async () => {
    for (const args of [["list", "job"], ["list-job"], ["list", "datum", jobId]]) {
      const r = await ok(args, opts);
      assertPrintable(r.stdout, args.join(" "));
      assert.match(r.stdout, /hostile|failed/);
    }
  });

  await t.step("logs prints stage output escaped, --raw as it was, --json exactly", async () => {
    const escaped = (await ok(["logs", "--job", jobId], opts)).stdout;
    assertPrintable(escaped, "logs");
    assert.equal(escaped, `stdout ${ESCAPED}\nstderr ${ESCAPED}\n`);
    const raw = (await ok(["logs", "--job", jobId, "--raw"], opts)).stdout;
    assert.equal(raw, `stdout ${HOSTILE}\nstderr ${HOSTILE}\n`);
    const lines = (await ok(["logs", "--job", jobId, "--json"], opts)).stdout.trimEnd().split("\n");
    assert.deepEqual(lines.map((l) => JSON.parse(l).line), [
      `stdout ${HOSTILE}`,
      `stderr ${HOSTILE}`,
    ]);
  });

  await t.step("put file prints the reason of the job it triggered escaped", async () => {
    const r = await tusk(["put", "file", "data@master:/in2", "-f", "-"], { ...opts, stdin: "x\n" });
    assert.equal(r.code, 0, r.stderr);
    assertPrintable(r.stdout + r.stderr, "put file");
    assert.ok(r.stderr.includes(`stderr ${ESCAPED}`), r.stderr);
  });

  await t.step("list file shows output names with invisible characters quoted", async () => {
    await ok(["put", "file", "data@master:/in", "-f", "-"], { ...opts, stdin: "ok\n" });
    const r = await ok(["list", "file", "hostile@master"], opts);
    assertPrintable(r.stdout, "list file");
    assert.ok(r.stdout.includes('"/invoice\\u202efdp.exe"'), r.stdout);
    assert.ok(r.stdout.includes('"/a\\u200bb"'), r.stdout);
    const files = JSON.parse((await ok(["list", "file", "hostile@master", "--json"], opts)).stdout);
    assert.deepEqual(files.map((f: { path: string }) => f.path).sort(), [
      "/a\u200Bb",
      "/invoice\u202Efdp.exe",
    ]);
    const old = await ok(["list-file", "hostile", "master"], opts);
    assert.ok(old.stdout.includes('"/invoice\\u202efdp.exe"'), old.stdout);
  });
});

Deno.test("an error naming what the user typed prints it escaped", async () => {
  await using s = await tempStore();
  const opts = { store: s.store, cwd: s.path };
  const r = await tusk(["inspect", "repo", "x\x1b]0;pwned\x07"], opts);
  assert.equal(r.code, 2);
  assertPrintable(r.stderr, "the error");
  assert.ok(r.stderr.includes("x\\u001b]0;pwned\\u0007"), r.stderr);
  await ok(["create", "repo", "data"], opts);
  const missing = await tusk(["get", "file", "data@master:/a\u202Eb"], opts);
  assert.notEqual(missing.code, 0);
  assertPrintable(missing.stderr, "the error");
});

Deno.test("a commit message with control characters prints escaped in list and inspect commit", async () => {
  await using s = await tempStore();
  const opts = { store: s.store, cwd: s.path };
  await ok(["create", "repo", "data"], opts);
  await ok(["put", "file", "data@master:/a", "-f", "-", "-m", `two\nlines ${HOSTILE}`], {
    ...opts,
    stdin: "a",
  });
  const list = await ok(["list", "commit", "data@master"], opts);
  assertPrintable(list.stdout, "list commit");
  assert.ok(list.stdout.includes(`two\\nlines ${ESCAPED}`), list.stdout);
  const inspect = await ok(["inspect", "commit", "data@master"], opts);
  assertPrintable(inspect.stdout, "inspect commit");
  assert.ok(inspect.stdout.includes(`Description: two\\nlines ${ESCAPED}`), inspect.stdout);
});

Deno.test("put file -r --skip-special names a skipped file escaped", async () => {
  await using s = await tempStore();
  const opts = { store: s.store, cwd: s.path };
  await ok(["create", "repo", "data"], opts);
  await Deno.mkdir(`${s.path}/src`);
  await Deno.writeTextFile(`${s.path}/src/a`, "a");
  await Deno.symlink("a", `${s.path}/src/l\x1b[2J`);
  const r = await ok(["put", "file", "data@master:/", "-r", "-f", "src", "--skip-special"], opts);
  assertPrintable(r.stderr, "put file");
  assert.ok(r.stderr.includes('skipped "'), r.stderr);
  assert.ok(r.stderr.includes("l\\u001b[2J"), r.stderr);
});

Deno.test("tusk up --headless prints a hostile job's reason escaped in its event lines", async () => {
  await using s = await tempStore();
  const opts = { store: s.store, cwd: s.path };
  await ok(["create", "repo", "data"], opts);
  await ok(["put", "file", "data@master:/in", "-f", "-"], { ...opts, stdin: "fail\n" });
  await ok(["create", "pipeline", "--no-wait", "-f", `${STAGES}/hostile_print.json`], opts);
  const up = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
    env: { TUSK_STORE: s.store, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  try {
    for (let i = 0; i < 600; i++) {
      const [job] = JSON.parse((await ok(["list", "job", "--json"], opts)).stdout);
      if (job?.state === "FAILURE") break;
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    up.kill("SIGINT");
    const out = await up.output();
    text = new TextDecoder().decode(out.stdout);
  }
  assertPrintable(text, "tusk up --headless");
  const failed = text.split("\n").find((l) => l.includes('"state":"FAILURE"'));
  assert.ok(failed, text);
  // The event stays JSON: the escapes are JSON's, so it reads back to the stage's very text.
  const event = JSON.parse(failed.slice(failed.indexOf("{")));
  assert.ok(event.reason.endsWith(`stderr ${HOSTILE}`), event.reason);
});
