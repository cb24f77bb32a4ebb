/** The dashboard's pure reducer: events and snapshots into the view, and its bounds. */
import assert from "node:assert/strict";
import type { JobRecord, TuskEvent } from "../../lib/mod.ts";
import {
  activeJobs,
  clockFace,
  elapsedMs,
  footerMessage,
  jobsWindow,
  ratePerSecond,
  selectedIndex,
  selectedJob,
  wantsRefresh,
  windowStart,
} from "../../tui/select.ts";
import { type FeedItem, MESSAGE_MS, type ViewState } from "../../tui/view.ts";
import { initialState, reduce } from "../../tui/state.ts";
import { at, datumId, history, jobEvents, jobId } from "./_events.ts";

function feed(state: ViewState, items: readonly FeedItem[]): ViewState {
  return reduce(state, { kind: "feed", items });
}

function record(n: number, overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    id: jobId(n),
    pipeline: "upper",
    version: 1,
    specHash: "s",
    codeHash: "c",
    inputs: [{ name: "data", repo: "data", branch: "master", commit: "c0ffee" }],
    trigger: "t",
    state: "SUCCESS",
    created: at(n * 1000),
    started: at(n * 1000 + 1),
    finished: at(n * 1000 + 500),
    restart: 0,
    progress: { total: 2, processed: 2, skipped: 0, failed: 0, recovered: 0 },
    datums: [],
    ...overrides,
  };
}

Deno.test("initialState() is empty, loading, with nothing selected", () => {
  const s = initialState();
  assert.equal(s.loaded, false);
  assert.equal(s.order.length, 0);
  assert.equal(s.selectedId, null);
  assert.equal(selectedIndex(s), -1);
  assert.equal(s.panel, "none");
});

Deno.test("reduce() lists jobs newest first from job:created events", () => {
  const s = feed(initialState(), [...jobEvents(1), ...jobEvents(2), ...jobEvents(3)]);
  assert.deepEqual(jobsWindow(s, 0, 10).map((j) => j.id), [jobId(3), jobId(2), jobId(1)]);
  assert.equal(s.totalJobs, 3);
});

Deno.test("reduce() takes state, progress, start and finish times from job:state events", () => {
  const s = feed(initialState(), jobEvents(1, { datums: 4 }));
  const j = s.jobs.get(jobId(1))!;
  assert.equal(j.state, "SUCCESS");
  assert.deepEqual(j.progress, { total: 4, processed: 4, skipped: 0, failed: 0 });
  assert.equal(j.started, at(1001));
  assert.ok(j.finished && j.finished > j.started!);
});

Deno.test("reduce() keeps a running job's datums and counts finished datums before job:state says", () => {
  const events = jobEvents(1, { datums: 4, failed: 2, running: true, finishedDatums: 3 });
  // Drop the trailing job:state so only datum:finished events carry the progress.
  const s = feed(initialState(), events.slice(0, -1));
  const j = s.jobs.get(jobId(1))!;
  assert.equal(j.state, "RUNNING");
  assert.equal(j.progress.processed, 2);
  assert.equal(j.progress.failed, 1);
  assert.equal(j.datums.length, 3);
  assert.equal(activeJobs(s), 1);
});

Deno.test("reduce() does not count a repeated datum:finished twice", () => {
  const events = jobEvents(1, { datums: 2, running: true, finishedDatums: 1 }).slice(0, -1);
  const finished = events.find((e) => e.type === "datum:finished")!;
  const s = feed(initialState(), [...events, finished]);
  assert.equal(s.jobs.get(jobId(1))!.progress.processed, 1);
});

Deno.test("reduce() records a failed job's reason and its failed datum's message", () => {
  const s = feed(initialState(), jobEvents(1, { datums: 3, failed: 1 }));
  const j = s.jobs.get(jobId(1))!;
  assert.equal(j.state, "FAILURE");
  assert.match(j.reason!, /1 datum\(s\) failed/);
  const bad = j.datums.find((d) => d.state === "FAILED")!;
  assert.equal(bad.id, datumId(1, 2));
  assert.equal(bad.message, "Stage exited with code 1");
});

Deno.test("reduce() keeps only the last maxLogLines log lines of a job", () => {
  const job = jobId(1);
  const logs: TuskEvent[] = Array.from({ length: 50 }, (_, i) => ({
    type: "stage:log",
    time: at(i),
    job,
    pipeline: "upper",
    datum: "d",
    stream: "stdout",
    line: `line ${i}`,
  }));
  const s = feed(initialState({ limits: { maxLogLines: 10 } }), logs);
  const j = s.jobs.get(job)!;
  assert.equal(j.logs.length, 10);
  assert.equal(j.logs[0]!.line, "line 40");
  assert.equal(j.logs[9]!.line, "line 49");
});

Deno.test("reduce() keeps at most maxJobs rows but counts every job seen", () => {
  const s = feed(initialState({ limits: { maxJobs: 100, maxDetailed: 10 } }), history(250));
  assert.equal(s.order.length, 100);
  assert.equal(s.jobs.size, 100);
  assert.equal(s.totalJobs, 250);
  assert.equal(s.order[0], jobId(151));
  assert.equal(jobsWindow(s, 0, 1)[0]!.id, jobId(250));
  const counted = Object.values(s.byState).reduce((a, b) => a + b, 0);
  assert.equal(counted, 100);
});

Deno.test("reduce() keeps the row of a job still running when maxJobs newer jobs pass it", () => {
  const running = jobEvents(1, { datums: 4, running: true });
  let s = feed(initialState({ limits: { maxJobs: 10, maxDetailed: 5 } }), running);
  for (let n = 2; n <= 30; n++) s = feed(s, jobEvents(n));
  assert.equal(s.order.length, 10);
  assert.equal(s.order[0], jobId(1), "the running job keeps its row");
  assert.equal(s.order[1], jobId(22), "the oldest finished jobs go instead");
  assert.equal(s.byState["RUNNING"], 1);
  assert.equal(activeJobs(s), 1);
  // Its later events update its row rather than count it again as a new job.
  s = feed(s, jobEvents(1, { datums: 4 }).slice(running.length));
  assert.equal(s.jobs.get(jobId(1))!.state, "SUCCESS");
  assert.equal(s.totalJobs, 30);
  assert.equal(s.byState["SUCCESS"], 10);
  // Once it has finished, it is the oldest finished job: the next new job takes its row.
  s = feed(s, jobEvents(31));
  assert.deepEqual([s.order.length, s.order[0]], [10, jobId(22)]);
});

Deno.test("reduce() drops the oldest running jobs too when more than maxJobs run", () => {
  let s = initialState({ limits: { maxJobs: 3, maxDetailed: 2 } });
  for (let n = 1; n <= 5; n++) s = feed(s, jobEvents(n, { running: true }));
  assert.deepEqual(s.order, [jobId(3), jobId(4), jobId(5)]);
  assert.equal(s.byState["RUNNING"], 3);
});

Deno.test("reduce() keeps datums and logs for the newest maxDetailed jobs only", () => {
  let s = initialState({ limits: { maxDetailed: 5 } });
  for (let n = 1; n <= 20; n++) s = feed(s, jobEvents(n));
  const detailed = [...s.jobs.values()].filter((j) => j.detailed);
  assert.equal(detailed.length, 5);
  assert.ok(detailed.every((j) => j.logs.length > 0 && j.datums.length > 0));
  const old = s.jobs.get(jobId(1))!;
  assert.equal(old.detailed, false);
  assert.equal(old.logs.length, 0);
  assert.equal(old.state, "SUCCESS");
});

Deno.test("reduce() stays bounded replaying 10,000 jobs in one batch", () => {
  const s = feed(
    initialState({ limits: { maxJobs: 10_000, maxDetailed: 2_000 } }),
    history(10_000),
  );
  assert.equal(s.order.length, 10_000);
  assert.equal([...s.jobs.values()].filter((j) => j.detailed).length, 2_000);
  assert.equal(s.byState["SUCCESS"], 10_000);
  assert.equal(s.selectedId, jobId(10_000));
});

/** Everything a view shows, without the replay progress. */
function shown(s: ViewState) {
  return {
    order: s.order,
    jobs: s.order.map((id) => s.jobs.get(id)),
    totalJobs: s.totalJobs,
    byState: Object.fromEntries(Object.entries(s.byState).filter(([, n]) => n !== 0)),
    latest: [...s.latest],
    selectedId: s.selectedId,
    repos: s.repos,
    cronTicks: [...s.cronTicks],
    scheduler: s.scheduler,
  };
}

Deno.test("reduce() gives the same view for a history fed in pieces as in one batch", () => {
  const events: FeedItem[] = [];
  for (let n = 1; n <= 60; n++) {
    const options = n % 7 === 0
      ? { datums: 3, failed: 1 }
      : n % 11 === 0
      ? { datums: 4, running: true }
      : { datums: 1 + (n % 3) };
    for (const e of jobEvents(n, options)) events.push(e);
  }
  const limits = { maxJobs: 40, maxDetailed: 15, maxLogLines: 3, maxDatums: 2 };
  const whole = feed(initialState({ limits }), events);
  for (const size of [1, 7, 64, 500]) {
    let s = initialState({ limits });
    for (let i = 0; i < events.length; i += size) s = feed(s, events.slice(i, i + size));
    assert.deepEqual(shown(s), shown(whole), `pieces of ${size}`);
  }
});

Deno.test("reduce() shows the replay's progress until its last piece", () => {
  const progress = (read: number, done: boolean): FeedItem => ({
    type: "tui:replay",
    time: at(0),
    read,
    size: 1000,
    done,
  });
  let s = feed(initialState(), [...jobEvents(1), progress(400, false)]);
  assert.deepEqual(s.replay, { read: 400, size: 1000 });
  s = feed(s, [...jobEvents(2), progress(1000, true)]);
  assert.equal(s.replay, null);
  assert.equal(s.totalJobs, 2);
});

Deno.test("reduce() keeps the selection on the newest job while it is on the first row", () => {
  let s = feed(initialState(), jobEvents(1));
  assert.equal(s.selectedId, jobId(1));
  s = feed(s, jobEvents(2));
  assert.equal(s.selectedId, jobId(2));
  assert.equal(selectedIndex(s), 0);
});

Deno.test("reduce() keeps a moved selection on its job when newer jobs arrive", () => {
  let s = feed(initialState(), [...jobEvents(1), ...jobEvents(2)]);
  s = reduce(s, { kind: "move", delta: 1 });
  assert.equal(s.selectedId, jobId(1));
  s = feed(s, jobEvents(3));
  assert.equal(s.selectedId, jobId(1));
  assert.equal(selectedIndex(s), 2);
  assert.equal(s.follow, false);
});

Deno.test("reduce() clamps moves to the list and toggles panels", () => {
  let s = feed(initialState(), history(5));
  s = reduce(s, { kind: "move", delta: 100 });
  assert.equal(selectedIndex(s), 4);
  s = reduce(s, { kind: "move", delta: -Infinity });
  assert.equal(selectedIndex(s), 0);
  s = reduce(s, { kind: "panel", panel: "inspect" });
  assert.equal(s.panel, "inspect");
  s = reduce(s, { kind: "panel", panel: "logs" });
  assert.equal(s.panel, "logs");
  s = reduce(s, { kind: "panel", panel: "logs" });
  assert.equal(s.panel, "none");
});

Deno.test("reduce() never changes the state it is given", () => {
  const before = feed(initialState(), jobEvents(1, { running: true, datums: 4 }));
  const frozen = JSON.stringify([...before.jobs.values()]);
  const order = before.order;
  feed(before, [...jobEvents(1), ...jobEvents(2)]);
  reduce(before, { kind: "move", delta: 1 });
  assert.equal(JSON.stringify([...before.jobs.values()]), frozen);
  assert.equal(before.order, order);
  assert.equal(before.order.length, 1);
});

Deno.test("reduce() takes jobs from a snapshot and ignores older replayed state events", () => {
  let s = reduce(initialState(), {
    kind: "snapshot",
    snapshot: {
      takenAt: at(10_000),
      repos: [],
      pipelines: [],
      jobs: [record(1, {
        datums: [{
          id: "d1",
          hash: "h",
          state: "SUCCESS",
          inputs: [{ name: "data", repo: "data", commit: "c", path: "/a" }],
          tries: 1,
          durationMs: 5,
          exitCode: 0,
        }],
      })],
    },
  });
  assert.equal(s.loaded, true);
  assert.equal(s.jobs.get(jobId(1))!.state, "SUCCESS");
  // The journal replays the job from its start: RUNNING must not come back.
  s = feed(s, jobEvents(1).filter((e) => e.type !== "job:created").slice(0, 4));
  const j = s.jobs.get(jobId(1))!;
  assert.equal(j.state, "SUCCESS");
  assert.deepEqual(j.datums.map((d) => [d.id, d.inputs[0]]), [["d1", "data:/a"]]);
  assert.equal(s.totalJobs, 1);
  // Its log lines are still taken: the snapshot has none.
  assert.ok(j.logs.length > 0);
});

Deno.test("reduce() starts a finished job over when it is re-run", () => {
  let s = feed(initialState(), jobEvents(1, { datums: 2, failed: 1 }));
  const job = jobId(1);
  s = feed(s, [{
    type: "job:state",
    time: at(9_000),
    job,
    pipeline: "upper",
    state: "STARTING",
    progress: { total: 2, processed: 1, skipped: 0, failed: 1, recovered: 0 },
  }]);
  const j = s.jobs.get(job)!;
  assert.equal(j.state, "STARTING");
  assert.equal(j.restart, 1);
  assert.equal(j.finished, undefined);
  assert.equal(j.reason, undefined);
  assert.equal(j.datums.length, 0);
});

Deno.test("reduce() moves repo heads on branch:moved and asks for a refresh", () => {
  const moved: FeedItem = {
    type: "branch:moved",
    time: at(5),
    repo: "data",
    branch: "master",
    from: null,
    to: "abc123",
  };
  const s0 = initialState();
  assert.equal(wantsRefresh(s0, [moved]), true);
  const s = feed(s0, [moved]);
  assert.deepEqual(s.repos.map((r) => [r.name, r.head, r.size]), [["data", "abc123", null]]);
  assert.equal(wantsRefresh(s, jobEvents(1).slice(1)), false);
});

Deno.test("wantsRefresh() leaves out what happened before the snapshot was taken", () => {
  const s = reduce(initialState(), {
    kind: "snapshot",
    snapshot: { takenAt: at(10_000), repos: [], pipelines: [] },
  });
  const moved = (time: string): FeedItem => ({
    type: "branch:moved",
    time,
    repo: "data",
    branch: "master",
    from: null,
    to: "abc123",
  });
  assert.equal(wantsRefresh(s, [moved(at(9_999)), ...jobEvents(1)]), false);
  assert.equal(wantsRefresh(s, [moved(at(10_001))]), true);
  assert.equal(wantsRefresh(s, jobEvents(11)), true, "a pipeline the snapshot does not know");
});

Deno.test("reduce() records cron ticks and scheduler notices", () => {
  const s = feed(initialState(), [
    {
      type: "cron:tick",
      time: at(1),
      pipeline: "ticker",
      input: "tick",
      repo: "ticker_tick",
      tick: at(0),
    },
    { type: "tui:scheduler", time: at(2), state: "attached to pid 7" },
  ]);
  assert.equal(s.cronTicks.get("ticker/tick"), at(0));
  assert.equal(s.scheduler, "attached to pid 7");
});

Deno.test("selectedJob() follows the selection", () => {
  let s = feed(initialState(), history(3));
  s = reduce(s, { kind: "move", delta: 2 });
  assert.equal(selectedJob(s)!.id, jobId(1));
});

Deno.test("windowStart() scrolls only when the selection leaves the window", () => {
  assert.equal(windowStart(0, 5, 10, 100), 0);
  assert.equal(windowStart(0, 10, 10, 100), 1);
  assert.equal(windowStart(20, 15, 10, 100), 15);
  assert.equal(windowStart(95, 99, 10, 100), 90);
  assert.equal(windowStart(40, 3, 10, 5), 0);
});

Deno.test("elapsedMs() and ratePerSecond() use the finish time, or now while running", () => {
  const s = feed(initialState(), jobEvents(1, { datums: 4, running: true, finishedDatums: 2 }));
  const j = s.jobs.get(jobId(1))!;
  const started = Date.parse(j.started!);
  assert.equal(elapsedMs(j, started + 2000), 2000);
  assert.equal(ratePerSecond(j, started + 2000), 1);
  const done = feed(initialState(), jobEvents(2)).jobs.get(jobId(2))!;
  assert.equal(elapsedMs(done, Date.parse(done.finished!) + 60_000), elapsedMs(done, 0));
});

Deno.test("clockFace() stays the same over seconds when only finished jobs and old repos show", () => {
  let s = feed(initialState(), history(3));
  s = reduce(s, {
    kind: "snapshot",
    snapshot: {
      takenAt: at(0),
      repos: [{ name: "data", size: 1, head: "c0ffee", headTime: at(0), created: at(0) }],
      pipelines: [],
    },
  });
  const window = { start: 0, rows: 10, cron: false };
  const t = Date.parse(at(0)) + 3_600_000;
  assert.equal(clockFace(s, t, window), clockFace(s, t + 59_000, window));
  // The repo's age goes from "1h ago" to "2h ago".
  assert.notEqual(clockFace(s, t, window), clockFace(s, t + 3_600_000, window));
});

Deno.test("clockFace() changes every second while a job shown runs, or a cron countdown shows", () => {
  const s = feed(initialState(), [...jobEvents(1), ...jobEvents(2, { running: true })]);
  const t = Date.parse(at(10_000));
  const running = { start: 0, rows: 10, cron: false };
  assert.notEqual(clockFace(s, t, running), clockFace(s, t + 1000, running));
  // Scrolled past the running job (the newest, on row 0): only the finished one shows.
  const finished = { start: 1, rows: 1, cron: false };
  const moved = reduce(s, { kind: "move", delta: 1 });
  assert.equal(clockFace(moved, t, finished), clockFace(moved, t + 1000, finished));
  const cron = { ...finished, cron: true };
  assert.notEqual(clockFace(moved, t, cron), clockFace(moved, t + 1000, cron));
});

Deno.test("clockFace() changes when the footer's message expires", () => {
  const t0 = 1_000_000;
  const s = reduce(initialState(), { kind: "message", text: "Asked to stop job x", time: t0 });
  const window = { start: 0, rows: 10, cron: false };
  assert.equal(clockFace(s, t0, window), clockFace(s, t0 + MESSAGE_MS - 1, window));
  assert.notEqual(clockFace(s, t0, window), clockFace(s, t0 + MESSAGE_MS, window));
});

Deno.test("reduce() turns r and s into requests for the selected job, in order with moves", () => {
  let s = feed(initialState(), [...jobEvents(1), ...jobEvents(2, { running: true })]);
  s = reduce(s, { kind: "request", what: "stop", time: 0 });
  assert.deepEqual(s.request, { what: "stop", job: jobId(2), pipeline: "upper", seq: 1 });
  s = reduce(reduce(s, { kind: "move", delta: 1 }), { kind: "request", what: "rerun", time: 0 });
  assert.deepEqual(s.request, { what: "rerun", job: jobId(1), pipeline: "upper", seq: 2 });
});

Deno.test("reduce() refuses to request a stop of a finished job", () => {
  const s = reduce(feed(initialState(), jobEvents(1)), { kind: "request", what: "stop", time: 7 });
  assert.equal(s.request, null);
  assert.deepEqual(s.message, {
    text: `Job ${jobId(1).slice(0, 12)} has already finished`,
    at: 7,
  });
});

Deno.test("reduce() refuses to request a re-run of a running job and says why", () => {
  const s = reduce(feed(initialState(), jobEvents(1, { running: true })), {
    kind: "request",
    what: "rerun",
    time: 7,
  });
  assert.equal(s.request, null);
  assert.match(s.message!.text, /^Job 000000000001 is still RUNNING: r re-runs a finished job/);
});

Deno.test("footerMessage() shows a message for MESSAGE_MS after it was set, then nothing", () => {
  const t0 = 1_000_000;
  const s = reduce(initialState(), { kind: "message", text: "Asked to stop job x", time: t0 });
  assert.equal(footerMessage(s, t0), "Asked to stop job x");
  assert.equal(footerMessage(s, t0 + MESSAGE_MS - 1), "Asked to stop job x");
  assert.equal(footerMessage(s, t0 + MESSAGE_MS), null);
  const later = reduce(s, { kind: "message", text: "Cannot re-run job y", time: t0 + MESSAGE_MS });
  assert.equal(footerMessage(later, t0 + MESSAGE_MS + 1), "Cannot re-run job y");
  assert.equal(footerMessage(reduce(later, { kind: "message", text: null, time: 0 }), t0), null);
});

Deno.test("reduce() notes each damaged job record once, from the snapshot and job:damaged, and the footer says what to do", () => {
  const file = (n: number) => `/s/.tusk/jobs/upper/${jobId(n)}.json`;
  const damaged = (n: number): TuskEvent => ({
    type: "job:damaged",
    time: at(n),
    job: jobId(n),
    pipeline: "upper",
    file: file(n),
    message: `The record of job ${jobId(n)} of pipeline "upper" is damaged: remove "${file(n)}"`,
  });
  let s = reduce(initialState(), {
    kind: "snapshot",
    snapshot: {
      takenAt: at(0),
      repos: [],
      pipelines: [],
      damaged: [{ job: jobId(1), pipeline: "upper", file: file(1) }],
    },
  });
  assert.equal(s.damaged.size, 1);
  assert.equal(
    footerMessage(s, 0),
    `Skipped the damaged record of job ${jobId(1).slice(0, 12)} of "upper": remove "${
      file(1)
    }" to forget that job`,
  );
  s = feed(s, [damaged(1), damaged(1)]);
  assert.equal(s.damaged.size, 1, "the same record counts once");
  s = feed(s, [damaged(2)]);
  assert.equal(s.damaged.size, 2);
  assert.equal(
    footerMessage(s, 0),
    'Skipped 2 damaged job records: "tusk doctor" names their files',
  );
  // An action's message comes first while it lasts; the notice stays after it.
  const t0 = 1_000_000;
  s = reduce(s, { kind: "message", text: "Asked to stop job x", time: t0 });
  assert.equal(footerMessage(s, t0), "Asked to stop job x");
  assert.match(footerMessage(s, t0 + MESSAGE_MS)!, /^Skipped 2 damaged job records/);
  assert.equal(s.order.length, 0, "a damaged record is no job row");
});

Deno.test("reduce() counts at least a snapshot's jobCount, though the replay names fewer jobs", () => {
  let s = feed(initialState(), [...jobEvents(1), ...jobEvents(2)]);
  s = reduce(s, {
    kind: "snapshot",
    snapshot: { takenAt: at(10_000), repos: [], pipelines: [], jobs: [record(2)], jobCount: 5000 },
  });
  assert.equal(s.totalJobs, 5000);
  s = feed(s, jobEvents(3, { t0: 20_000 }));
  assert.equal(s.totalJobs, 5001);
  // A count below the jobs seen lowers nothing.
  s = reduce(s, {
    kind: "snapshot",
    snapshot: { takenAt: at(30_000), repos: [], pipelines: [], jobCount: 2 },
  });
  assert.equal(s.totalJobs, 5001);
});
