/**
 * The scheduler as a real background process (`tusk up --headless`): reacting to commits
 * from other processes, surviving SIGKILL mid-job, the single lease, and cron inputs. Its
 * timing (cron ticks during a long job, re-scans) is tested on a fake clock in
 * tests/scheduler/timing_test.ts.
 */
import assert from "node:assert/strict";
import { Scheduler, Store } from "../../lib/mod.ts";
import { EventBus } from "../../lib/scheduler/events.ts";
import { leaseHolder } from "../../lib/scheduler/lease.ts";
import { MAIN, ROOT, tempStore, tusk, TUSK_PERMS, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  state: string;
  outputCommit?: string;
  progress: { total: number; processed: number; skipped: number };
}

function startUp(store: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
    env: { TUSK_STORE: store, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function stop(child: Deno.ChildProcess, signal: Deno.Signal = "SIGTERM"): Promise<string> {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
  const out = await child.output();
  return new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
}

async function until<T>(
  what: string,
  fn: () => Promise<T | null | undefined | false>,
  ms = 20000,
): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Timed out waiting for ${what}`);
}

async function jobs(store: string, pipeline: string): Promise<Job[]> {
  return JSON.parse((await tuskOk(["list", "job", "-p", pipeline, "--json"], { store })).stdout);
}

Deno.test("tusk up --headless runs the job of a commit made by another process", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  const up = startUp(store);
  try {
    await until(
      "the lease",
      async () => (await tusk(["doctor", "--json"], { store })).stdout.includes("daemon"),
    );
    const r = await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], {
      store,
      stdin: "hi\n",
    });
    assert.equal(r.code, 0);
    const job = await until("a finished job", async () => {
      const list = await jobs(store, "upper");
      return list[0]?.state === "SUCCESS" ? list[0] : null;
    });
    assert.equal(job.progress.processed, 1);
    assert.equal((await tuskOk(["get", "file", "upper@master:/a.txt"], { store })).stdout, "HI\n");
  } finally {
    const log = await stop(up);
    assert.match(log, /job:created/);
  }
});

Deno.test("two schedulers on one store never both run: the second is refused", async () => {
  await using s = await tempStore();
  const store = s.store;
  const up = startUp(store);
  try {
    await until(
      "the lease",
      async () => (await tusk(["doctor", "--json"], { store })).stdout.includes("daemon"),
    );
    const second = await tusk(["up", "--headless"], { store });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /already running/);
  } finally {
    await stop(up);
  }
});

Deno.test("a scheduler killed with SIGKILL mid-job finishes the work when started again", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/slow.json`, "--no-wait"], { store });
  for (const n of [1, 2, 3]) {
    await tuskOk(["put", "file", `data@master:/f${n}.txt`, "-f", "-", "--no-wait"], {
      store,
      stdin: `${n}\n`,
    });
  }
  const first = startUp(store);
  await until("a running job", async () => (await jobs(store, "slow"))[0]?.state === "RUNNING");
  await new Promise((r) => setTimeout(r, 1800));
  await stop(first, "SIGKILL");
  const mid = (await jobs(store, "slow"))[0]!;
  assert.notEqual(mid.state, "SUCCESS");
  const head = JSON.parse(
    (await tuskOk(["list", "commit", "slow@master", "--json"], { store })).stdout,
  );
  assert.equal(head.length, 0, "no partial output commit");
  const second = startUp(store);
  try {
    const done = await until("the resumed job", async () => {
      const j = (await jobs(store, "slow"))[0];
      return j?.state === "SUCCESS" ? j : null;
    }, 30000);
    assert.equal(done.id, mid.id);
    assert.equal(done.progress.total, 3);
    const out = JSON.parse(
      (await tuskOk(["list", "file", "slow@master", "--json"], { store })).stdout,
    );
    assert.equal(out.length, 3);
    const commits = JSON.parse(
      (await tuskOk(["list", "commit", "slow@master", "--json"], { store })).stdout,
    );
    assert.equal(commits.length, 1);
  } finally {
    await stop(second);
  }
  await tuskOk(["verify"], { store });
});

Deno.test("tusk up --headless runs another pipeline's job while a long job still runs", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "a"], { store });
  await tuskOk(["create", "repo", "b"], { store });
  for (const f of ["sleepy.ts", "upper.ts"]) {
    await Deno.copyFile(`${STAGES}/${f}`, `${s.path}/${f}`);
  }
  for (const [name, repo, stage] of [["a-slow", "a", "sleepy.ts"], ["b-fast", "b", "upper.ts"]]) {
    await Deno.writeTextFile(
      `${s.path}/${name}.json`,
      JSON.stringify({
        pipeline: { name },
        transform: { cmd: ["deno", "run", stage, `/pfs/${repo}/`, "/pfs/out/"] },
        input: { pfs: { repo, glob: "/*" } },
      }),
    );
    await tuskOk(["create", "pipeline", "-f", `${s.path}/${name}.json`, "--no-wait"], { store });
  }
  const up = startUp(store);
  try {
    // The daemon holds the lease first, so the put leaves its job to it.
    await until(
      "the lease",
      async () => (await tusk(["doctor", "--json"], { store })).stdout.includes("daemon"),
    );
    await tuskOk(["put", "file", "a@master:/1.txt", "-f", "-"], { store, stdin: "1" });
    await until(
      "a-slow running",
      async () => (await jobs(store, "a-slow"))[0]?.state === "RUNNING",
    );
    await tuskOk(["put", "file", "b@master:/x.txt", "-f", "-"], { store, stdin: "x" });
    const b = await until("b-fast's job", async () => {
      const j = (await jobs(store, "b-fast"))[0];
      return j?.state === "SUCCESS" ? j : null;
    });
    assert.equal(b.progress.processed, 1);
    const a = (await jobs(store, "a-slow"))[0]!;
    assert.equal(a.state, "RUNNING");
    await tuskOk(["stop", "job", a.id], { store });
  } finally {
    await stop(up);
  }
});

Deno.test("a cron input @every 2s produces ticks and jobs, and run cron forces one", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/cron.json`], { store });
  assert.equal((await jobs(store, "ticker")).length, 0);
  await tuskOk(["run", "cron", "ticker"], { store });
  assert.equal((await jobs(store, "ticker")).length, 1);
  const up = startUp(store);
  try {
    await until(
      "two more ticker jobs",
      async () => (await jobs(store, "ticker")).length >= 3,
      15000,
    );
  } finally {
    const log = await stop(up);
    assert.match(log, /cron:tick/);
  }
  const ticks = (await tuskOk(["get", "file", "ticker@master:/ticks.txt"], { store })).stdout;
  // overwrite: true keeps only the latest tick in the cron repo.
  assert.equal(ticks.trim().split("\n").length, 1);
});

Deno.test("a damaged job record holds up nothing, inline or under tusk up: it is skipped with a warning", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "a\n" });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  const [job] = await jobs(store, "upper");
  await Deno.writeTextFile(`${store}/jobs/upper/${job!.id}.json`, '{"id": "torn');
  const inline = await tusk(["create", "pipeline", "-f", `${STAGES}/batch_upper.json`], { store });
  // The pipeline was created: the damaged record is a warning, not a failure of the command.
  assert.equal(inline.code, 0, inline.stderr);
  assert.match(inline.stderr, new RegExp(`warning: .*record of job ${job!.id} .* is damaged`));
  assert.equal((await jobs(store, "batched"))[0]?.state, "SUCCESS", "the other pipeline ran");
  // The newest record of "upper" is damaged again: the daemon meets it at once.
  const [newest] = await jobs(store, "upper");
  await Deno.writeTextFile(`${store}/jobs/upper/${newest!.id}.json`, "");
  const up = startUp(store);
  let log = "";
  try {
    await until(
      "the lease",
      async () => (await tusk(["doctor", "--json"], { store })).stdout.includes("daemon"),
    );
    await tuskOk(["put", "file", "data@master:/b.txt", "-f", "-"], { store, stdin: "b\n" });
    for (const p of ["batched", "upper"]) {
      await until(`${p}'s job on b.txt`, async () => {
        const [latest] = await jobs(store, p);
        return latest?.state === "SUCCESS" && latest.progress.total === 2;
      });
    }
    assert.equal((await tuskOk(["get", "file", "upper@master:/b.txt"], { store })).stdout, "B\n");
  } finally {
    log = await stop(up);
  }
  assert.match(
    log,
    new RegExp(
      `tusk: warning: skipped a job record: The record of job ${newest!.id} .* is damaged`,
    ),
  );
  assert.match(log, /tusk up: stopped/, "the daemon ran on until stopped");
});

Deno.test("serve() with onHeld waits while another scheduler lives, and takes over when it dies", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`, "--no-wait"], { store });
  const up = startUp(store);
  await until(
    "the lease",
    async () => (await tusk(["doctor", "--json"], { store })).stdout.includes("daemon"),
  );
  const opened = await Store.open(store);
  const shutdown = new AbortController();
  const held: number[] = [];
  let serving = false;
  const scheduler = new Scheduler(opened, { sandbox: "deno", bus: new EventBus() });
  const served = scheduler.serve(shutdown.signal, {
    leasePollMs: 50,
    onHeld: (pid) => held.push(pid),
    onServing: () => serving = true,
  });
  try {
    await until("the daemon's lease", () => Promise.resolve(held.length > 0 || serving));
    assert.deepEqual(held, [up.pid], "it waits on the daemon");
    assert.equal(serving, false);
    up.kill("SIGKILL");
    await up.status;
    await until("the takeover", () => Promise.resolve(serving));
    assert.equal((await leaseHolder(opened))?.pid, Deno.pid);
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "a\n" });
    await until(
      "the job, run here",
      async () => (await jobs(store, "upper"))[0]?.state === "SUCCESS",
    );
  } finally {
    shutdown.abort();
    await served;
    try {
      up.kill("SIGKILL");
    } catch { /* gone */ }
    await up.output().catch(() => {});
  }
  assert.equal(await leaseHolder(opened), null, "the lease is given back");
});
