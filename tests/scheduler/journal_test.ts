/**
 * The event journal's rotation: past its segment size the current segment becomes
 * `events/<start>.jsonl` and a new one begins with a header; only so many older segments
 * are kept. Readers hold global offsets and read on across rotations: one reading from the
 * start, one following while another process writes and rotates, two writers at once,
 * `followLogs()` (`tusk logs -f`), and the dashboard's feed, which replays the current
 * segment only. Real files and processes.
 */
import assert from "node:assert/strict";
import { followLogs } from "../../lib/commands/journal.ts";
import {
  EventBus,
  journalEnd,
  journalStart,
  readJournal,
  type TuskEvent,
} from "../../lib/scheduler/events.ts";
import { Store } from "../../lib/store/store.ts";
import { journalFeed } from "../../tui/feed.ts";
import type { FeedItem } from "../../tui/view.ts";
import { ROOT, tempDir, TUSK_PERMS } from "../_helpers.ts";

type Tick = Extract<TuskEvent, { type: "cron:tick" }>;

function tick(bus: EventBus, n: number, tag = "t"): void {
  bus.emit("cron:tick", { pipeline: "p", input: "tick", repo: "p_tick", tick: `${tag}:${n}` });
}

/** Every event from `offset` to the end, read across segments. */
async function readAll(path: string, offset = 0): Promise<TuskEvent[]> {
  const out: TuskEvent[] = [];
  while (true) {
    const r = await readJournal(path, offset, { maxBytes: 700 });
    out.push(...r.events);
    offset = r.offset;
    if (!r.more) return out;
  }
}

const ticks = (events: readonly TuskEvent[]) => events.map((e) => (e as Tick).tick);

async function olderSegments(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/events`)) out.push(e.name);
  return out.sort();
}

Deno.test("EventBus rotates the journal past its segment size and keeps only so many older segments", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, rotation: { segmentBytes: 2000, segmentsKept: 3 } });
  for (let n = 0; n < 500; n++) tick(bus, n);
  bus.close();
  const older = await olderSegments(dir.path);
  assert.equal(older.length, 3);
  for (const name of older) assert.match(name, /^\d{16}\.jsonl$/);
  let total = 0;
  for (const name of older) {
    const size = (await Deno.stat(`${dir.path}/events/${name}`)).size;
    assert.ok(size < 2000 + 200, `${name}: ${size} bytes`);
    total += size;
  }
  // The current segment starts where the newest older one ends.
  const newest = older[older.length - 1]!;
  const newestSize = (await Deno.stat(`${dir.path}/events/${newest}`)).size;
  assert.equal(await journalStart(path), Number(newest.slice(0, 16)) + newestSize);
  assert.equal(await journalEnd(path), await journalStart(path) + (await Deno.stat(path)).size);
  assert.ok(total + (await Deno.stat(path)).size < 4 * 2200);
  // What is kept reads on, in order, to the last event emitted.
  const kept = ticks(await readAll(path, Number(older[0]!.slice(0, 16))));
  assert.equal(kept[kept.length - 1], "t:499");
  assert.deepEqual(kept, kept.map((_, i) => `t:${500 - kept.length + i}`));
});

Deno.test("readJournal() from 0 reads every event once, in order, across every rotation", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, rotation: { segmentBytes: 1500, segmentsKept: 1000 } });
  for (let n = 0; n < 300; n++) tick(bus, n);
  bus.close();
  assert.ok((await olderSegments(dir.path)).length > 20);
  assert.deepEqual(ticks(await readAll(path)), Array.from({ length: 300 }, (_, n) => `t:${n}`));
});

Deno.test("readJournal() from an offset in a segment no longer kept goes on from the oldest kept", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, rotation: { segmentBytes: 1500, segmentsKept: 2 } });
  for (let n = 0; n < 100; n++) tick(bus, n);
  bus.close();
  const oldest = Number((await olderSegments(dir.path))[0]!.slice(0, 16));
  const r = await readJournal(path, 10);
  assert.deepEqual([r.events.length, r.offset, r.more], [0, oldest, true]);
  const rest = ticks(await readAll(path, 10));
  assert.equal(rest[rest.length - 1], "t:99");
});

Deno.test("a reader following the journal while another process writes and rotates it reads every event once", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      ...TUSK_PERMS,
      `${ROOT}/tests/scheduler/fixtures/write_journal.ts`,
      path,
      "w",
      "3000",
      "4096",
    ],
    stdout: "null",
  }).spawn();
  const seen: string[] = [];
  let offset = 0;
  let done = false;
  void child.status.then(() => done = true);
  while (true) {
    const finished = done;
    const r = await readJournal(path, offset, { maxBytes: 1000 });
    seen.push(...ticks(r.events));
    offset = r.offset;
    if (r.more) continue;
    if (finished) break;
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.equal((await child.status).code, 0);
  assert.ok((await olderSegments(dir.path)).length > 50);
  assert.deepEqual(seen, Array.from({ length: 3000 }, (_, n) => `w:${n}`));
});

Deno.test("two processes writing the journal at once, rotating it, lose and split no line", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const run = (tag: string) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...TUSK_PERMS,
        `${ROOT}/tests/scheduler/fixtures/write_journal.ts`,
        path,
        tag,
        "2000",
        "3000",
      ],
    }).output();
  const [a, b] = await Promise.all([run("a"), run("b")]);
  assert.equal(
    a.code + b.code,
    0,
    new TextDecoder().decode(a.stderr) + new TextDecoder().decode(b.stderr),
  );
  const all = ticks(await readAll(path));
  assert.equal(all.length, 4000);
  for (const tag of ["a", "b"]) {
    const mine = all.filter((t) => t.startsWith(`${tag}:`));
    assert.deepEqual(mine, Array.from({ length: 2000 }, (_, n) => `${tag}:${n}`));
  }
});

Deno.test("followLogs() (tusk logs -f) goes on across rotations of the journal", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const ac = new AbortController();
  const lines = await followLogs(store, {}, { pollMs: 5, signal: ac.signal });
  const bus = new EventBus({
    journal: store.layout.events,
    rotation: { segmentBytes: 1024, segmentsKept: 1000 },
  });
  const got: string[] = [];
  const reading = (async () => {
    for await (const e of lines) {
      got.push(e.line);
      if (got.length === 200) ac.abort();
    }
  })();
  for (let n = 0; n < 200; n++) {
    bus.emit("stage:log", {
      job: "j",
      pipeline: "p",
      datum: `d${n % 3}`,
      stream: "stdout",
      line: `line ${n}`,
    });
    if (n % 20 === 0) await new Promise((r) => setTimeout(r, 3));
  }
  bus.close();
  const timeout = setTimeout(() => ac.abort(), 10_000);
  await reading;
  clearTimeout(timeout);
  assert.ok((await olderSegments(store.root)).length > 10);
  assert.deepEqual(got, Array.from({ length: 200 }, (_, n) => `line ${n}`));
});

Deno.test("the dashboard's feed replays the journal's current segment only, then follows on", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, rotation: { segmentBytes: 3000, segmentsKept: 1000 } });
  for (let n = 0; n < 200; n++) tick(bus, n);
  const replayed: string[] = [];
  let progress: { read: number; size: number } | null = null;
  const done = Promise.withResolvers<void>();
  const stop = journalFeed(path, { intervalMs: 5 })((items: readonly FeedItem[]) => {
    for (const i of items) {
      if (i.type === "cron:tick") replayed.push(i.tick);
      if (i.type === "tui:replay" && i.done) {
        progress = { read: i.read, size: i.size };
        done.resolve();
      }
    }
  });
  await done.promise;
  const current = ticks((await readJournal(path, await journalStart(path))).events);
  assert.ok(current.length > 0 && current.length < 200);
  assert.deepEqual(replayed, current);
  const segment = (await Deno.stat(path)).size;
  assert.deepEqual(progress, { read: segment, size: segment });
  // Rotations while it follows: every event still comes, once.
  for (let n = 200; n < 400; n++) tick(bus, n);
  bus.close();
  const end = performance.now() + 10_000;
  while (replayed[replayed.length - 1] !== "t:399" && performance.now() < end) {
    await new Promise((r) => setTimeout(r, 10));
  }
  stop();
  assert.deepEqual(
    replayed.slice(current.length),
    Array.from({ length: 200 }, (_, i) => `t:${200 + i}`),
  );
});
