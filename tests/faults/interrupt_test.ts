/**
 * Ctrl-C (SIGINT) or SIGTERM of a command running a job — `put file`, or `tusk up` — is the
 * user stopping that command, not a crash the datum caused: the stages it ran are ended,
 * their runs count no try, the job is left to resume, and the command exits 130 (143 for
 * SIGTERM). However many times that happens, the next run resumes the datum and it
 * succeeds. Real processes, real signals.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempStore, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { sleep, tuskCommand } from "./_util.ts";

const NAP = `${ROOT}/tests/fixtures/stages/nap.json`;

/** How many runs of the nap stage have started, by their log line in the journal. */
async function napStarts(store: string): Promise<number> {
  let text = "";
  try {
    text = await Deno.readTextFile(`${store}/events.jsonl`);
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  }
  return text.split("\n").filter((l) => l.includes('"stage:log"') && l.includes("nap started"))
    .length;
}

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await fn()) return;
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

async function jobs(store: string): Promise<Job[]> {
  return JSON.parse((await tuskOk(["list", "job", "-p", "nap", "--json"], { store })).stdout);
}

/** The number of tries the one datum of `job` has used. */
async function datumTries(store: string, job: string): Promise<number> {
  const r = await tuskOk(["list", "datum", job, "--json"], { store });
  const [datum] = JSON.parse(r.stdout) as { tries: number }[];
  return datum!.tries;
}

/** Run `child` until the nap stage's run number `run` has started, then send it `signal`. */
async function interruptAt(
  child: Deno.ChildProcess,
  store: string,
  run: number,
  signal: Deno.Signal,
): Promise<{ code: number; stderr: string }> {
  await until(`run ${run} of the stage`, async () => (await napStarts(store)) >= run);
  child.kill(signal);
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("put file stopped by SIGINT or SIGTERM three times while its job runs never fails the datum: the next put finishes it", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", NAP, "--no-wait"], { store });
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGINT"];
  for (const [i, signal] of signals.entries()) {
    const file = `${s.path}/i${i + 1}`;
    await Deno.writeTextFile(file, `${i + 1}\n`);
    const put = tuskCommand(["put", "file", `data@master:/i${i + 1}`, "-f", file], store).spawn();
    const r = await interruptAt(put, store, i + 1, signal);
    assert.equal(r.code, signal === "SIGINT" ? 130 : 143, r.stderr);
    assert.match(r.stderr, /interrupted/i);
    const [job] = await jobs(store);
    assert.ok(job && !["SUCCESS", "FAILURE", "KILLED"].includes(job.state), "left to resume");
  }
  await Deno.writeTextFile(`${s.path}/i4`, "4\n");
  const last = await tuskOk(["put", "file", "data@master:/i4", "-f", `${s.path}/i4`], { store });
  assert.doesNotMatch(last.stderr, /FAILURE|Interrupted/, last.stderr);
  const all = await jobs(store);
  assert.deepEqual(all.map((j) => j.state), ["SUCCESS", "SUCCESS"], JSON.stringify(all));
  const first = all.at(-1)!;
  assert.equal(first.restart, 3, "the first job was resumed three times");
  assert.equal(await datumTries(store, first.id), 1, "only the run that finished counts");
  const out = await tuskOk(["get", "file", "nap@master:/i4"], { store });
  assert.equal(out.stdout, "4\n");
  await tuskOk(["verify"], { store });
});

function startUp(store: string): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, MAIN, "up", "--headless"],
    env: { TUSK_STORE: store, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
}

Deno.test("tusk up stopped by SIGTERM or SIGINT while a job runs ends it at once, counting no try, and resumes it when started again", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  await tuskOk(["create", "pipeline", "-f", NAP, "--no-wait"], { store });
  await tuskOk(["put", "file", "data@master:/a", "-f", "-", "--no-wait"], { store, stdin: "a" });
  for (const [i, signal] of (["SIGTERM", "SIGINT", "SIGTERM"] as const).entries()) {
    const r = await interruptAt(startUp(store), store, i + 1, signal);
    assert.equal(r.code, 0, r.stderr);
    const [job] = await jobs(store);
    assert.ok(job && job.state === "RUNNING", `left to resume: ${JSON.stringify(job)}`);
  }
  const up = startUp(store);
  try {
    await until("the job to end", async () => (await jobs(store))[0]?.state === "SUCCESS");
  } finally {
    up.kill("SIGTERM");
    await up.output();
  }
  const [job] = await jobs(store);
  assert.equal(job!.restart, 3);
  assert.equal(await datumTries(store, job!.id), 1);
  assert.equal((await tuskOk(["get", "file", "nap@master:/a"], { store })).stdout, "A");
});
