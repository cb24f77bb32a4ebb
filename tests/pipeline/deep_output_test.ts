/**
 * Deep output trees through the real CLI: a stage that builds a folder chain far deeper
 * than a native stack or PATH_MAX fails its datum naming the depth limit (the supervisor
 * neither crashes nor leaves the tree behind), and an output exactly at the limit is
 * committed and readable.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";
import { MAX_OUTPUT_DEPTH } from "../../lib/runner/harvest.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  state: string;
  reason?: string;
  progress: { failed: number };
}

async function jobs(store: string): Promise<Job[]> {
  const r = await tuskOk(["list", "job", "-p", "deep", "--json"], { store });
  return JSON.parse(r.stdout) as Job[];
}

/** Folders left under the store's work folder (each job's workspace, while it runs). */
async function workLeft(store: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(`${store}/work`)) names.push(e.name);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return names;
}

Deno.test("a stage building a 12,000-level tree fails its datum naming the depth limit; tusk carries on", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/depth", "-f", "-"], { store, stdin: "12000\n" });
  const r = await tusk(["create", "pipeline", "-f", `${STAGES}/deep_tree.json`], { store });
  assert.equal(r.code, 0, `tusk exits normally (not 134):\n${r.stderr}`);
  const [job] = await jobs(store);
  assert.equal(job?.state, "FAILURE");
  assert.equal(job.progress.failed, 1);
  assert.ok(job.reason?.includes(`limit of ${MAX_OUTPUT_DEPTH} levels`), job.reason);
  assert.deepEqual(await workLeft(store), [], "the workspace and its deep tree are removed");
  // Later commands neither crash nor run the datum again.
  const again = await tusk(["put", "file", "data@master:/note.txt", "-f", "-"], {
    store,
    stdin: "hi\n",
  });
  assert.equal(again.code, 0, again.stderr);
  const after = await jobs(store);
  assert.equal(after.length, 2, "one new job for the new commit, none for the old one");
  assert.equal(after[0]!.state, "FAILURE");
  await tuskOk(["verify"], { store });
});

Deno.test("an output exactly MAX_OUTPUT_DEPTH segments deep is committed and readable", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/depth", "-f", "-"], {
    store,
    stdin: `${MAX_OUTPUT_DEPTH}\n`,
  });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/deep_tree.json`], { store });
  const [job] = await jobs(store);
  assert.equal(job?.state, "SUCCESS", job?.reason);
  const path = "/d".repeat(MAX_OUTPUT_DEPTH - 1) + "/leaf.txt";
  const got = await tuskOk(["get", "file", `deep@master:${path}`], { store });
  assert.equal(got.stdout, "leaf\n");
  await tuskOk(["verify"], { store });
});
