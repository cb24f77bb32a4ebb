/**
 * A damaged job index (`jobs/<pipeline>/jobs.index`) through the real CLI: `verify` reports
 * it by name and exit 1 and changes nothing; the next listing or job rebuilds it from the
 * records, so no job stays hidden; a link in its place is never followed.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "../_helpers.ts";
import { ok, tusk } from "./_cli.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;
const LINE = 33;

interface Job {
  id: string;
}

/** A store with repo `data`, pipeline `upper` and two jobs of it; the jobs' ids, oldest first. */
async function withTwoJobs() {
  const dir = await tempDir();
  const store = `${dir.path}/.tusk`;
  const o = { store };
  await ok(["init"], o);
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { ...o, stdin: "a\n" });
  await ok(["create", "pipeline", "-f", `${STAGES}/upper.json`], o);
  await ok(["put", "file", "data@master:/b.txt", "-f", "-"], { ...o, stdin: "b\n" });
  const ids = await listed(o);
  assert.equal(ids.length, 2, "two jobs ran");
  return {
    dir: dir.path,
    store,
    o,
    ids,
    index: `${store}/jobs/upper/jobs.index`,
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/** The ids `list job --json` shows, oldest first. */
async function listed(o: { store: string }): Promise<string[]> {
  return (JSON.parse((await ok(["list", "job", "--json"], o)).stdout) as Job[])
    .map((j) => j.id).sort();
}

/** The index as whole lines, in the file's order. */
async function indexLines(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).split("\n").filter((l) => l !== "");
}

/** `verify` fails with exit 1, naming the index file and `why`, and leaves it as it was. */
async function verifyReports(
  o: { store: string },
  index: string,
  why: RegExp,
  sameAfter: () => Promise<unknown>,
): Promise<void> {
  const before = await sameAfter();
  const r = await tusk(["verify"], o);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  assert.match(r.stderr, /job index of pipeline "upper"/);
  assert.ok(r.stderr.includes(`"${index}"`), `names the file: ${r.stderr}`);
  assert.match(r.stderr, why);
  assert.deepEqual(await sameAfter(), before, "verify changed nothing");
}

Deno.test("A dangling link in place of the job index: verify fails naming it, and list job rebuilds it", async () => {
  await using s = await withTwoJobs();
  await Deno.remove(s.index);
  await Deno.symlink(`${s.dir}/nowhere`, s.index);
  await verifyReports(s.o, s.index, /not a regular file/, () => Deno.readLink(s.index));
  assert.deepEqual(await listed(s.o), s.ids);
  assert.ok((await Deno.lstat(s.index)).isFile, "the link was replaced by a file");
  assert.deepEqual(await indexLines(s.index), s.ids);
  await ok(["verify"], s.o);
});

Deno.test("A link in place of the job index is never written through: the next job rebuilds it", async () => {
  await using s = await withTwoJobs();
  const outside = `${s.dir}/outside.index`;
  await Deno.writeTextFile(outside, `${s.ids[0]}\n`);
  await Deno.remove(s.index);
  await Deno.symlink(outside, s.index);
  await ok(["put", "file", "data@master:/c.txt", "-f", "-"], { ...s.o, stdin: "c\n" });
  assert.equal(await Deno.readTextFile(outside), `${s.ids[0]}\n`, "the link's target untouched");
  assert.ok((await Deno.lstat(s.index)).isFile);
  const all = await listed(s.o);
  assert.equal(all.length, 3);
  assert.deepEqual(await indexLines(s.index), all);
  await ok(["verify"], s.o);
});

Deno.test("An empty job index while records exist: verify fails naming a hidden job; list job shows every job", async () => {
  await using s = await withTwoJobs();
  await Deno.truncate(s.index, 0);
  await verifyReports(
    s.o,
    s.index,
    new RegExp(`does not name job ${s.ids[0]}`),
    () => Deno.readFile(s.index),
  );
  assert.deepEqual(await listed(s.o), s.ids);
  assert.deepEqual(await indexLines(s.index), s.ids);
  await ok(["verify"], s.o);
});

Deno.test("A job appended to an empty job index does not keep the older jobs hidden", async () => {
  await using s = await withTwoJobs();
  await Deno.truncate(s.index, 0);
  await ok(["put", "file", "data@master:/c.txt", "-f", "-"], { ...s.o, stdin: "c\n" });
  const all = await listed(s.o);
  assert.equal(all.length, 3, `every job listed: ${all}`);
  assert.deepEqual(all.slice(0, 2), s.ids);
  assert.equal((await Deno.stat(s.index)).size, 3 * LINE);
  await ok(["verify"], s.o);
});

for (
  const [what, damage] of [
    ["lines out of order", (ids: string[]) => `${ids[1]}\n${ids[0]}\n`],
    ["a garbage line", (ids: string[]) => `${ids[0]}\n${"z".repeat(32)}\n${ids[1]}\n`],
  ] as const
) {
  Deno.test(`A job index with ${what}: verify fails and changes nothing; list job rebuilds it right`, async () => {
    await using s = await withTwoJobs();
    await Deno.writeTextFile(s.index, damage(s.ids));
    await verifyReports(
      s.o,
      s.index,
      /not whole lines of job ids in order/,
      () => Deno.readTextFile(s.index),
    );
    assert.deepEqual(await listed(s.o), s.ids);
    assert.deepEqual(await indexLines(s.index), s.ids, "rebuilt in order, from the records");
    await ok(["verify"], s.o);
  });
}

Deno.test("gc keeps the logs of a job the job index does not name, and leaves the index for verify", async () => {
  await using s = await withTwoJobs();
  await Deno.writeTextFile(s.index, `${s.ids[1]}\n`);
  await ok(["gc"], s.o);
  assert.deepEqual(await indexLines(s.index), [s.ids[1]], "gc changed no index");
  const logs = await tusk(["logs", "--job", s.ids[0]!], s.o);
  assert.equal(logs.code, 0, logs.stderr);
  const r = await tusk(["verify"], s.o);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`does not name job ${s.ids[0]}`));
  await Deno.remove(s.index);
  assert.deepEqual(await listed(s.o), s.ids);
  await ok(["verify"], s.o);
});
