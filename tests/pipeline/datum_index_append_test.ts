/**
 * Appends to a pipeline's datum index made at once by one process (datums of a job ending
 * side by side): each entry is a line of its own, and no line is left empty.
 */
import assert from "node:assert/strict";
import { type DatumIndexEntry, JobStore } from "../../lib/pipeline/jobs.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";

/**
 * An entry for datum `i`, its line padded to 20 KB: every write of one spans pages, which
 * another open file of the index may see in part (an entry's line is about 230 bytes: one
 * in eighteen or so spans two pages).
 */
function entry(i: number): DatumIndexEntry {
  return {
    pad: "x".repeat(20_000),
    hash: i.toString(16).padStart(64, "0"),
    tree: "b".repeat(64),
    size: i,
    job: "01b0".padEnd(32, "0"),
    version: 1,
    pipelineSeq: 2,
  } as DatumIndexEntry;
}

Deno.test("appendDatums() made at once by one process writes every entry whole, on a line of its own", async () => {
  await using dir = await tempDir();
  const store = await Store.init(`${dir.path}/.tusk`);
  const jobs = new JobStore(store);
  const n = 600;
  await Promise.all(Array.from({ length: n }, (_, i) => jobs.appendDatums("p", [entry(i)])));
  const lines = (await Deno.readTextFile(store.layout.datumIndex("p"))).split("\n");
  assert.equal(lines.pop(), "", "the index ends with a whole line");
  assert.deepEqual(lines.filter((l) => l === "").length, 0, "no line is empty");
  assert.equal(lines.length, n);
  assert.equal((await jobs.datumIndex("p")).size, n);
  store.objects.close();
});
