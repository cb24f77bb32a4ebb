/**
 * `tusk up` in a real terminal (a tmux pane): a job committed from another process shows up
 * live, the keys open its datums and log, a resize re-lays out, and every way out — `q`,
 * Ctrl-C, SIGINT, a component that throws — restores the terminal. Without a terminal it
 * prints plain lines; with NO_COLOR it prints no colour.
 */
import assert from "node:assert/strict";
import { REPLAY_CHUNK_BYTES } from "../../tui/feed.ts";
import { MAIN, ROOT, tempStore, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { history, jobId } from "./_events.ts";
import { colourCodes, Pane, tuskUpLine } from "./_tmux.ts";

const UPPER = `${ROOT}/tests/fixtures/stages/upper.json`;
const NAP = `${ROOT}/tests/fixtures/stages/nap.json`;

/** A store with repo `data` and pipeline `upper` (no job yet). */
async function upperStore() {
  const s = await tempStore();
  await tuskOk(["create", "repo", "data"], { store: s.store });
  await tuskOk(["create", "pipeline", "-f", UPPER, "--no-wait"], { store: s.store });
  return s;
}

async function putFile(store: string, dir: string, name: string, text: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/${name}`, text);
  await tuskOk(["put", "file", `data@master:/${name}`, "-f", `${dir}/${name}`], { store });
}

/** Start `tusk up` in the pane and wait for the dashboard's first frame with the DAG. */
async function startUp(
  pane: Pane,
  store: string,
  env: Record<string, string> = {},
): Promise<string> {
  await pane.run(tuskUpLine(store, { env }));
  return await pane.waitFor(
    (s) => s.includes("data → upper") && s.includes("q quit"),
    "the dashboard",
    20_000,
  );
}

/** The terminal is back to the shell: main screen, cursor shown, prompt, no dashboard left. */
async function assertRestored(pane: Pane): Promise<string> {
  const screen = await pane.waitFor((s) => /EXIT=\d+\s*\nPROMPT>/.test(s), "the prompt after exit");
  assert.equal(await pane.display("#{alternate_on}"), "0", "left the alternate screen");
  assert.equal(await pane.display("#{cursor_flag}"), "1", "the cursor is shown");
  assert.doesNotMatch(screen, /q quit|JOBS|PIPELINES/, "no dashboard leftovers");
  return screen;
}

/** The terminal's line discipline is back in canonical mode with echo. */
async function assertCooked(pane: Pane): Promise<void> {
  await pane.run(
    `echo "modes: $(stty -a | tr ' ' '\\n' | grep -E -x -- '-?(icanon|echo)' | tr '\\n' ' ')STTY-$((6*7))"`,
  );
  const screen = await pane.waitFor((s) => s.includes("STTY-42"), "stty");
  assert.match(screen, /modes: icanon echo STTY-42/);
}

Deno.test({
  name: "tusk up shows a job committed from another process live, and q restores the terminal",
  sanitizeResources: false,
  async fn(t) {
    await using s = await upperStore();
    await using pane = await Pane.open(120, 36);
    await startUp(pane, s.store);
    await pane.waitFor((x) => x.includes("running in this process"), "the scheduler state");

    await t.step("a put file shows its job within 1 s, with progress and final state", async () => {
      await putFile(s.store, s.path, "a.txt", "hello\n");
      const t0 = Date.now();
      await pane.waitFor((x) => /▸ [0-9a-f]{12} upper/.test(x), "the job row", 1000);
      const screen = await pane.waitFor((x) => /1\+0\/1 .* success/.test(x), "success", 5000);
      const ms = Date.now() - t0;
      assert.match(screen, /█{24} +1\+0\/1 /);
      console.log(`job shown and finished ${ms} ms after put file returned`);
    });

    await t.step("↓ and enter open the older job's datums and log", async () => {
      await putFile(s.store, s.path, "b.txt", "world\n");
      await pane.waitFor((x) => (x.match(/ success/g) ?? []).length === 2, "the second job");
      await pane.keys("Down");
      await pane.waitFor((x) => /▸ [0-9a-f]{12} upper .*1\+0\/1/.test(x), "the older job selected");
      await pane.keys("Enter");
      const screen = await pane.waitFor((x) => /upper a\.txt \(6 bytes\)/.test(x), "its log");
      assert.match(
        screen,
        /JOB [0-9a-f]{12} {2}upper {2}success {2}1 processed, 0 skipped, 0 failed of 1/,
      );
      assert.match(screen, /[0-9a-f]{8} success +\d+\.\ds +data:\/a\.txt/);
      await pane.keys("l");
      await pane.waitFor((x) => !/success +\d+\.\ds +data:\/a\.txt/.test(x), "the log panel");
      await pane.keys("Escape");
      await pane.waitFor((x) => !x.includes("JOB "), "the panel closed");
    });

    await t.step("a resize to 70 × 20 re-lays out without a crash", async () => {
      await pane.resize(70, 20);
      const screen = await pane.waitFor(
        (x) =>
          x.split("\n").every((l) => l.length <= 70) && x.includes("q quit") && x.includes("JOBS"),
        "the 70-column layout",
      );
      assert.doesNotMatch(screen, /EXIT=/);
      await pane.keys("Enter");
      await pane.waitFor((x) => x.includes("JOB "), "the panel at 70 × 20");
      await pane.resize(120, 36);
      await pane.waitFor((x) => x.split("\n").some((l) => l.length > 70), "the 120-column layout");
    });

    await t.step("q exits with status 0 and restores the terminal", async () => {
      await pane.keys("q");
      assert.equal(await pane.exitStatus(), 0);
      await assertRestored(pane);
      await assertCooked(pane);
      await assert.rejects(Deno.stat(`${s.store}/scheduler.json`), Deno.errors.NotFound);
    });
  },
});

Deno.test({
  name: "tusk up takes each of several keys tmux sends at once: jj and kk move twice, jq quits",
  sanitizeResources: false,
  async fn() {
    await using s = await upperStore();
    for (const name of ["a.txt", "b.txt", "c.txt"]) await putFile(s.store, s.path, name, "x\n");
    await using pane = await Pane.open(120, 36);
    await startUp(pane, s.store);
    await pane.waitFor((x) => /▸ [0-9a-f]{12} upper .*1\+2\/3/.test(x), "the newest job selected");
    await pane.keys("jj");
    await pane.waitFor((x) => /▸ [0-9a-f]{12} upper .*1\+0\/1/.test(x), "the oldest job selected");
    await pane.keys("kk");
    await pane.waitFor((x) => /▸ [0-9a-f]{12} upper .*1\+2\/3/.test(x), "the newest again");
    await pane.keys("jq");
    assert.equal(await pane.exitStatus(), 0);
    await assertRestored(pane);
  },
});

for (
  const [how, interrupt] of [
    ["SIGINT", async (pane: Pane) => {
      const pid = await pane.childPid();
      assert.ok(pid, "the pid of tusk up");
      Deno.kill(pid, "SIGINT");
    }],
    ["Ctrl-C", (pane: Pane) => pane.keys("C-c")],
  ] as const
) {
  Deno.test({
    name: `tusk up exits 0 and restores the terminal on ${how}`,
    sanitizeResources: false,
    async fn() {
      await using s = await upperStore();
      await using pane = await Pane.open(120, 36);
      await startUp(pane, s.store);
      await interrupt(pane);
      assert.equal(await pane.exitStatus(), 0);
      await assertRestored(pane);
      await assertCooked(pane);
    },
  });
}

Deno.test({
  name: "tusk up restores the terminal and prints the error when a component throws",
  sanitizeResources: false,
  async fn() {
    await using s = await upperStore();
    await using pane = await Pane.open(120, 36);
    await pane.run(
      tuskUpLine(s.store, { env: { TUSK_TUI_CRASH_TEST: "1" }, unset: ["NO_COLOR", "CI"] }),
    );
    assert.equal(await pane.exitStatus(20_000), 70);
    const screen = await assertRestored(pane);
    assert.match(screen, /TUSK_TUI_CRASH_TEST is set: a dashboard component threw on purpose/);
    assert.match(screen, /internal error/);
    await assertCooked(pane);
    await assert.rejects(Deno.stat(`${s.store}/scheduler.json`), Deno.errors.NotFound);
  },
});

Deno.test({
  name: "tusk up with stdout not a terminal prints plain lines without escape codes",
  sanitizeResources: false,
  async fn() {
    await using s = await upperStore();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up"],
      env: { TUSK_STORE: s.store, TERM: "xterm-256color" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      try {
        await Deno.stat(`${s.store}/scheduler.json`);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    await putFile(s.store, s.path, "a.txt", "hello\n");
    await new Promise((r) => setTimeout(r, 1000));
    child.kill("SIGINT");
    const out = await child.output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.ok(!text.includes("\x1b"), "no escape codes");
    assert.match(text, /^tusk up: store /);
    assert.match(text, /job:state .*"state":"SUCCESS"/);
    assert.match(text, /tusk up: stopped\n$/);
  },
});

Deno.test({
  name: "tusk up writes colour on a terminal, and none with NO_COLOR=1",
  sanitizeResources: false,
  async fn() {
    await using s = await upperStore();
    await putFile(s.store, s.path, "a.txt", "hello\n");
    for (const noColor of [false, true]) {
      await using pane = await Pane.open(120, 36);
      await startUp(pane, s.store, noColor ? { NO_COLOR: "1" } : {});
      await pane.waitFor((x) => / success/.test(x), "the finished job");
      const codes = colourCodes(await pane.capture({ escapes: true }));
      if (noColor) assert.deepEqual(codes, []);
      else assert.ok(codes.length > 0, "colour codes without NO_COLOR");
      await pane.keys("q");
      assert.equal(await pane.exitStatus(), 0);
    }
  },
});

Deno.test({
  name: "tusk up attaches to the event journal when another process holds the lease",
  sanitizeResources: false,
  async fn() {
    await using s = await upperStore();
    const daemon = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
      env: { TUSK_STORE: s.store, NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        try {
          await Deno.stat(`${s.store}/scheduler.json`);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      await using pane = await Pane.open(120, 36);
      await startUp(pane, s.store);
      await pane.waitFor((x) => x.includes(`attached to pid ${daemon.pid}`), "the attached state");
      await putFile(s.store, s.path, "a.txt", "hello\n");
      const t0 = Date.now();
      await pane.waitFor((x) => /1\+0\/1 .* success/.test(x), "the job from the journal", 3000);
      console.log(
        `attached dashboard showed the finished job ${Date.now() - t0} ms after put file`,
      );
      await pane.keys("q");
      assert.equal(await pane.exitStatus(), 0);
      await assertRestored(pane);
      await Deno.stat(`${s.store}/scheduler.json`);
    } finally {
      daemon.kill("SIGINT");
      await daemon.status;
    }
  },
});

Deno.test({
  name:
    "tusk up attached to a scheduler that dies takes over: it resumes that one's job and runs new ones",
  sanitizeResources: false,
  async fn() {
    await using s = await upperStore();
    const store = s.store;
    await tuskOk(["create", "pipeline", "-f", NAP, "--no-wait"], { store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], {
      store,
      stdin: "a\n",
    });
    const daemon = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
      env: { TUSK_STORE: store, NO_COLOR: "1" },
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let dead = false;
    try {
      await using pane = await Pane.open(120, 36);
      await startUp(pane, store);
      await pane.waitFor((x) => x.includes(`attached to pid ${daemon.pid}`), "the attached state");
      // The daemon dies in the middle of the nap job, as a crash or kill -9 leaves it.
      const deadline = Date.now() + 30_000;
      while (!(await Deno.readTextFile(`${store}/events.jsonl`)).includes("nap started")) {
        if (Date.now() > deadline) throw new Error("the nap stage never started");
        await new Promise((r) => setTimeout(r, 50));
      }
      daemon.kill("SIGKILL");
      await daemon.status;
      dead = true;
      const me = await pane.childPid();
      await pane.waitFor(
        (x) => x.includes(`running in this process (pid ${me})`),
        "the dashboard taking over",
        15_000,
      );
      const doctor = JSON.parse((await tuskOk(["doctor", "--json"], { store })).stdout);
      assert.match(doctor.scheduler, new RegExp(`\\b${me}\\b`), doctor.scheduler);
      // The job the dead scheduler was running is resumed here, and a new commit runs too.
      await putFile(store, s.path, "b.txt", "b\n");
      const jobs = async (p: string) =>
        JSON.parse((await tuskOk(["list", "job", "-p", p, "--json"], { store })).stdout) as {
          state: string;
          restart: number;
        }[];
      const until = Date.now() + 40_000;
      while (true) {
        const [nap, upper] = [await jobs("nap"), await jobs("upper")];
        if (nap.length === 2 && nap.every((j) => j.state === "SUCCESS") && upper.length === 2) {
          assert.equal(nap.at(-1)!.restart, 1, "the dead scheduler's job was resumed");
          assert.ok(upper.every((j) => j.state === "SUCCESS"));
          break;
        }
        if (Date.now() > until) throw new Error(`jobs did not finish: ${JSON.stringify(nap)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal((await tuskOk(["get", "file", "nap@master:/b.txt"], { store })).stdout, "B\n");
      await pane.keys("q");
      assert.equal(await pane.exitStatus(), 0);
      await assertRestored(pane);
    } finally {
      if (!dead) {
        daemon.kill("SIGKILL");
        await daemon.status;
      }
    }
  },
});

Deno.test({
  name: "tusk up replays a journal many pieces long and selects its newest job",
  sanitizeResources: false,
  async fn() {
    await using s = await tempStore();
    const events = history(2_000, { datums: 2 });
    await Deno.writeTextFile(
      `${s.store}/events.jsonl`,
      events.map((e) => JSON.stringify(e) + "\n").join(""),
    );
    assert.ok((await Deno.stat(`${s.store}/events.jsonl`)).size > 16 * REPLAY_CHUNK_BYTES);
    await using pane = await Pane.open(120, 36);
    await pane.run(tuskUpLine(s.store));
    const screen = await pane.waitFor(
      (x) => x.includes(`▸ ${jobId(2_000).slice(0, 12)}`) && !x.includes("replaying"),
      "the newest job",
      30_000,
    );
    // The rows kept are bounded (DEFAULT_LIMITS.maxJobs); every job replayed is counted.
    assert.match(screen, /JOBS {2}1–\d+ of 1,000 \(2,000 seen, oldest not kept\)/);
    await pane.keys("Down");
    await pane.waitFor((x) => x.includes(`▸ ${jobId(1_999).slice(0, 12)}`), "the move");
    await pane.keys("q");
    assert.equal(await pane.exitStatus(), 0);
    await assertRestored(pane);
  },
});

interface JobJson {
  id: string;
  state: string;
  started?: string;
  finished?: string;
  restart: number;
  rerunOf?: string;
  reprocess?: boolean;
}

async function listJobs(store: string): Promise<JobJson[]> {
  return JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout);
}

Deno.test({
  name:
    "tusk up: r re-runs a finished job as a new job, and says why it cannot re-run an older one",
  sanitizeResources: false,
  async fn(t) {
    await using s = await upperStore();
    await putFile(s.store, s.path, "a.txt", "hello\n");
    const [first] = await listJobs(s.store);
    assert.equal(first?.state, "SUCCESS");
    await using pane = await Pane.open(120, 36);
    await startUp(pane, s.store);
    await pane.waitFor((x) => / success/.test(x), "the finished job");

    await t.step("r on the newest job runs a new job on the same inputs", async () => {
      await pane.keys("r");
      await pane.waitFor(
        (x) => x.includes(`Re-running job ${first!.id.slice(0, 12)} as a new job`),
        "the footer's answer",
      );
      await pane.waitFor((x) => (x.match(/ success/g) ?? []).length === 2, "the new job's row");
      const jobs = await listJobs(s.store);
      assert.equal(jobs.length, 2);
      const [again, old] = jobs;
      assert.equal(again!.rerunOf, first!.id);
      assert.equal(again!.reprocess, true);
      assert.equal(again!.state, "SUCCESS");
      // The old job's DURATION and RESTART are as they were.
      assert.deepEqual(old, first);
    });

    await t.step("r on the older job says why it cannot be re-run", async () => {
      await pane.keys("Down");
      await pane.waitFor(
        (x) => x.includes(`▸ ${first!.id.slice(0, 12)}`),
        "the older job selected",
      );
      await pane.keys("r");
      const screen = await pane.waitFor(
        (x) => x.includes(`Cannot re-run job ${first!.id.slice(0, 12)}`),
        "the refusal",
      );
      assert.match(screen, /job [0-9a-f]{12} of pipeline "upper" is newer \(re-run that one\)/);
      assert.equal((await listJobs(s.store)).length, 2, "no job was added");
    });

    await t.step("the footer's message goes away by itself, and the keys show again", async () => {
      const screen = await pane.waitFor(
        (x) => !x.includes("Cannot re-run job"),
        "the message to expire",
        15_000,
      );
      assert.match(screen, /esc close {2}r re-run {2}s stop {2}q quit/);
    });

    await pane.keys("q");
    assert.equal(await pane.exitStatus(), 0);
  },
});

Deno.test({
  name: "tusk up shows a hostile stage's output escaped: the terminal's title stays as it was",
  sanitizeResources: false,
  async fn() {
    await using s = await tempStore();
    const opts = { store: s.store };
    await tuskOk(["create", "repo", "data"], opts);
    await tuskOk(["put", "file", "data@master:/in", "-f", "-"], { ...opts, stdin: "fail\n" });
    await tuskOk(
      ["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/hostile_print.json`],
      opts,
    );
    await using pane = await Pane.open(160, 40);
    const title = await pane.display("#{pane_title}");
    await pane.run(tuskUpLine(s.store));
    await pane.waitFor((x) => x.includes("q quit") && / failure/.test(x), "the failed job");
    await pane.keys("Enter");
    const screen = await pane.waitFor(
      (x) => x.includes("stderr \\u001b]0;pwned\\u0007\\u001b[31mred\\u001b[2J\\rspoofed"),
      "the escaped log line",
    );
    assert.match(screen, /reason: 1 datum\(s\) failed.*\\u001b\]0;pwned/);
    assert.equal(await pane.display("#{pane_title}"), title, "the stage did not set the title");
    await pane.keys("q");
    assert.equal(await pane.exitStatus(), 0);
  },
});
