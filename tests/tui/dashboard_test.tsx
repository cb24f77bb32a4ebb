/**
 * Dashboard frames rendered to a string with ink-testing-library: an empty store, a
 * running job's progress bar, a failed job's error, a cron pipeline's next tick, and a
 * history of 10,000 jobs of which only a window of rows is drawn.
 */
import assert from "node:assert/strict";
import { render } from "ink-testing-library";
import { Dashboard, topWanted } from "../../tui/components/dashboard.tsx";
import { barCells } from "../../tui/components/progress_bar.ts";
import { computeLayout } from "../../tui/layout.ts";
import type { FeedItem, Limits, Snapshot, ViewState } from "../../tui/view.ts";
import { initialState, reduce } from "../../tui/state.ts";
import { selectedIndex, windowStart } from "../../tui/select.ts";
import { at, history, jobEvents, jobId } from "./_events.ts";
import { plain } from "./_render.ts";

const SNAPSHOT: Snapshot = {
  takenAt: at(0),
  repos: [{ name: "data", size: 2048, head: "494ab522deadbeef", headTime: at(0), created: at(0) }],
  pipelines: [{
    name: "upper",
    paused: false,
    inputs: [{ name: "data", repo: "data", kind: "pfs" }],
  }],
};

function view(
  items: readonly FeedItem[],
  options: { snapshot?: Snapshot; limits?: Partial<Limits> } = {},
) {
  let s = initialState({ scheduler: "running in this process (pid 1)", ...options });
  s = reduce(s, { kind: "snapshot", snapshot: options.snapshot ?? SNAPSHOT });
  return reduce(s, { kind: "feed", items });
}

/** Render the dashboard for `state` on a `width` × `height` screen; returns the plain frame. */
function frame(
  state: ViewState,
  options: {
    width?: number;
    height?: number;
    now?: number;
    start?: number;
    cronNext?: Map<string, number>;
    /** The frame as written, escape codes and all (the theme has no colour). */
    raw?: boolean;
  } = {},
): string {
  const layout = computeLayout(
    { width: options.width ?? 120, height: options.height ?? 36 },
    { topWanted: topWanted(state), panel: state.panel },
  );
  const start = options.start ??
    windowStart(0, selectedIndex(state), layout.jobRows, state.order.length);
  const r = render(
    <Dashboard
      view={state}
      layout={layout}
      listStart={start}
      now={options.now ?? Date.parse(at(60_000))}
      cronNext={options.cronNext ?? new Map()}
      store="/tmp/store/.tusk"
      sandbox="deno (test)"
      theme={{ color: false }}
    />,
  );
  const text = options.raw ? r.lastFrame() ?? "" : plain(r.lastFrame());
  r.unmount();
  r.cleanup();
  return text;
}

Deno.test("Dashboard shows an empty store with hints and the keys", () => {
  const s = reduce(initialState({ scheduler: "running in this process (pid 1)" }), {
    kind: "snapshot",
    snapshot: { takenAt: at(0), repos: [], pipelines: [] },
  });
  const f = frame(s);
  assert.match(f, /tusk up {2}store \/tmp\/store\/\.tusk {2}scheduler: running in this process/);
  assert.match(f, /sandbox: deno \(test\)/);
  assert.match(f, /no repos yet/);
  assert.match(f, /no pipelines yet/);
  assert.match(f, /no jobs yet/);
  assert.match(
    f,
    /↑\/↓ select {2}enter inspect {2}l logs {2}esc close {2}r re-run {2}s stop {2}q quit/,
  );
  assert.equal(f.split("\n").length, 36);
});

Deno.test("Dashboard shows repos and the DAG from the snapshot", () => {
  const f = frame(view([]));
  assert.match(f, /data +2 KiB +494ab522 +1m ago/);
  assert.match(f, /data → upper/);
});

Deno.test("Dashboard shows a running job with its progress bar, counts and rate", () => {
  const s = view(jobEvents(1, { datums: 10, running: true, finishedDatums: 4 }));
  const started = Date.parse(s.jobs.get(jobId(1))!.started!);
  const f = frame(s, { now: started + 2000 });
  const row = f.split("\n").find((l) => l.includes(jobId(1).slice(0, 12)))!;
  assert.ok(row, f);
  assert.match(row, /▸ 000000000001 upper/);
  const cells = barCells({ total: 10, processed: 4, skipped: 0, failed: 0 }, 24, false);
  assert.ok(row.includes("█".repeat(cells.processed) + "░".repeat(cells.rest)), row);
  assert.match(row, /4\+0\/10/);
  assert.match(row, /2\.0\/s/);
  assert.match(row, /2\.0s running/);
  assert.match(f, /jobs: 1 active \/ 1/);
});

Deno.test("Dashboard shows a failed job with its error, and its datums when inspected", () => {
  let s = view(jobEvents(1, { datums: 3, failed: 1 }));
  const row = frame(s).split("\n").find((l) => l.includes("000000000001"))!;
  assert.match(row, /✗1/);
  assert.match(row, /failure +1 datum\(s\) failed/);
  s = reduce(s, { kind: "panel", panel: "inspect" });
  const f = frame(s);
  assert.match(f, /JOB 000000000001 {2}upper {2}failure {2}2 processed, 0 skipped, 1 failed of 3/);
  assert.match(f, /reason: 1 datum\(s\) failed; datum 000003ea/);
  assert.match(f, /000003ea failed .*data:\/f2 {2}Stage exited with code 1/);
  assert.match(f, /error: bad input f2/);
});

Deno.test("Dashboard shows the log tail alone with l", () => {
  const s = reduce(view(jobEvents(1, { datums: 3 })), { kind: "panel", panel: "logs" });
  const f = frame(s);
  assert.match(f, /upper f0 \(6 bytes\)/);
  assert.match(f, /upper f2 \(6 bytes\)/);
  assert.doesNotMatch(f, /success +0\.1s/);
});

Deno.test("Dashboard shows a cron pipeline with the time to its next tick", () => {
  const snapshot: Snapshot = {
    takenAt: at(0),
    repos: [],
    pipelines: [{
      name: "ticker",
      paused: false,
      inputs: [{ name: "tick", repo: "ticker_tick", kind: "cron", spec: "@every 10s" }],
    }],
  };
  const now = Date.parse(at(60_000));
  const f = frame(view([], { snapshot }), {
    now,
    cronNext: new Map([["ticker/tick", now + 4000]]),
  });
  assert.match(f, /cron ticker_tick → ticker/);
  assert.match(f, /cron ticker_tick {2}@every 10s {2}→ ticker {2}next tick in 4s/);
});

Deno.test("Dashboard draws only a window of rows from 10,000 jobs, around the selection", () => {
  const s = view(history(10_000), { limits: { maxJobs: 10_000 } });
  assert.equal(s.order.length, 10_000);
  const layout = computeLayout({ width: 120, height: 36 }, {
    topWanted: topWanted(s),
    panel: "none",
  });
  const rows = (f: string) => f.split("\n").filter((l) => /^[▸ ] [0-9a-f]{12} /.test(l));
  const first = frame(s);
  assert.equal(first.split("\n").length, 36);
  assert.equal(rows(first).length, layout.jobRows);
  assert.match(rows(first)[0]!, /^▸ 000000002710 /);
  assert.match(first, /JOBS {2}1–\d+ of 10,000/);
  // Select job 5,000 from the top: the window moves to it and still holds jobRows rows.
  const moved = reduce(s, { kind: "move", delta: 5_000 });
  const start = windowStart(0, selectedIndex(moved), layout.jobRows, moved.order.length);
  const f = frame(moved, { start });
  assert.equal(rows(f).length, layout.jobRows);
  const selected = rows(f).filter((l) => l.startsWith("▸"));
  assert.equal(selected.length, 1);
  assert.match(selected[0]!, new RegExp(`^▸ ${jobId(5_000).slice(0, 12)} `));
});

Deno.test("Dashboard says how far the journal's history is replayed, until it is", () => {
  const progress = (read: number, done: boolean): FeedItem => ({
    type: "tui:replay",
    time: at(0),
    read,
    size: 2000,
    done,
  });
  const replaying = view([...history(3), progress(900, false)]);
  assert.match(frame(replaying).split("\n")[0]!, /replaying history 45 %/);
  const replayed = reduce(replaying, { kind: "feed", items: [progress(2000, true)] });
  assert.doesNotMatch(frame(replayed), /replaying/);
});

Deno.test("Dashboard lays out a 70 × 20 terminal without overflowing it", () => {
  const s = reduce(view(history(50)), { kind: "panel", panel: "inspect" });
  const f = frame(s, { width: 70, height: 20 });
  const lines = f.split("\n");
  assert.equal(lines.length, 20);
  assert.ok(lines.every((l) => l.length <= 70), lines.find((l) => l.length > 70));
  assert.match(f, /JOB 000000000032/);
});

Deno.test("Dashboard without colour writes no colour codes", () => {
  const r = render(
    <Dashboard
      view={view(jobEvents(1, { datums: 3, failed: 1 }))}
      layout={computeLayout({ width: 100, height: 24 }, { topWanted: 2, panel: "none" })}
      listStart={0}
      now={Date.parse(at(60_000))}
      cronNext={new Map()}
      store="/s"
      sandbox="deno"
      theme={{ color: false }}
    />,
  );
  const f = r.lastFrame() ?? "";
  r.unmount();
  r.cleanup();
  // deno-lint-ignore no-control-regex
  assert.doesNotMatch(f, /\x1b\[(3[0-9]|4[0-9]|9[0-7]|10[0-7])(;[0-9]+)*m/);
});

Deno.test("Dashboard notes the skipped datums a live job has no rows for", () => {
  const events = jobEvents(1, { datums: 1 });
  const done = events[events.length - 1]!;
  assert.equal(done.type, "job:state");
  const skipped = {
    ...done,
    time: at(9_999),
    progress: { total: 3, processed: 1, skipped: 2, failed: 0, recovered: 0 },
  };
  const s = reduce(view([...events, skipped]), { kind: "panel", panel: "inspect" });
  const f = frame(s);
  assert.match(f, /1 processed, 2 skipped, 0 failed of 3/);
  assert.match(f, /\+ 2 skipped: output reused from earlier jobs/);
});

/** What a hostile stage prints: a window title (OSC … BEL), CSI sequences, CR, a C1 CSI. */
const HOSTILE = "\x1b]0;pwned\x07\x1b[31mred\x1b[2J\rspoofed\u009b1m";

Deno.test("Dashboard shows a hostile stage's reason, log, datum message and names escaped", () => {
  const job = jobId(1);
  const datum = "d".repeat(32);
  let s = view([
    ...jobEvents(1, { datums: 0, running: true }),
    {
      type: "datum:started",
      time: at(2000),
      job,
      pipeline: "upper",
      datum,
      inputs: ["data:/invoice\u202Efdp.exe", "data:/a\u200Bb"],
    },
    {
      type: "stage:log",
      time: at(2001),
      job,
      pipeline: "upper",
      datum,
      stream: "stderr",
      line: HOSTILE,
    },
    {
      type: "datum:finished",
      time: at(2002),
      job,
      pipeline: "upper",
      datum,
      state: "FAILED",
      durationMs: 5,
      message: `Stage exited with code 1: ${HOSTILE}`,
    },
    {
      type: "job:state",
      time: at(2003),
      job,
      pipeline: "upper",
      state: "FAILURE",
      reason: `1 datum(s) failed: ${HOSTILE}`,
      progress: { total: 1, processed: 0, skipped: 0, failed: 1, recovered: 0 },
    },
  ]);
  s = reduce(s, {
    kind: "message",
    text: `Cannot re-run job: ${HOSTILE}`,
    time: Date.parse(at(60_000)),
  });
  for (const panel of ["none", "inspect", "logs"] as const) {
    const shown = panel === "none" ? s : reduce(s, { kind: "panel", panel });
    const f = frame(shown, { raw: true, width: 200, height: 40 });
    // Without colour Ink writes bold and inverse codes only: a colour would be the stage's.
    for (const code of ["\x1b]", "\x07", "\x1b[2J", "\x1b[31m", "\r", "\x9b", "\u202e", "\u200b"]) {
      assert.ok(!f.includes(code), `${panel}: ${JSON.stringify(code)}`);
    }
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(plain(f), /[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    assert.ok(plain(f).includes("Cannot re-run job: \\u001b]0;pwned\\u0007"), f);
  }
  const inspect = frame(reduce(s, { kind: "panel", panel: "inspect" }), { width: 200, height: 40 });
  assert.ok(inspect.includes('"data:/invoice\\u202efdp.exe" "data:/a\\u200bb"'), inspect);
  assert.ok(inspect.includes("reason: 1 datum(s) failed: \\u001b]0;pwned\\u0007"), inspect);
  assert.ok(inspect.includes("dddddddd \\u001b]0;pwned\\u0007\\u001b[31mred"), inspect);
});

Deno.test("Dashboard's footer says which damaged job record was skipped and what to do", () => {
  const file = `/tmp/store/.tusk/jobs/upper/${jobId(1)}.json`;
  const s = view([], {
    snapshot: { ...SNAPSHOT, jobs: [], damaged: [{ job: jobId(1), pipeline: "upper", file }] },
  });
  const text = frame(s, { width: 200 });
  const last = text.trimEnd().split("\n").at(-1)!;
  assert.match(last, /Skipped the damaged record of job 000000000001 of "upper": remove "/);
  assert.ok(last.includes(file), last);
  assert.match(last, /↑\/↓ select/, "the keys follow");
});
