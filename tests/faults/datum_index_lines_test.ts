/**
 * Lines of a datum index (`jobs/<pipeline>/datums.jsonl`) that are not entries (an edit, a
 * crash's torn append joined by the next): `verify` names the file, the line and what is
 * wrong, exit 1, and changes nothing; `gc` drops them; a torn last line is left to the next
 * append, which starts a line of its own.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tusk, tuskOk } from "../_helpers.ts";

const UPPER = `${ROOT}/tests/fixtures/stages/upper.json`;

/** A store whose pipeline "upper" has run over a.txt and b.txt: two index lines. */
async function indexedStore() {
  const s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "data"], { store });
  for (const name of ["a", "b"]) {
    await tuskOk(["put", "file", `data@master:/${name}.txt`, "-f", "-"], { store, stdin: name });
  }
  await tuskOk(["create", "pipeline", "-f", UPPER], { store });
  const index = `${store}/jobs/upper/datums.jsonl`;
  assert.equal((await Deno.readTextFile(index)).split("\n").filter(Boolean).length, 2);
  return Object.assign(s, { index });
}

Deno.test("verify names the datum index, the line and what is wrong with it; gc drops the line", async () => {
  await using s = await indexedStore();
  const store = s.store;
  const before = await Deno.readTextFile(s.index);
  const cases: [string, RegExp][] = [
    ["garbage", /not JSON: "garbage"/],
    ['{"hash":"abc","size":1}', /"hash" is "abc", not a hash of 64 hex digits; "tree" is missing/],
    ["null", /null, not an entry/],
    // Hash and tree well formed (the tree not in the store), the job missing: named as a line
    // that is not an entry, not as a stale entry of "job undefined".
    [
      JSON.stringify({ hash: "a".repeat(64), tree: "b".repeat(64), size: 1, version: 1 }),
      /: "job" is missing;/,
    ],
    // A job id that is not one (an escape that would reach the terminal): named, escaped.
    [
      JSON.stringify({ hash: "a".repeat(64), tree: "b".repeat(64), size: 1, job: "\x1b[2J" }),
      /: "job" is "\\u001b\[2J", not a job id;/,
    ],
  ];
  for (const [junk, problem] of cases) {
    await Deno.writeTextFile(s.index, `${before}${junk}\n`);
    const r = await tusk(["verify"], { store });
    assert.equal(r.code, 1, `verify of "${junk}" exited ${r.code}:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /internal error|undefined/);
    assert.ok(r.stderr.includes(s.index), `the file is not named:\n${r.stderr}`);
    assert.match(r.stderr, /pipeline "upper"/);
    assert.match(r.stderr, /line 3, is not a datum index entry/);
    assert.match(r.stderr, problem);
    assert.match(r.stderr, /run "tusk gc" to drop the line/);
    assert.equal(await Deno.readTextFile(s.index), `${before}${junk}\n`, "verify changed it");
  }
  // Two bad lines, the first in the middle: the first is named, the other counted.
  const [one, two] = before.split("\n");
  await Deno.writeTextFile(s.index, `${one}\n42\n${two}\n[]\n`);
  const r = await tusk(["verify", "--json"], { store });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /line 2, is not a datum index entry: a number.*\(and 1 more line\(s\)\)/);

  const gc = await tuskOk(["gc"], { store });
  assert.equal(gc.code, 0);
  assert.equal(await Deno.readTextFile(s.index), before, "gc keeps the entries, drops the rest");
  await tuskOk(["verify"], { store });
});

Deno.test("a torn last line passes verify, and the next job's entries start a line of their own", async () => {
  await using s = await indexedStore();
  const store = s.store;
  const before = await Deno.readTextFile(s.index);
  await Deno.writeTextFile(s.index, `${before}{"hash":"ab`);
  await tuskOk(["verify"], { store });
  await tuskOk(["put", "file", "data@master:/c.txt", "-f", "-"], { store, stdin: "c" });
  const lines = (await Deno.readTextFile(s.index)).split("\n");
  assert.deepEqual(lines.slice(0, 3), [...before.split("\n").slice(0, 2), '{"hash":"ab']);
  assert.match(lines[3]!, /^\{"hash":"[0-9a-f]{64}"/, "the new entry is whole on its own line");
  assert.equal(lines.at(-1), "");
  // The torn line is now a whole line that is not an entry: named, then dropped by gc.
  const r = await tusk(["verify"], { store });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /line 3, is not a datum index entry: not JSON: "\{\\"hash\\":\\"ab"/);
  await tuskOk(["gc"], { store });
  await tuskOk(["verify"], { store });
  assert.equal((await Deno.readTextFile(s.index)).split("\n").filter(Boolean).length, 3);
  assert.equal((await tuskOk(["get", "file", "upper@master:/c.txt"], { store })).stdout, "C");
});

Deno.test("gc drops a line whose hash and tree name an object folder, rather than failing on the folder", async () => {
  await using s = await indexedStore();
  const store = s.store;
  const before = await Deno.readTextFile(s.index);
  const fanOut = [...Deno.readDirSync(`${store}/objects`)].find((e) => e.isDirectory)!.name;
  await Deno.writeTextFile(s.index, `${before}{"hash":"${fanOut}","tree":"${fanOut}"}\n`);
  const r = await tusk(["verify"], { store });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /line 3, is not a datum index entry/);
  const gc = await tusk(["gc"], { store });
  assert.equal(gc.code, 0, `gc exited ${gc.code}:\n${gc.stderr}`);
  assert.doesNotMatch(gc.stdout, /stale/, "a line that is not an entry is not a stale entry");
  assert.equal(await Deno.readTextFile(s.index), before);
  await tuskOk(["verify"], { store });
  assert.ok((await Deno.stat(`${store}/objects/${fanOut}`)).isDirectory);
});
