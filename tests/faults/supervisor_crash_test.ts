/**
 * A datum whose run takes its supervisor down (here: `tusk up` killed with SIGKILL while the
 * datum runs, as a crash would) is not retried forever: each run is noted before it starts,
 * the runs count across restarts against `datumTries`, and once they are used up the job
 * ends failed without running the datum again.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempStore, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { sleep } from "./_util.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

function startUp(store: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
    env: { TUSK_STORE: store, NO_COLOR: "1" },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

/** How many runs of a hanging stage have started, by their log line in the journal. */
async function stageStarts(store: string, line = "hang started"): Promise<number> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${store}/events.jsonl`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return text.split("\n").filter((l) => l.includes('"stage:log"') && l.includes(line)).length;
}

async function until<T>(
  what: string,
  fn: () => Promise<T | null | false>,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await sleep(50);
  }
  throw new Error(`Timed out waiting for ${what}`);
}

interface Job {
  id: string;
  state: string;
  restart: number;
  reason?: string;
}

Deno.test("a datum that kills its supervisor datumTries times ends the job failed, not in a loop", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/hang.json`, "--no-wait"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], {
    store,
    stdin: "a\n",
  });
  for (const round of [1, 2]) {
    const up = startUp(store);
    await until(`run ${round} of the datum`, async () => (await stageStarts(store)) >= round);
    up.kill("SIGKILL");
    await up.status;
  }
  const up = startUp(store);
  try {
    const job = await until("the job to end", async () => {
      const r = await tuskOk(["list", "job", "-p", "hang", "--json"], { store });
      const j = (JSON.parse(r.stdout) as Job[])[0];
      return j && j.state !== "RUNNING" && j.state !== "STARTING" ? j : null;
    });
    assert.equal(job.state, "FAILURE");
    assert.equal(job.restart, 2);
    assert.match(job.reason ?? "", /Interrupted 2 time\(s\)/);
    assert.equal(await stageStarts(store), 2, "the datum did not run a third time");
  } finally {
    up.kill("SIGTERM");
    await up.status;
  }
  await tuskOk(["verify"], { store });
});

Deno.test("datums of a batch that killed its supervisor are retried one by one, each a batch of one; the culprit ends failed", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/hang_batch.json`, "--no-wait"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], {
    store,
    stdin: "fine\n",
  });
  await tuskOk(["put", "file", "data@master:/h.txt", "-f", "-", "--no-wait"], {
    store,
    stdin: "hang\n",
  });
  // The first run is the batch; the second, the culprit alone (a batch of one).
  for (const round of [1, 2]) {
    const up = startUp(store);
    await until(
      `run ${round} of the hanging datum`,
      async () => (await stageStarts(store, "hang started batch")) >= round,
    );
    up.kill("SIGKILL");
    await up.status;
  }
  const up = startUp(store);
  try {
    const job = await until("the job to end", async () => {
      const r = await tuskOk(["list", "job", "-p", "hangbatch", "--json"], { store });
      const j = (JSON.parse(r.stdout) as Job[])[0];
      return j && j.state !== "RUNNING" && j.state !== "STARTING" ? j : null;
    });
    assert.equal(job.state, "FAILURE");
    const r = await tuskOk(["list", "datum", job.id, "--json"], { store });
    const datums = JSON.parse(r.stdout) as { state: string; inputs: { path: string }[] }[];
    const by = new Map(datums.map((d) => [d.inputs[0]!.path, d.state]));
    // a.txt succeeded on its own in the second run, so the last run reuses it.
    assert.deepEqual(Object.fromEntries(by), { "/a.txt": "SKIPPED", "/h.txt": "FAILED" });
    assert.equal(await stageStarts(store, "hang started batch"), 2);
    assert.equal(await stageStarts(store, "hang started single"), 0, "always with --batch");
  } finally {
    up.kill("SIGTERM");
    await up.status;
  }
});
