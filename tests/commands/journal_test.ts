/** `followLogs()`: the stage log lines journaled after it starts, filtered, until aborted. */
import assert from "node:assert/strict";
import { followLogs, journalPath, type StageLogEvent } from "../../lib/commands/journal.ts";
import { NotFoundError } from "../../lib/errors.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";

function log(bus: EventBus, pipeline: string, datum: string, line: string): void {
  bus.emit("stage:log", { job: "j1", pipeline, datum, stream: "stdout", line });
}

Deno.test("followLogs() gives the matching stage log lines journaled after it starts", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const bus = new EventBus({ journal: journalPath(store) });
  log(bus, "a", "d1", "before");
  const ac = new AbortController();
  const lines = await followLogs(store, { pipeline: "a", datum: "d" }, {
    pollMs: 5,
    signal: ac.signal,
  });
  log(bus, "b", "d1", "other pipeline");
  log(bus, "a", "x9", "other datum");
  log(bus, "a", "d1", "one");
  bus.emit("job:created", { job: "j1", pipeline: "a", version: 1, inputs: [] });
  log(bus, "a", "d2", "two");
  const got: StageLogEvent[] = [];
  for await (const e of lines) {
    got.push(e);
    if (got.length === 2) ac.abort();
  }
  bus.close();
  assert.deepEqual(got.map((e) => e.line), ["one", "two"]);
});

Deno.test("followLogs() refuses a job it cannot find with NotFoundError", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  await assert.rejects(followLogs(store, { job: "0123abcd" }), NotFoundError);
});
