/**
 * The dashboard's feeds over a real journal file: the history replayed in pieces with its
 * progress, held back by a slow listener, then tailed; and the in-process scheduler's bus,
 * whose events the replay already read are not handed on twice.
 */
import assert from "node:assert/strict";
import { LeaseHeldError, type TuskEvent } from "../../lib/mod.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import { journalFeed, schedulerFeed } from "../../tui/feed.ts";
import type { FeedItem, ReplayProgress } from "../../tui/view.ts";
import { tempDir } from "../_helpers.ts";
import { history, jobEvents } from "./_events.ts";
import { until } from "./_render.ts";

function lines(events: readonly TuskEvent[]): string {
  return events.map((e) => JSON.stringify(e) + "\n").join("");
}

const isEvent = (i: FeedItem): i is TuskEvent => !i.type.startsWith("tui:");
const isProgress = (i: FeedItem): i is ReplayProgress => i.type === "tui:replay";

/** Collects what a feed sends. */
function collector() {
  const batches: FeedItem[][] = [];
  return {
    batches,
    listener: (items: readonly FeedItem[]) => void batches.push([...items]),
    events: () => batches.flat().filter(isEvent),
    progress: () => batches.flat().filter(isProgress),
    notices: () => batches.flat().flatMap((i) => i.type === "tui:scheduler" ? [i.state] : []),
  };
}

/** A bus that journals to `path`, and a `serving` promise the test settles. */
function scheduler(path: string) {
  const bus = new EventBus({ journal: path });
  let settle!: { resolve: () => void; reject: (err: unknown) => void };
  const serving = new Promise<void>((resolve, reject) => settle = { resolve, reject });
  return { bus, serving, settle };
}

Deno.test("journalFeed() replays the journal in pieces with their progress, then tails it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const events = history(30);
  await Deno.writeTextFile(path, lines(events));
  const size = (await Deno.stat(path)).size;
  const c = collector();
  const stop = journalFeed(path, { chunkBytes: 2048, intervalMs: 10 })(c.listener);
  try {
    await until(() => c.progress().some((p) => p.done), "the end of the replay");
    assert.deepEqual(c.events(), events);
    const progress = c.progress();
    assert.ok(progress.length > 10, `${progress.length} pieces`);
    assert.deepEqual(
      progress.map((p) => p.done),
      progress.map((_, i) => i === progress.length - 1),
    );
    assert.deepEqual(progress.at(-1), { ...progress.at(-1)!, read: size, size });
    for (const batch of c.batches.slice(1)) {
      assert.equal(batch.filter(isProgress).length, 1, "one progress item a piece");
    }
    const more = jobEvents(31);
    await Deno.writeTextFile(path, lines(more), { append: true });
    await until(() => c.events().length === events.length + more.length, "the appended job");
    assert.deepEqual(c.events().slice(events.length), more);
    assert.equal(c.progress().length, progress.length, "no progress once tailing");
  } finally {
    stop();
  }
});

Deno.test("journalFeed() reads the next piece only once the listener's promise settles", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  await Deno.writeTextFile(path, lines(history(20)));
  let release!: () => void;
  let held = 0;
  const stop = journalFeed(path, { chunkBytes: 2048, intervalMs: 10 })((items) => {
    if (!items.some(isProgress)) return;
    held++;
    return new Promise<void>((resolve) => release = resolve);
  });
  try {
    await until(() => held === 1, "the first piece");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(held, 1, "no second piece while the first is held");
    release();
    await until(() => held === 2, "the second piece");
  } finally {
    stop();
    release();
  }
});

Deno.test("journalFeed() says once that it cannot read the journal, and ends the replay", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  await Deno.mkdir(path);
  const c = collector();
  const stop = journalFeed(path, { intervalMs: 5 })(c.listener);
  try {
    await until(() => c.progress().some((p) => p.done), "the end of the replay");
    await new Promise((r) => setTimeout(r, 50));
    const failures = c.notices().filter((n) => n.startsWith("cannot read the event journal"));
    assert.equal(failures.length, 1);
  } finally {
    stop();
  }
});

Deno.test("schedulerFeed() sends the history, then the bus's events without those the replay read", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const past = history(20);
  await Deno.writeTextFile(path, lines(past));
  const { bus, serving, settle } = scheduler(path);
  const c = collector();
  let emitted = false;
  const live = jobEvents(21);
  const stop = schedulerFeed({ bus, serving, journal: path, chunkBytes: 2048 })((items) => {
    c.listener(items);
    // While the history is replayed, the bus journals (and delivers) a new job.
    if (!emitted && items.some(isProgress)) {
      emitted = true;
      for (const { type, time: _, ...payload } of live) bus.emit(type, payload as never);
    }
  });
  try {
    await until(() => c.events().length >= past.length + live.length, "the live job");
    await new Promise((r) => setTimeout(r, 50));
    const got = c.events();
    assert.equal(got.length, past.length + live.length, "no event twice");
    assert.deepEqual(got.slice(0, past.length), past);
    assert.deepEqual(
      got.slice(past.length).map((e) => [e.type, e.type === "job:state" ? e.state : ""]),
      live.map((e) => [e.type, e.type === "job:state" ? e.state : ""]),
    );
    const later = jobEvents(22)[0]!;
    const { type, time: _, ...payload } = later;
    bus.emit(type, payload as never);
    assert.equal(c.events().length, past.length + live.length + 1, "live at once after it");
  } finally {
    stop();
    settle.resolve();
    bus.close();
  }
});

Deno.test("schedulerFeed() hands on the bus's events that never reached the journal", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  await Deno.writeTextFile(path, lines(history(5)));
  // A bus without a journal: its events are only delivered, as when the disk is full.
  const bus = new EventBus();
  const serving = new Promise<void>(() => {});
  const c = collector();
  let emitted = false;
  const stop = schedulerFeed({ bus, serving, journal: path, chunkBytes: 1024 })((items) => {
    c.listener(items);
    if (!emitted && items.some(isProgress)) {
      emitted = true;
      bus.emit("cron:tick", { pipeline: "p", input: "tick", repo: "p_tick", tick: "t" });
    }
  });
  try {
    await until(() => c.progress().some((p) => p.done), "the end of the replay");
    assert.equal(c.events().filter((e) => e.type === "cron:tick").length, 1);
  } finally {
    stop();
  }
});

Deno.test("schedulerFeed() says it cannot read the journal and still sends the bus's events", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  await Deno.mkdir(path);
  const bus = new EventBus();
  const c = collector();
  const stop = schedulerFeed({ bus, serving: new Promise(() => {}), journal: path })(c.listener);
  try {
    await until(() => c.progress().some((p) => p.done), "the end of the replay");
    assert.ok(c.notices().some((n) => n.startsWith("cannot read the event journal")));
    bus.emit("cron:tick", { pipeline: "p", input: "tick", repo: "p_tick", tick: "t" });
    assert.deepEqual(c.events().map((e) => e.type), ["cron:tick"]);
  } finally {
    stop();
  }
});

Deno.test("schedulerFeed() follows the journal from where the history ended when the lease is held", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const past = history(10);
  await Deno.writeTextFile(path, lines(past));
  const { bus, serving, settle } = scheduler(path);
  const c = collector();
  const stop = schedulerFeed({ bus, serving, journal: path, chunkBytes: 1024, intervalMs: 10 })(
    c.listener,
  );
  try {
    await until(() => c.progress().some((p) => p.done), "the end of the replay");
    settle.reject(new LeaseHeldError(4242));
    await until(() => c.notices().some((n) => n.startsWith("attached to pid 4242")), "attach");
    const more = jobEvents(11);
    await Deno.writeTextFile(path, lines(more), { append: true });
    await until(() => c.events().length === past.length + more.length, "the appended job");
    assert.deepEqual(c.events(), [...past, ...more]);
  } finally {
    stop();
    bus.close();
  }
});

Deno.test("schedulerFeed() attaches while serve() waits for the lease, says when it took over, and follows the journal throughout", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const past = history(5);
  await Deno.writeTextFile(path, lines(past));
  const { bus, serving } = scheduler(path);
  const held = Promise.withResolvers<number>();
  const tookOver = Promise.withResolvers<void>();
  const c = collector();
  const stop = schedulerFeed({
    bus,
    serving,
    held: held.promise,
    tookOver: tookOver.promise,
    journal: path,
    pid: 77,
    intervalMs: 10,
  })(c.listener);
  try {
    held.resolve(4242);
    await until(() => c.notices().some((n) => n.startsWith("attached to pid 4242")), "attach");
    const theirs = jobEvents(6);
    await Deno.writeTextFile(path, lines(theirs), { append: true });
    await until(() => c.events().length === past.length + theirs.length, "the holder's job");
    tookOver.resolve();
    await until(
      () => c.notices().includes("running in this process (pid 77): took over from pid 4242"),
      "the takeover",
    );
    // This process's events reach the feed once, through the journal its bus writes.
    const mine = jobEvents(7);
    for (const e of mine) {
      const { type: _t, time: _time, ...payload } = e;
      bus.emit(e.type, payload as never);
    }
    await until(() => c.events().length === past.length + theirs.length + mine.length, "mine");
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(c.events().length, past.length + theirs.length + mine.length);
  } finally {
    stop();
    bus.close();
  }
});

Deno.test("schedulerFeed() says when the scheduler failed", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus();
  const c = collector();
  const stop = schedulerFeed({
    bus,
    serving: Promise.reject(new Error("Cannot open the store")),
    journal: path,
  })(c.listener);
  try {
    await until(() => c.notices().includes("failed: Cannot open the store"), "the failure");
  } finally {
    stop();
  }
});
