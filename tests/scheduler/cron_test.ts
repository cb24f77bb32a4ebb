/** Cron timers on a fake clock: each input's tick fires at its time, never before. */
import assert from "node:assert/strict";
import type { Pipeline } from "../../lib/pipeline/pipelines.ts";
import { parseSpec } from "../../lib/pipeline/spec/parse_spec.ts";
import { CronTimers } from "../../lib/scheduler/cron.ts";
import { FakeClock } from "./_fakes.ts";

/** A pipeline record with one cron input `tick` on `spec`, as far as the timers read it. */
function cronPipeline(spec: string, stopped = false): Pipeline {
  const parsed = parseSpec({
    pipeline: { name: "ticker" },
    transform: { cmd: ["deno", "run", "tick.ts", "/pfs/tick/", "/pfs/out/"] },
    input: { cron: { name: "tick", spec } },
  });
  return { name: "ticker", stopped, parsed } as unknown as Pipeline;
}

/** Timers on `clock` that note, for each tick fired, the clock's time and the tick's. */
function recorded(clock: FakeClock) {
  const fired: [string, string][] = [];
  const timers = new CronTimers(clock, (_p, _input, at) => {
    fired.push([new Date(clock.now()).toISOString(), at.toISOString()]);
  });
  return { fired, timers };
}

Deno.test("CronTimers fires an @every 2s tick at its time on the clock", async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 0, 500));
  const { fired, timers } = recorded(clock);
  timers.arm([cronPipeline("@every 2s")]);
  assert.deepEqual([...timers.schedule], [["ticker/tick", Date.UTC(2026, 0, 1, 0, 0, 2)]]);
  await clock.advance(1499);
  assert.deepEqual(fired, []);
  await clock.advance(1);
  assert.deepEqual(fired, [["2026-01-01T00:00:02.000Z", "2026-01-01T00:00:02.000Z"]]);
});

Deno.test("CronTimers waits for a @monthly tick further off than the longest timer", async () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1, 0, 0, 1));
  const { fired, timers } = recorded(clock);
  timers.arm([cronPipeline("@monthly")]);
  await clock.advance(Date.UTC(2026, 1, 1) - clock.now() - 1);
  assert.deepEqual(fired, [], "no tick before February 1st");
  await clock.advance(1);
  assert.deepEqual(fired, [["2026-02-01T00:00:00.000Z", "2026-02-01T00:00:00.000Z"]]);
});

Deno.test("CronTimers arms no timer for a stopped pipeline, and drops one whose pipeline went", () => {
  const clock = new FakeClock(Date.UTC(2026, 0, 1));
  const { timers } = recorded(clock);
  timers.arm([cronPipeline("@every 2s", true)]);
  assert.deepEqual(clock.pending(), []);
  timers.arm([cronPipeline("@every 2s")]);
  assert.deepEqual(clock.pending(), [2000]);
  timers.arm([]);
  assert.deepEqual(clock.pending(), []);
});
