/**
 * A pipeline deleted and created again under the same name, through the real CLI, is a new
 * pipeline (as in Pachyderm): it runs a new job over every datum, with whatever code it has
 * now, and the deleted pipeline's jobs are gone with it.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  state: string;
  codeHash: string;
  progress: { processed: number; skipped: number; total: number };
}

async function jobs(store: string): Promise<Job[]> {
  const r = await tuskOk(["list", "job", "-p", "upper", "--json"], { store });
  return JSON.parse(r.stdout) as Job[];
}

/** A store with repo data holding /a.txt, and upper.ts + upper.json in a folder of its own. */
async function setUp(path: string, store: string): Promise<string> {
  const dir = `${path}/spec`;
  await Deno.mkdir(dir);
  await Deno.copyFile(`${STAGES}/upper.ts`, `${dir}/upper.ts`);
  await Deno.copyFile(`${STAGES}/upper.json`, `${dir}/upper.json`);
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "abc\n" });
  return dir;
}

Deno.test("a pipeline deleted and created again with new code runs a job with the new code", async () => {
  await using s = await tempStore();
  const store = s.store;
  const dir = await setUp(s.path, store);
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  const [first] = await jobs(store);
  assert.equal(first?.state, "SUCCESS");
  await tuskOk(["delete", "pipeline", "upper"], { store });
  const code = await Deno.readTextFile(`${dir}/upper.ts`);
  await Deno.writeTextFile(
    `${dir}/upper.ts`,
    code.replace("text.toUpperCase()", '"v2:" + text.toUpperCase()'),
  );
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  const after = await jobs(store);
  assert.equal(after.length, 1, "the deleted pipeline's job went with it");
  assert.notEqual(after[0]!.id, first.id);
  assert.equal(after[0]!.state, "SUCCESS");
  assert.notEqual(after[0]!.codeHash, first.codeHash);
  const out = await tuskOk(["get", "file", "upper@master:/a.txt"], { store });
  assert.equal(out.stdout, "v2:ABC\n");
});

Deno.test("a pipeline deleted and created again with the same code runs a new job over every datum", async () => {
  await using s = await tempStore();
  const store = s.store;
  const dir = await setUp(s.path, store);
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  const [first] = await jobs(store);
  assert.equal(first?.state, "SUCCESS");
  await tuskOk(["delete", "pipeline", "upper"], { store });
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  const after = await jobs(store);
  assert.equal(after.length, 1);
  assert.notEqual(after[0]!.id, first.id);
  assert.equal(after[0]!.state, "SUCCESS");
  assert.deepEqual(after[0]!.progress, { ...first.progress }, "processed again, nothing skipped");
  assert.equal(after[0]!.progress.processed, 1);
  const out = await tuskOk(["get", "file", "upper@master:/a.txt"], { store });
  assert.equal(out.stdout, "ABC\n");
  await tuskOk(["verify"], { store });
});

Deno.test("job records a crash left behind from a deleted pipeline are not taken for the new one's", async () => {
  await using s = await tempStore();
  const store = s.store;
  const dir = await setUp(s.path, store);
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  const [first] = await jobs(store);
  assert.equal(first?.state, "SUCCESS");
  // A crash between the ledger entry of `delete pipeline` and the removal of its job
  // records leaves them, its datum index and (say) an unfinished job behind.
  const records = `${store}/jobs/upper`;
  const saved = `${s.path}/saved-jobs`;
  await Deno.rename(records, saved);
  await tuskOk(["delete", "pipeline", "upper"], { store });
  await Deno.rename(saved, records);
  const old = JSON.parse(await Deno.readTextFile(`${records}/${first.id}.json`));
  old.state = "RUNNING";
  await Deno.writeTextFile(`${records}/${first.id}.json`, JSON.stringify(old));
  await tuskOk(["create", "pipeline", "-f", `${dir}/upper.json`], { store });
  const after = await jobs(store);
  assert.equal(after.length, 2);
  const fresh = after.find((j) => j.id !== first.id)!;
  assert.equal(fresh.state, "SUCCESS");
  assert.equal(fresh.progress.processed, 1, "nothing reused from the deleted pipeline");
  assert.equal(after.find((j) => j.id === first.id)!.state, "KILLED");
  const out = await tuskOk(["get", "file", "upper@master:/a.txt"], { store });
  assert.equal(out.stdout, "ABC\n");
});
