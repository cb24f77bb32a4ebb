/** The dashboard's default bounds: what `tusk up` keeps of a long history. */
import assert from "node:assert/strict";
import { DEFAULT_LIMITS } from "../../tui/view.ts";
import { initialState, reduce } from "../../tui/state.ts";
import { history, jobId } from "./_events.ts";

Deno.test("initialState() by default keeps 1,000 job rows and details of the newest 200", () => {
  const s = reduce(initialState(), { kind: "feed", items: history(3_000) });
  assert.deepEqual(s.limits, DEFAULT_LIMITS);
  assert.equal(s.order.length, 1_000);
  assert.equal(s.order[0], jobId(2_001));
  assert.equal(s.totalJobs, 3_000);
  const detailed = s.order.filter((id) => s.jobs.get(id)!.detailed);
  assert.equal(detailed.length, 200);
  assert.equal(detailed[0], jobId(2_801));
  assert.ok(s.jobs.get(jobId(3_000))!.logs.length > 0);
  assert.equal(s.jobs.get(jobId(2_800))!.logs.length, 0);
  assert.equal(s.selectedId, jobId(3_000));
});
