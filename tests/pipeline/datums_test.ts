/**
 * The datum planner against a real store: `pfs` globs, `cross`, `union`, `join` (inner and
 * outer, `$1` and `${1}` keys) and `group`, as Pachyderm splits a job's input; and tusk's
 * `optional` pfs inputs.
 */
import assert from "node:assert/strict";
import { createRepo } from "../../lib/commands/repo.ts";
import {
  type Datum,
  datumFolders,
  type InputCommits,
  planDatums,
} from "../../lib/pipeline/datums.ts";
import { parseSpec } from "../../lib/pipeline/spec/parse_spec.ts";
import { putText, type TestStore, testStore } from "../store/_fixtures.ts";

const CODE = "0".repeat(64);

/** A store with repos `a` and `b`, each holding the given files on master. */
async function twoRepos(files: { a: string[]; b: string[] }): Promise<TestStore & InputHeads> {
  const t = await testStore();
  const heads = new Map<string, { repo: string; commit: string | null }>();
  for (const repo of ["a", "b"] as const) {
    await createRepo(t.store, repo);
    let head: string | null = null;
    for (const path of files[repo]) {
      head = (await putText(t, `${repo}@master:${path}`, `${repo}${path}\n`)).commit.id;
    }
    heads.set(repo, { repo, commit: head });
  }
  return Object.assign(t, { heads });
}

interface InputHeads {
  readonly heads: Map<string, { repo: string; commit: string | null }>;
}

/** Plan the datums of a spec whose `input` is given, reading each repo's master head. */
async function plan(t: TestStore & InputHeads, input: unknown): Promise<Datum[]> {
  const spec = parseSpec({
    pipeline: { name: "p" },
    transform: { cmd: ["deno", "run", "main.ts"] },
    input,
  });
  const commits: InputCommits = new Map(
    [...t.heads.values()].map((h) => [h.repo, h]),
  );
  return await planDatums(t.store, spec.input, commits, { salt: "", codeHash: CODE });
}

/** Each datum as its inputs' `name:path`, sorted within a datum; the datums sorted. */
function shape(datums: readonly Datum[]): string[][] {
  return datums
    .map((d) => d.inputs.map((i) => `${i.name}:${i.path}`).sort())
    .sort((x, y) => x.join().localeCompare(y.join()));
}

Deno.test("a pfs glob gives one datum per match, `/` one datum of the whole commit", async () => {
  await using t = await twoRepos({ a: ["/1.csv", "/2.csv", "/sub/3.csv"], b: [] });
  assert.deepEqual(shape(await plan(t, { pfs: { repo: "a", glob: "/*" } })), [
    ["a:/1.csv"],
    ["a:/2.csv"],
    ["a:/sub"],
  ]);
  const whole = await plan(t, { pfs: { repo: "a", glob: "/" } });
  assert.equal(whole.length, 1);
  assert.deepEqual(whole[0]!.inputs[0]!.files.map((f) => f.path), [
    "/1.csv",
    "/2.csv",
    "/sub/3.csv",
  ]);
});

Deno.test("an input repo with no commit gives no datums, and a cross with it none", async () => {
  await using t = await twoRepos({ a: ["/1.csv"], b: [] });
  assert.deepEqual(await plan(t, { pfs: { repo: "b", glob: "/*" } }), []);
  assert.deepEqual(
    await plan(t, {
      cross: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/*" } }],
    }),
    [],
  );
});

Deno.test("cross is the cartesian product and union the concatenation", async () => {
  await using t = await twoRepos({ a: ["/1", "/2"], b: ["/x", "/y", "/z"] });
  const cross = await plan(t, {
    cross: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/*" } }],
  });
  assert.equal(cross.length, 6);
  assert.deepEqual(shape(cross)[0], ["a:/1", "b:/x"]);
  const union = await plan(t, {
    union: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/*" } }],
  });
  assert.deepEqual(shape(union), [["a:/1"], ["a:/2"], ["b:/x"], ["b:/y"], ["b:/z"]]);
});

Deno.test("a datum's hash changes with a file's content, the salt and the code; its key only with content", async () => {
  await using t = await twoRepos({ a: ["/1"], b: [] });
  const input = { pfs: { repo: "a", glob: "/*" } };
  const [before] = await plan(t, input);
  const spec = parseSpec({
    pipeline: { name: "p" },
    transform: { cmd: ["deno", "run", "main.ts"] },
    input,
  });
  const commits: InputCommits = new Map([...t.heads.values()].map((h) => [h.repo, h]));
  const [salted] = await planDatums(t.store, spec.input, commits, { salt: "s", codeHash: CODE });
  const [recoded] = await planDatums(t.store, spec.input, commits, {
    salt: "",
    codeHash: "1".repeat(64),
  });
  assert.equal(salted!.key, before!.key);
  assert.notEqual(salted!.hash, before!.hash);
  assert.notEqual(recoded!.hash, before!.hash);
  t.heads.set("a", { repo: "a", commit: (await putText(t, "a@master:/1", "changed\n")).commit.id });
  const [after] = await plan(t, input);
  assert.notEqual(after!.key, before!.key);
});

const join = (a: Record<string, unknown>, b: Record<string, unknown>) => ({
  join: [
    { pfs: { repo: "a", glob: "/(*).csv", joinOn: "$1", ...a } },
    { pfs: { repo: "b", glob: "/(*).txt", joinOn: "$1", ...b } },
  ],
});

Deno.test("an inner join pairs the files whose keys match, and only those", async () => {
  await using t = await twoRepos({ a: ["/1.csv", "/2.csv"], b: ["/2.txt", "/3.txt"] });
  assert.deepEqual(shape(await plan(t, join({}, {}))), [["a:/2.csv", "b:/2.txt"]]);
});

Deno.test("joinOn `${1}` is the same key as `$1`, as in Pachyderm's Go templates", async () => {
  await using t = await twoRepos({ a: ["/1.csv", "/2.csv"], b: ["/2.txt", "/3.txt"] });
  const braced = await plan(t, join({ joinOn: "${1}" }, { joinOn: "${1}" }));
  assert.deepEqual(shape(braced), [["a:/2.csv", "b:/2.txt"]]);
  assert.equal(braced[0]!.inputs[0]!.joinKey, "2");
});

Deno.test("an outer input sees a datum without a match; an inner one does not", async () => {
  await using t = await twoRepos({ a: ["/1.csv", "/2.csv"], b: ["/2.txt", "/3.txt"] });
  // Outer on b only: b's unmatched 3 alone; a's unmatched 1 nowhere.
  assert.deepEqual(shape(await plan(t, join({}, { outerJoin: true }))), [
    ["a:/2.csv", "b:/2.txt"],
    ["b:/3.txt"],
  ]);
  // Outer on a only: the mirror image.
  assert.deepEqual(shape(await plan(t, join({ outerJoin: true }, {}))), [
    ["a:/1.csv"],
    ["a:/2.csv", "b:/2.txt"],
  ]);
  // Outer on both: every key, matched or not.
  assert.deepEqual(shape(await plan(t, join({ outerJoin: true }, { outerJoin: true }))), [
    ["a:/1.csv"],
    ["a:/2.csv", "b:/2.txt"],
    ["b:/3.txt"],
  ]);
});

Deno.test("a join key matched by several files on one side gives their cross with the other", async () => {
  await using t = await twoRepos({ a: ["/k-1.csv", "/k-2.csv"], b: ["/k.txt"] });
  const datums = await plan(t, {
    join: [
      { pfs: { repo: "a", glob: "/(*)-(*).csv", joinOn: "$1" } },
      { pfs: { repo: "b", glob: "/(*).txt", joinOn: "$1" } },
    ],
  });
  assert.deepEqual(shape(datums), [["a:/k-1.csv", "b:/k.txt"], ["a:/k-2.csv", "b:/k.txt"]]);
});

Deno.test("group gathers every input's matches with the same key into one datum", async () => {
  await using t = await twoRepos({ a: ["/x-1", "/x-2", "/y-1"], b: ["/x-9"] });
  const datums = await plan(t, {
    group: [
      { pfs: { repo: "a", glob: "/(*)-*", groupBy: "$1" } },
      { pfs: { repo: "b", glob: "/(*)-*", groupBy: "${1}" } },
    ],
  });
  assert.deepEqual(shape(datums), [["a:/x-1", "a:/x-2", "b:/x-9"], ["a:/y-1"]]);
});

Deno.test("an optional input with no commit gives each datum of a cross an empty folder", async () => {
  await using t = await twoRepos({ a: ["/1", "/2"], b: [] });
  const datums = await plan(t, {
    cross: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/", optional: true } }],
  });
  assert.deepEqual(shape(datums), [["a:/1"], ["a:/2"]]);
  for (const d of datums) {
    assert.deepEqual(d.empty, ["b"]);
    assert.deepEqual(datumFolders(d).map((f) => [f.name, f.files.length]), [["a", 1], ["b", 0]]);
  }
});

Deno.test("an optional input with no file matching its glob gives an empty folder too", async () => {
  await using t = await twoRepos({ a: ["/1"], b: ["/README.md"] });
  const [d, more] = await plan(t, {
    cross: [{ pfs: { repo: "a", glob: "/*" } }, {
      pfs: { repo: "b", glob: "/*.json", optional: true },
    }],
  });
  assert.equal(more, undefined);
  assert.deepEqual(d!.empty, ["b"]);
});

Deno.test("an optional input with matches is an input like any other", async () => {
  await using t = await twoRepos({ a: ["/1"], b: ["/params.json"] });
  const optional = await plan(t, {
    cross: [{ pfs: { repo: "a", glob: "/*" } }, {
      pfs: { repo: "b", glob: "/params.json", optional: true },
    }],
  });
  const required = await plan(t, {
    cross: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/params.json" } }],
  });
  assert.deepEqual(shape(optional), [["a:/1", "b:/params.json"]]);
  assert.equal(optional[0]!.empty, undefined);
  assert.equal(optional[0]!.key, required[0]!.key, "the same datum, whether optional or not");
});

Deno.test("an empty optional input is part of the datum's key: its datum differs from one without it", async () => {
  await using t = await twoRepos({ a: ["/1"], b: [] });
  const [alone] = await plan(t, { pfs: { repo: "a", glob: "/*" } });
  const [crossed] = await plan(t, {
    cross: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/", optional: true } }],
  });
  assert.deepEqual(shape([alone!]), shape([crossed!]));
  assert.notEqual(crossed!.key, alone!.key);
});

Deno.test("an optional input alone, with nothing to give, gives one datum of an empty folder", async () => {
  await using t = await twoRepos({ a: [], b: [] });
  const datums = await plan(t, { pfs: { repo: "b", glob: "/*", optional: true } });
  assert.equal(datums.length, 1);
  assert.deepEqual([datums[0]!.inputs, datums[0]!.empty], [[], ["b"]]);
});

Deno.test("in a union, an optional input with nothing to give adds no datum beside others' datums", async () => {
  await using t = await twoRepos({ a: ["/1", "/2"], b: [] });
  const datums = await plan(t, {
    union: [{ pfs: { repo: "a", glob: "/*" } }, { pfs: { repo: "b", glob: "/*", optional: true } }],
  });
  assert.deepEqual(shape(datums), [["a:/1"], ["a:/2"]]);
  for (const d of datums) assert.equal(d.empty, undefined);
});

Deno.test("a union of optional inputs that all have nothing to give is one datum of empty folders", async () => {
  await using t = await twoRepos({ a: [], b: [] });
  const datums = await plan(t, {
    union: [
      { pfs: { repo: "a", glob: "/*", optional: true } },
      { pfs: { repo: "b", glob: "/*", optional: true } },
    ],
  });
  assert.equal(datums.length, 1);
  assert.deepEqual([datums[0]!.inputs, datums[0]!.empty], [[], ["a", "b"]]);
  assert.deepEqual(datumFolders(datums[0]!).map((f) => [f.name, f.files.length]), [
    ["a", 0],
    ["b", 0],
  ]);
});
