/**
 * Transform options through the real CLI: acceptReturnCode, errCmd, datumTimeout,
 * transform.env and transform.stdin.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  id: string;
  state: string;
  reason?: string;
  progress: { total: number; processed: number; failed: number; recovered: number };
}

async function setup(spec: Record<string, unknown>, content: string) {
  const s = await tempStore();
  for (const f of ["exit_code.ts", "recover.ts", "env_stdin.ts", "sleepy.ts"]) {
    await Deno.copyFile(`${STAGES}/${f}`, `${s.path}/${f}`);
  }
  await tuskOk(["create", "repo", "data"], { store: s.store });
  await tuskOk(["put", "file", "data@master:/x", "-f", "-"], { store: s.store, stdin: content });
  await Deno.writeTextFile(
    `${s.path}/spec.json`,
    JSON.stringify({
      pipeline: { name: "p" },
      input: { pfs: { repo: "data", glob: "/*" } },
      ...spec,
    }),
  );
  await tuskOk(["create", "pipeline", "-f", `${s.path}/spec.json`], { store: s.store });
  const [job] = JSON.parse(
    (await tuskOk(["list", "job", "--json"], { store: s.store })).stdout,
  ) as Job[];
  return { s, job: job! };
}

const exitCmd = ["deno", "run", "exit_code.ts", "/pfs/data/", "/pfs/out/"];

Deno.test("acceptReturnCode lets a datum that exits with a listed code succeed", async () => {
  const { s, job } = await setup({ transform: { cmd: exitCmd, acceptReturnCode: [3] } }, "3");
  await using _ = s;
  assert.equal(job.state, "SUCCESS");
  assert.equal(
    (await tuskOk(["get", "file", "p@master:/ran"], { store: s.store })).stdout,
    "ran\n",
  );
});

Deno.test("a datum that exits with another code fails after datumTries attempts", async () => {
  const { s, job } = await setup({ transform: { cmd: exitCmd }, datumTries: 2 }, "4");
  await using _ = s;
  assert.equal(job.state, "FAILURE");
  assert.match(job.reason!, /code 4/);
  const [datum] = JSON.parse(
    (await tuskOk(["list", "datum", job.id, "--json"], { store: s.store })).stdout,
  );
  assert.equal(datum.tries, 2);
});

Deno.test("errCmd that succeeds marks the failed datum RECOVERED and the job succeeds", async () => {
  const { s, job } = await setup({
    transform: { cmd: exitCmd, errCmd: ["deno", "run", "recover.ts"] },
    datumTries: 1,
  }, "5");
  await using _ = s;
  assert.equal(job.state, "SUCCESS");
  assert.equal(job.progress.recovered, 1);
  assert.equal(job.progress.failed, 0);
  const logs = await tuskOk(["logs", "--job", job.id], { store: s.store });
  assert.match(logs.stdout, /recovering from a failed datum/);
});

Deno.test("datumTimeout kills a stage that runs too long and says so", async () => {
  const { s, job } = await setup({
    transform: { cmd: ["deno", "run", "sleepy.ts", "/pfs/data/", "/pfs/out/"] },
    datumTimeout: "1s",
    datumTries: 1,
  }, "x");
  await using _ = s;
  assert.equal(job.state, "FAILURE");
  assert.match(job.reason!, /time/i);
});

Deno.test("transform.env and transform.stdin reach the stage, and nothing else of the environment", async () => {
  const { s, job } = await setup({
    transform: {
      cmd: ["deno", "run", "env_stdin.ts", "/pfs/data/", "/pfs/out/"],
      env: { GREETING: "hello" },
      stdin: ["line one", "line two"],
    },
  }, "x");
  await using _ = s;
  assert.equal(job.state, "SUCCESS", job.reason);
  const said = (await tuskOk(["get", "file", "p@master:/said.txt"], { store: s.store })).stdout;
  assert.equal(said, "hello|line one\nline two\n");
});

Deno.test("restart datum re-runs the newest job's failed datums; an older job is refused", async () => {
  const { s, job } = await setup({ transform: { cmd: exitCmd }, datumTries: 1 }, "4");
  await using _ = s;
  const store = s.store;
  assert.equal(job.state, "FAILURE");
  await tuskOk(["restart", "datum", job.id], { store });
  const again = JSON.parse((await tuskOk(["inspect", "job", job.id, "--json"], { store })).stdout);
  assert.equal(again.restart, 1);
  assert.equal(again.state, "FAILURE");
  assert.equal(again.progress.failed, 1);
  await tuskOk(["put", "file", "data@master:/x", "-f", "-"], { store, stdin: "0" });
  const older = await tusk(["restart", "datum", job.id], { store });
  assert.equal(older.code, 2);
  assert.match(older.stderr, /not the newest job/);
  const missing = await tusk(["restart", "datum", job.id, "ffff0000"], { store });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /Cannot find datum "ffff0000"/);
});

Deno.test('reprocessSpec "every_job" re-runs every datum of every job', async () => {
  const { s, job } = await setup({
    transform: { cmd: ["deno", "run", "exit_code.ts", "/pfs/data/", "/pfs/out/"] },
    reprocessSpec: "every_job",
  }, "0");
  await using _ = s;
  const store = s.store;
  assert.equal(job.state, "SUCCESS");
  await tuskOk(["put", "file", "data@master:/y", "-f", "-"], { store, stdin: "0" });
  const [second] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  assert.equal(second!.progress.processed, 2);
});

Deno.test("create pipeline with a spec file that does not exist fails with exit 2 naming it", async () => {
  await using s = await tempStore();
  const r = await tusk(["create", "pipeline", "-f", `${s.path}/nope.json`], { store: s.store });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Cannot read pipeline spec ".*nope\.json"/);
});
