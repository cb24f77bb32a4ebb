/** Datum index entries that came from a remote: checked as `verify` checks the local index. */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { decodeDatums } from "../../lib/remote/job_sync.ts";

const entry = {
  hash: "a".repeat(64),
  tree: "b".repeat(64),
  size: 3,
  job: "0".repeat(32),
  version: 1,
  pipelineSeq: 4,
};
const bytesOf = (...lines: unknown[]) =>
  new TextEncoder().encode(lines.map((l) => `${JSON.stringify(l)}\n`).join(""));

Deno.test("decodeDatums() gives the entries of a datum index from a remote", () => {
  assert.deepEqual(decodeDatums(bytesOf(entry, { ...entry, hash: "c".repeat(64) }), "r", "h"), [
    entry,
    { ...entry, hash: "c".repeat(64) },
  ]);
});

Deno.test("decodeDatums() refuses an entry that verify would call not an entry", () => {
  const bad = [
    { ...entry, job: "\x1b[2J" },
    { ...entry, job: "" },
    { ...entry, job: "../x" },
    { ...entry, pipelineSeq: "4" },
    { ...entry, size: -1 },
    { ...entry, tree: "B".repeat(64) },
  ];
  for (const e of bad) {
    assert.throws(() => decodeDatums(bytesOf(entry, e), "r", "h"), (err: unknown) => {
      assert.ok(err instanceof IntegrityError, String(err));
      assert.deepEqual(err.data, { remote: "r", object: "h" });
      return true;
    }, JSON.stringify(e));
  }
});
