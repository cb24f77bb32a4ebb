/** What `verify` says of each line of a datum index that is not an entry. */
import assert from "node:assert/strict";
import {
  entryProblem,
  hasHashes,
  malformedLines,
  parseEntry,
} from "../../lib/pipeline/datum_index_lines.ts";

const good = JSON.stringify({
  hash: "a".repeat(64),
  tree: "b".repeat(64),
  size: 3,
  job: "0".repeat(32),
  version: 1,
  pipelineSeq: 4,
});

Deno.test("entryProblem() passes an entry and says what is wrong with anything else", () => {
  assert.equal(entryProblem(good), null);
  const cases: [string, RegExp][] = [
    ["garbage", /^not JSON: "garbage"$/],
    ["42", /^a number, not an entry/],
    ["null", /^null, not an entry/],
    ["[1]", /^an array, not an entry/],
    ['"x"', /^a string, not an entry/],
    ["{}", /"hash" is missing; "tree" is missing; "job" is missing; "size" is missing/],
    [good.replace('"a', '"z'), /^"hash" is "za+…, not a hash of 64 hex digits$/],
    [good.replace('"size":3', '"size":-1'), /^"size" is -1, not a whole number of bytes$/],
    [good.replace('"version":1', '"version":"1"'), /^"version" is "1", not a whole number$/],
    [good.replace('"pipelineSeq":4', '"pipelineSeq":null'), /^"pipelineSeq" is null/],
    [good.replace(`"job":"${"0".repeat(32)}"`, '"job":""'), /^"job" is "", not a job id$/],
    // Job ids are 32 hex digits: not a name to print (an escape), a path, or undecodable bytes.
    [good.replace('"job":"0', '"job":"\\u001b[2J'), /^"job" is "\\u001b\[2J0+…, not a job id$/],
    [good.replace('"job":"0', '"job":"../'), /^"job" is "\.\.\/0+", not a job id$/],
    [good.replace('"job":"0', '"job":"\ufffd'), /^"job" is "\ufffd0+", not a job id$/],
    [good.replace(`"job":"${"0".repeat(32)}"`, '"job":"0"'), /^"job" is "0", not a job id$/],
  ];
  for (const [line, want] of cases) assert.match(entryProblem(line) ?? "(none)", want, line);
  assert.match(entryProblem("x".repeat(200))!, /^not JSON: "x{60}…"$/, "long lines are cut");
});

Deno.test("malformedLines() numbers the bad lines from 1, and leaves a torn last line alone", () => {
  const text = `${good}\njunk\n${good}\n{"hash":1}\n{"hash":"ab`;
  assert.deepEqual(malformedLines(text).map((m) => m.line), [2, 4]);
  assert.deepEqual(malformedLines(`${good}\n`), []);
  assert.deepEqual(malformedLines(""), []);
  assert.deepEqual(malformedLines("\n").map((m) => m.line), [1], "an empty line is not an entry");
});

Deno.test("parseEntry() gives an entry or null, never throws", () => {
  assert.equal(parseEntry(good)?.size, 3);
  for (const line of ["", "junk", "null", "42", '{"hash":"ab"}', "[]"]) {
    assert.equal(parseEntry(line), null, line);
  }
});

Deno.test("hasHashes() is true only when the datum hash and the output tree are hashes", () => {
  const e = JSON.parse(good);
  assert.equal(hasHashes(e), true);
  assert.equal(hasHashes({ ...e, tree: "0c" }), false);
  assert.equal(hasHashes({ ...e, hash: "../x" }), false);
  assert.equal(hasHashes({ ...e, tree: "B".repeat(64) }), false);
});
