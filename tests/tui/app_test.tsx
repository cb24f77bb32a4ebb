/**
 * The dashboard app with its feed, keys and controls, rendered with ink-testing-library
 * (the snapshot, the feed and the controls are stand-ins).
 */
import assert from "node:assert/strict";
import { render } from "ink-testing-library";
import { App, type DashboardControls } from "../../tui/app.tsx";
import { type FeedListener, journalFeed, type Subscribe } from "../../tui/feed.ts";
import { type FeedItem, MESSAGE_MS, type Snapshot } from "../../tui/view.ts";
import { tempDir } from "../_helpers.ts";
import { at, history, jobEvents, jobId } from "./_events.ts";
import { KEY, plain, until } from "./_render.ts";

interface Harness {
  /** Hand the app a batch; returns what its listener returned (a promise holds the feed). */
  readonly push: (items: readonly FeedItem[]) => void | Promise<void>;
  readonly calls: string[];
  readonly snapshots: { jobs: boolean }[];
  readonly unsubscribed: () => boolean;
  readonly frame: () => string;
  readonly type: (keys: string) => void;
  readonly close: () => void;
}

function start(
  options: {
    failControls?: boolean;
    /** Resolves the first snapshot (default: at once). */
    snapshotIn?: Promise<void>;
    subscribe?: Subscribe;
    /** The app's clock (default: a fixed time). */
    clock?: () => number;
    /** Called on each draw whose time changed (the app reads its cron schedule then). */
    onTimeDrawn?: () => void;
  } = {},
): Harness {
  let listener: FeedListener | null = null;
  let unsubscribed = false;
  const calls: string[] = [];
  const snapshots: { jobs: boolean }[] = [];
  const snapshot: Snapshot = {
    takenAt: at(0),
    repos: [{ name: "data", size: 12, head: "494ab522", headTime: at(0), created: at(0) }],
    pipelines: [{
      name: "upper",
      paused: false,
      inputs: [{ name: "data", repo: "data", kind: "pfs" }],
    }],
    jobs: [],
  };
  const controls: DashboardControls = {
    rerun: (id, pipeline) => {
      calls.push(`rerun ${pipeline}@${id}`);
      return options.failControls
        ? Promise.reject(new Error(`pipeline "${pipeline}" is stopped`))
        : Promise.resolve(`Re-running job ${id.slice(0, 12)} as a new job`);
    },
    stop: (id) => {
      calls.push(`stop ${id}`);
      return Promise.resolve();
    },
  };
  const r = render(
    <App
      loadSnapshot={async (o) => {
        snapshots.push(o);
        if (o.jobs) await options.snapshotIn;
        return snapshot;
      }}
      subscribe={options.subscribe ?? ((l) => {
        listener = l;
        return () => {
          unsubscribed = true;
        };
      })}
      controls={controls}
      store="/tmp/store/.tusk"
      sandbox="deno (test)"
      theme={{ color: false }}
      size={{ width: 120, height: 36 }}
      clock={options.clock ?? (() => Date.parse(at(60_000)))}
      cronSchedule={() => {
        options.onTimeDrawn?.();
        return new Map();
      }}
      flushMs={0}
    />,
  );
  // The harness's stdout has no `rows`: without them Ink asks `tput` every frame.
  (r.stdout as unknown as { rows: number }).rows = 36;
  return {
    push: (items) => {
      if (!listener) throw new Error("The app has not subscribed yet");
      return listener(items);
    },
    calls,
    snapshots,
    unsubscribed: () => unsubscribed,
    frame: () => plain(r.lastFrame()),
    type: (keys) => r.stdin.write(keys),
    close: () => {
      r.unmount();
      r.cleanup();
    },
  };
}

async function started(): Promise<Harness> {
  const h = start();
  await until(() => h.frame().includes("data → upper"), "the snapshot");
  return h;
}

Deno.test("App shows the snapshot, then jobs from its feed", async () => {
  const h = await started();
  try {
    await until(
      () => h.unsubscribed() === false && h.frame().includes("no jobs yet"),
      "empty list",
    );
    h.push(jobEvents(1, { datums: 4 }));
    await until(() => h.frame().includes("000000000001"), "the job");
    assert.match(h.frame(), /4\+0\/4 .* success/);
  } finally {
    h.close();
  }
});

Deno.test("App holds its feed back until the snapshot is in, then applies what it sent", async () => {
  let snapshotIn!: () => void;
  const h = start({ snapshotIn: new Promise((resolve) => snapshotIn = resolve) });
  try {
    await until(() => h.frame().includes("q quit"), "the first frame");
    const held = h.push(jobEvents(1));
    assert.ok(held instanceof Promise, "the feed is held back");
    let released = false;
    void held.then(() => released = true);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(released, false);
    assert.doesNotMatch(h.frame(), /000000000001/);
    snapshotIn();
    await until(() => released && h.frame().includes("000000000001"), "the job");
    assert.match(h.frame(), /data → upper/);
    assert.equal(h.push(jobEvents(2)), undefined, "not held once the snapshot is in");
    await until(() => h.frame().includes("000000000002"), "the second job");
  } finally {
    h.close();
  }
});

Deno.test("App replays a journal read in pieces and selects its newest job at the end", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const events = history(300);
  await Deno.writeTextFile(path, events.map((e) => JSON.stringify(e) + "\n").join(""));
  const h = start({ subscribe: journalFeed(path, { chunkBytes: 4096, intervalMs: 10 }) });
  try {
    await until(() => /▸ 00000000012c /.test(h.frame()), "the newest job", 10_000);
    assert.match(h.frame(), /JOBS {2}1–\d+ of 300/);
    assert.doesNotMatch(h.frame(), /replaying/);
  } finally {
    h.close();
  }
});

Deno.test("App opens the selected job's datums and log with ↓ and enter, and closes them", async () => {
  const h = await started();
  try {
    h.push([...jobEvents(1, { datums: 2, failed: 1 }), ...jobEvents(2)]);
    await until(() => h.frame().includes("000000000002"), "both jobs");
    h.type(KEY.down);
    await until(() => /▸ 000000000001/.test(h.frame()), "the selection to move");
    h.type(KEY.enter);
    await until(() => h.frame().includes("JOB 000000000001"), "the panel");
    assert.match(h.frame(), /reason: 1 datum\(s\) failed/);
    assert.match(h.frame(), /error: bad input f1/);
    h.type("l");
    await until(() => !/failed +0\.1s/.test(h.frame()), "the log panel");
    assert.match(h.frame(), /error: bad input f1/);
    h.type(KEY.escape);
    await until(() => !h.frame().includes("JOB 000000000001"), "the panel to close");
  } finally {
    h.close();
  }
});

Deno.test("App asks its controls to re-run and to stop the selected job", async () => {
  const h = await started();
  try {
    h.push([...jobEvents(1), ...jobEvents(2, { running: true })]);
    await until(() => h.frame().includes("000000000002"), "the jobs");
    h.type("s");
    await until(() => h.frame().includes("Asked to stop job 000000000002"), "the stop message");
    h.type(KEY.down);
    h.type("r");
    await until(
      () => h.frame().includes("Re-running job 000000000001 as a new job"),
      "the message",
    );
    assert.deepEqual(h.calls, [`stop ${jobId(2)}`, `rerun upper@${jobId(1)}`]);
  } finally {
    h.close();
  }
});

Deno.test("App does not ask to stop a job that has finished", async () => {
  const h = await started();
  try {
    h.push(jobEvents(1));
    await until(() => h.frame().includes(" success"), "the job");
    h.type("s");
    await until(() => h.frame().includes("Job 000000000001 has already finished"), "the message");
    assert.deepEqual(h.calls, []);
  } finally {
    h.close();
  }
});

Deno.test("App shows why a control failed in the footer", async () => {
  const h = start({ failControls: true });
  try {
    await until(() => h.frame().includes("data → upper"), "the snapshot");
    h.push(jobEvents(1));
    await until(() => h.frame().includes(" success"), "the job");
    h.type("r");
    await until(() => h.frame().includes("Cannot re-run job"), "the error");
    assert.match(h.frame(), /Cannot re-run job 000000000001: pipeline "upper" is stopped/);
  } finally {
    h.close();
  }
});

Deno.test("App does not ask to re-run a running job and says why", async () => {
  const h = await started();
  try {
    h.push(jobEvents(1, { running: true }));
    await until(() => h.frame().includes("000000000001"), "the job");
    h.type("r");
    await until(() => h.frame().includes("Job 000000000001 is still RUNNING"), "the message");
    assert.deepEqual(h.calls, []);
  } finally {
    h.close();
  }
});

Deno.test("App clears the footer's message once it is MESSAGE_MS old on its clock", async () => {
  let now = Date.parse(at(60_000));
  const h = start({ clock: () => now });
  try {
    await until(() => h.frame().includes("data → upper"), "the snapshot");
    h.push(jobEvents(1));
    await until(() => h.frame().includes(" success"), "the job");
    h.type("s");
    await until(() => h.frame().includes("has already finished"), "the message");
    now += MESSAGE_MS - 1;
    // The app reads its clock every second: the message is still there a tick later.
    await new Promise((r) => setTimeout(r, 1_100));
    assert.match(h.frame(), /has already finished/);
    now += 1;
    await until(() => !h.frame().includes("has already finished"), "the message to expire");
    assert.match(h.frame(), /q quit/);
  } finally {
    h.close();
  }
});

Deno.test("App redraws on its clock only while what it shows changes with the time", async () => {
  const t0 = Date.now();
  let draws = 0;
  const h = start({
    clock: () => Date.parse(at(60_000)) + Date.now() - t0,
    onTimeDrawn: () => draws++,
  });
  try {
    await until(() => h.frame().includes("data → upper"), "the snapshot");
    h.push(jobEvents(1));
    await until(() => h.frame().includes(" success"), "the job");
    const idle = draws;
    await new Promise((r) => setTimeout(r, 2_200));
    assert.equal(draws, idle, "no redraw for the clock: nothing shown depends on it");
    h.push(jobEvents(2, { running: true }));
    await until(() => h.frame().includes("000000000002"), "the running job");
    const running = draws;
    await until(() => draws >= running + 2, "two redraws of the running job's time", 3_500);
  } finally {
    h.close();
  }
});

Deno.test("App clears the footer's message on esc when no panel is open", async () => {
  const h = await started();
  try {
    h.push(jobEvents(1));
    await until(() => h.frame().includes(" success"), "the job");
    h.type("s");
    await until(() => h.frame().includes("has already finished"), "the message");
    h.type(KEY.escape);
    await until(() => !h.frame().includes("has already finished"), "the message to go");
  } finally {
    h.close();
  }
});

Deno.test("App reloads repos and pipelines (not jobs) after a branch moves", async () => {
  const h = await started();
  try {
    h.push([{
      type: "branch:moved",
      time: at(5),
      repo: "data",
      branch: "master",
      from: null,
      to: "feed",
    }]);
    await until(() => h.snapshots.length === 2, "a refresh", 3000);
    assert.deepEqual(h.snapshots, [{ jobs: true }, { jobs: false }]);
  } finally {
    h.close();
  }
});

Deno.test("App quits on q and stops its feed", async () => {
  const h = await started();
  try {
    h.type("q");
    await until(() => h.unsubscribed(), "the feed to stop");
  } finally {
    h.close();
  }
});

Deno.test("App takes each key of printable keys that arrive together: jj moves twice", async () => {
  const h = await started();
  try {
    h.push([...jobEvents(1), ...jobEvents(2), ...jobEvents(3)]);
    await until(() => /▸ 000000000003/.test(h.frame()), "the newest job selected");
    h.type("jj");
    await until(() => /▸ 000000000001/.test(h.frame()), "the selection to move down twice");
    h.type("kk");
    await until(() => /▸ 000000000003/.test(h.frame()), "the selection to move up twice");
  } finally {
    h.close();
  }
});

Deno.test("App takes each key of printable keys that arrive together: the q of jq still quits", async () => {
  const h = await started();
  try {
    h.push([...jobEvents(1), ...jobEvents(2)]);
    await until(() => /▸ 000000000002/.test(h.frame()), "the newest job selected");
    h.type("jq");
    await until(() => h.unsubscribed(), "the app to quit");
  } finally {
    h.close();
  }
});
