/**
 * Pipeline verbs through the real CLI: wait commit / wait job, start and stop pipeline,
 * stop job, draw pipeline, logs -f, and their error paths.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempStore, tusk, TUSK_PERMS, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  pipeline: string;
  state: string;
  reason?: string;
}

async function jobs(store: string, pipeline: string): Promise<Job[]> {
  return JSON.parse((await tuskOk(["list", "job", "-p", pipeline, "--json"], { store })).stdout);
}

function spawnTusk(args: string[], store: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, ...args],
    env: { TUSK_STORE: store, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("wait commit returns once every downstream job of the branch head has finished", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/slow.json`, "--no-wait"], { store });
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-", "--no-wait"], {
    store,
    stdin: "a",
  });
  const up = spawnTusk(["up", "--headless"], store);
  try {
    // Wait while the scheduler runs the job (with none running, wait would run it itself).
    const deadline = Date.now() + 60_000;
    while (!(await tuskOk(["doctor", "--json"], { store })).stdout.includes('"daemon pid')) {
      assert.ok(Date.now() < deadline, "the scheduler took the lease");
      await new Promise((r) => setTimeout(r, 50));
    }
    const r = await tuskOk(["wait", "commit", "data@master", "--json"], { store });
    const waited = JSON.parse(r.stdout) as Job[];
    assert.equal(waited.length, 1);
    assert.equal(waited[0]!.state, "SUCCESS");
    assert.equal((await tuskOk(["get", "file", "slow@master:/a.txt"], { store })).stdout, "a");
    const w = await tuskOk(["wait", "job", waited[0]!.id], { store });
    assert.match(w.stdout, /SUCCESS/);
  } finally {
    up.kill("SIGTERM");
    await up.output();
  }
});

Deno.test("wait commit and wait job name what they cannot find", async () => {
  await using s = await tempStore();
  const store = s.store;
  const repo = await tusk(["wait", "commit", "nope@master"], { store });
  assert.equal(repo.code, 1);
  assert.match(repo.stderr, /Cannot find repo "nope"/);
  const job = await tusk(["wait", "job", "0123abcd"], { store });
  assert.equal(job.code, 1);
  assert.match(job.stderr, /Cannot find job "0123abcd"/);
});

Deno.test("a stopped pipeline runs no jobs until it is started again", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  await tuskOk(["stop", "pipeline", "upper"], { store });
  const list = JSON.parse((await tuskOk(["list", "pipeline", "--json"], { store })).stdout);
  assert.equal(list[0].state, "paused");
  await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "a" });
  assert.equal((await jobs(store, "upper")).length, 0);
  await tuskOk(["start", "pipeline", "upper"], { store });
  const after = await jobs(store, "upper");
  assert.equal(after.length, 1);
  assert.equal(after[0]!.state, "SUCCESS");
  const missing = await tusk(["stop", "pipeline", "uper"], { store });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /did you mean "upper"/);
});

Deno.test("stop job kills a running job: KILLED, output branch untouched", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/slow.json`, "--no-wait"], { store });
  for (const n of [1, 2, 3, 4]) {
    await tuskOk(["put", "file", `data@master:/f${n}`, "-f", "-", "--no-wait"], {
      store,
      stdin: `${n}`,
    });
  }
  const up = spawnTusk(["up", "--headless"], store);
  try {
    let running: Job | undefined;
    for (let i = 0; i < 200 && !running; i++) {
      running = (await jobs(store, "slow")).find((j) => j.state === "RUNNING");
      if (!running) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(running, "a job started");
    await tuskOk(["stop", "job", running.id], { store });
    const done = await tuskOk(["wait", "job", running.id, "--json"], { store });
    const job = JSON.parse(done.stdout) as Job;
    assert.equal(job.state, "KILLED");
    assert.match(job.reason!, /stopped/);
    const commits = JSON.parse(
      (await tuskOk(["list", "commit", "slow@master", "--json"], { store })).stdout,
    );
    assert.equal(commits.length, 0);
  } finally {
    up.kill("SIGTERM");
    await up.output();
  }
  await tuskOk(["verify"], { store });
});

Deno.test("draw pipeline shows each pipeline with its inputs and output", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "repo", "model"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/cross.json`, "--no-wait"], { store });
  const r = await tuskOk(["draw", "pipeline"], { store });
  assert.match(r.stdout, /data \+ model ──▶ \[paired\] ──▶ paired@master/);
});

Deno.test("logs -f prints the lines of a job that runs after it started", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`, "--no-wait"], { store });
  const follow = spawnTusk(["logs", "--pipeline", "upper", "-f"], store);
  try {
    await new Promise((r) => setTimeout(r, 500));
    await tuskOk(["put", "file", "data@master:/late.txt", "-f", "-"], { store, stdin: "late" });
    const reader = follow.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const deadline = Date.now() + 10000;
    while (!text.includes("upper late.txt") && Date.now() < deadline) {
      const { value, done } = await Promise.race([
        reader.read(),
        new Promise<{ value: undefined; done: true }>((r) =>
          setTimeout(() => r({ value: undefined, done: true }), deadline - Date.now())
        ),
      ]);
      if (done) break;
      text += value;
    }
    reader.releaseLock();
    assert.match(text, /upper late\.txt \(4 bytes\)/);
  } finally {
    follow.kill("SIGTERM");
    await follow.output().catch(() => {});
  }
});

Deno.test("a job id prefix two jobs share is refused naming them, and stops nothing", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", `${STAGES}/upper.json`], { store });
  for (const name of ["a", "b"]) {
    await tuskOk(["put", "file", `data@master:/${name}`, "-f", "-"], { store, stdin: name });
  }
  const [newer, older] = await jobs(store, "upper");
  // Ids begin with the time, so two jobs made a moment apart share their first digits.
  const shared = older!.id.slice(0, 4);
  assert.ok(newer!.id.startsWith(shared));
  for (
    const args of [["stop", "job", shared], ["inspect", "job", shared], ["logs", "--job", shared]]
  ) {
    const r = await tusk(args, { store });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`Job id prefix "${shared}" matches 2 jobs`));
    assert.ok(r.stderr.includes(`upper@${older!.id}`) && r.stderr.includes(`upper@${newer!.id}`));
  }
  const unique = await tuskOk(["inspect", "job", older!.id.slice(0, 12), "--json"], { store });
  assert.equal(JSON.parse(unique.stdout).id, older!.id);
  const scoped = await tuskOk(["inspect", "job", `upper@${newer!.id.slice(0, 12)}`, "--json"], {
    store,
  });
  assert.equal(JSON.parse(scoped.stdout).id, newer!.id);
});
