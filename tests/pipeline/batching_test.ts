/** Datum batching through the real CLI: one process for many datums, per-datum results. */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  state: string;
  reason?: string;
  progress: { total: number; processed: number; skipped: number; failed: number };
}

for (const mode of ["bwrap", "deno"] as const) {
  Deno.test(`[${mode}] a batched job runs every datum in one process and keeps per-datum outputs`, async () => {
    await using s = await tempStore();
    const store = s.store;
    const env = { TUSK_SANDBOX: mode };
    await tuskOk(["create", "repo", "data"], { store });
    for (const n of ["a", "b", "c"]) {
      await tuskOk(["put", "file", `data@master:/${n}.txt`, "-f", "-"], { store, stdin: n });
    }
    await tuskOk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store, env });
    const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
    assert.equal(job!.state, "SUCCESS", job!.reason);
    assert.equal(job!.progress.processed, 3);
    for (const n of ["a", "b", "c"]) {
      const r = await tuskOk(["get", "file", `batched@master:/${n}.txt`], { store });
      assert.equal(r.stdout, n.toUpperCase());
    }
  });
}

Deno.test("a datum the batch answers with an error fails alone, naming its message", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "fine" });
  await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { store, stdin: "bad" });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store });
  const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  assert.equal(job!.state, "FAILURE");
  assert.equal(job!.progress.processed, 1);
  assert.equal(job!.progress.failed, 1);
  assert.match(job!.reason!, /b\.txt is bad/);
});
