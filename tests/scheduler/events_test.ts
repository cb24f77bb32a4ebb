/**
 * The event journal read back: whole or in pieces of at most `maxBytes`, cut at line ends,
 * with a partial last line left for later and damaged lines skipped. Real files.
 */
import assert from "node:assert/strict";
import {
  EventBus,
  JOURNAL_LOG_MARKER,
  readJournal,
  type TuskEvent,
} from "../../lib/scheduler/events.ts";
import { tempDir } from "../_helpers.ts";
import { history } from "../tui/_events.ts";

function lines(events: readonly TuskEvent[]): string {
  return events.map((e) => JSON.stringify(e) + "\n").join("");
}

/** Read the whole journal in pieces of `maxBytes`; returns every piece. */
async function pieces(path: string, maxBytes: number) {
  const out = [];
  let offset = 0;
  while (true) {
    const r = await readJournal(path, offset, { maxBytes });
    out.push(r);
    offset = r.offset;
    if (!r.more) return out;
  }
}

Deno.test("readJournal() reads every event of the journal and where to go on from", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const events = history(3);
  const text = lines(events);
  await Deno.writeTextFile(path, text);
  const r = await readJournal(path);
  assert.deepEqual(r.events, events);
  assert.equal(r.offset, new TextEncoder().encode(text).length);
  assert.equal(r.size, r.offset);
  assert.equal(r.more, false);
});

Deno.test("readJournal() reads what the bus journaled", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, clock: () => new Date(0) });
  bus.emit("cron:tick", { pipeline: "p", input: "tick", repo: "p_tick", tick: "t" });
  bus.close();
  const r = await readJournal(path);
  assert.deepEqual(r.events.map((e) => e.type), ["cron:tick"]);
});

Deno.test("readJournal() with maxBytes reads pieces of whole lines that add up to the journal", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const events = history(20);
  await Deno.writeTextFile(path, lines(events));
  const all = await pieces(path, 1000);
  assert.ok(all.length > 5, `${all.length} pieces`);
  assert.deepEqual(all.flatMap((r) => r.events), events);
  for (const r of all.slice(0, -1)) assert.equal(r.more, true);
  const size = (await Deno.stat(path)).size;
  assert.equal(all.at(-1)!.offset, size);
  let from = 0;
  for (const r of all) {
    assert.ok(r.offset - from <= 1000, `a piece of ${r.offset - from} bytes`);
    from = r.offset;
  }
});

Deno.test("readJournal() with maxBytes ends pieces at line ends wherever maxBytes falls", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const events = history(4);
  await Deno.writeTextFile(path, lines(events));
  const longest = Math.max(...events.map((e) => JSON.stringify(e).length + 1));
  for (let maxBytes = longest; maxBytes < longest + 60; maxBytes++) {
    assert.deepEqual((await pieces(path, maxBytes)).flatMap((r) => r.events), events);
  }
});

Deno.test("readJournal() leaves a partial last line for the read after it is finished", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const [a, b] = history(1);
  const second = JSON.stringify(b);
  await Deno.writeTextFile(path, JSON.stringify(a) + "\n" + second.slice(0, 20));
  const first = await readJournal(path, 0, { maxBytes: 1 << 20 });
  assert.deepEqual(first.events, [a]);
  assert.equal(first.more, false, "the partial line is not more to read now");
  assert.equal(first.offset, JSON.stringify(a).length + 1);
  const again = await readJournal(path, first.offset, { maxBytes: 1 << 20 });
  assert.deepEqual(again.events, []);
  assert.equal(again.offset, first.offset);
  await Deno.writeTextFile(path, second.slice(20) + "\n", { append: true });
  const rest = await readJournal(path, first.offset, { maxBytes: 1 << 20 });
  assert.deepEqual(rest.events, [b]);
});

Deno.test("readJournal() with maxBytes stops before a partial last line at a piece's end", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const [a, b] = history(1);
  const lineA = JSON.stringify(a) + "\n";
  await Deno.writeTextFile(path, lineA + JSON.stringify(b) + "\n");
  const r = await readJournal(path, 0, { maxBytes: lineA.length + 5 });
  assert.deepEqual(r.events, [a]);
  assert.equal(r.offset, lineA.length);
  assert.equal(r.more, true);
});

Deno.test("readJournal() reads a line longer than maxBytes whole", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const [a, b] = history(1);
  const long = { ...b!, reason: "x".repeat(5000) } as TuskEvent;
  await Deno.writeTextFile(path, lines([a!, long, b!]));
  const all = await pieces(path, 300);
  assert.deepEqual(all.flatMap((r) => r.events), [a, long, b]);
  const spans: number[] = [];
  let from = 0;
  for (const r of all) {
    spans.push(r.offset - from);
    from = r.offset;
  }
  assert.ok(spans.some((n) => n > 5000), `pieces of ${spans.join(", ")} bytes`);
});

Deno.test("readJournal() skips a damaged line and reads on, whole or in pieces", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const events = history(3);
  const text = lines(events.slice(0, 10)) + '{"type":"job:state","ti\n' + lines(events.slice(10));
  await Deno.writeTextFile(path, text);
  assert.deepEqual((await readJournal(path)).events, events);
  assert.deepEqual((await pieces(path, 700)).flatMap((r) => r.events), events);
});

Deno.test("readJournal() reads no events from a journal that does not exist yet", async () => {
  await using dir = await tempDir();
  const r = await readJournal(`${dir.path}/events.jsonl`, 0, { maxBytes: 100 });
  assert.deepEqual(r, { events: [], offset: 0, size: 0, more: false });
});

Deno.test("readJournal() starts over at 0 when the journal is shorter than the offset", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  await Deno.writeTextFile(path, lines(history(1)));
  const r = await readJournal(path, 1_000_000, { maxBytes: 100 });
  assert.equal(r.offset, 0);
  assert.deepEqual(r.events, []);
});

Deno.test("readJournal() refuses a maxBytes that is not a positive integer", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  for (const maxBytes of [0, -1, 1.5, NaN]) {
    await assert.rejects(readJournal(path, 0, { maxBytes }), TypeError);
  }
});

Deno.test("EventBus journals each datum's log lines up to its budget, then one marker; subscribers get all", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, clock: () => new Date(0), maxDatumLogBytes: 2000 });
  const seen: TuskEvent[] = [];
  bus.on((e) => seen.push(e));
  const log = (datum: string, i: number) =>
    bus.emit("stage:log", { job: "j", pipeline: "p", datum, stream: "stdout", line: `line ${i}` });
  for (let i = 0; i < 100; i++) log("d1", i);
  for (let i = 0; i < 3; i++) log("d2", i);
  bus.emit("datum:finished", {
    job: "j",
    pipeline: "p",
    datum: "d1",
    state: "FAILED",
    durationMs: 1,
  });
  bus.close();
  assert.equal(seen.length, 104);
  const text = await Deno.readTextFile(path);
  const events = (await readJournal(path)).events;
  const d1 = events.flatMap((e) => e.type === "stage:log" && e.datum === "d1" ? [e.line] : []);
  assert.ok(d1.length > 5 && d1.length < 30, `${d1.length} lines of d1`);
  assert.deepEqual(d1.slice(0, -1), d1.slice(0, -1).map((_, i) => `line ${i}`));
  assert.equal(d1.at(-1), JOURNAL_LOG_MARKER);
  const d1Bytes = text.split("\n").filter((l) =>
    l.includes('"datum":"d1"') && l.includes("stage:log")
  )
    .slice(0, -1).reduce((n, l) => n + l.length + 1, 0);
  assert.ok(d1Bytes <= 2000, `${d1Bytes} bytes`);
  const d2 = events.flatMap((e) => e.type === "stage:log" && e.datum === "d2" ? [e.line] : []);
  assert.deepEqual(d2, ["line 0", "line 1", "line 2"]);
  assert.equal(events.at(-1)!.type, "datum:finished");
});

Deno.test("EventBus gives a datum run again after it finished a fresh journal budget", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/events.jsonl`;
  const bus = new EventBus({ journal: path, maxDatumLogBytes: 500 });
  const run = () => {
    for (let i = 0; i < 50; i++) {
      bus.emit("stage:log", { job: "j", pipeline: "p", datum: "d", stream: "stderr", line: "x" });
    }
    bus.emit("datum:finished", {
      job: "j",
      pipeline: "p",
      datum: "d",
      state: "FAILED",
      durationMs: 1,
    });
  };
  run();
  run();
  bus.close();
  const lines = (await readJournal(path)).events.flatMap((e) =>
    e.type === "stage:log" ? [e.line] : []
  );
  assert.equal(lines.filter((l) => l === JOURNAL_LOG_MARKER).length, 2);
  assert.ok(lines.filter((l) => l === "x").length >= 2);
});
