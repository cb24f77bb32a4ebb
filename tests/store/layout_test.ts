import assert from "node:assert/strict";
import { Layout, STORE_DIR } from "../../lib/store/layout.ts";

const HASH = "ab" + "c".repeat(62);

Deno.test("Layout names the store's own files under its root", () => {
  const l = new Layout("/data/.tusk");
  assert.deepEqual(
    [l.mark, l.ledger, l.state, l.lock, l.gcLock, l.lease, l.events],
    [
      "/data/.tusk/STORE",
      "/data/.tusk/ledger",
      "/data/.tusk/state.json",
      "/data/.tusk/lock",
      "/data/.tusk/gc.lock",
      "/data/.tusk/scheduler.json",
      "/data/.tusk/events.jsonl",
    ],
  );
});

Deno.test("Layout lists objects/, packs/ and tmp/ as the folders a store may hold empty", () => {
  assert.deepEqual(new Layout("/s").folders, ["/s/objects", "/s/packs", "/s/tmp"]);
});

Deno.test("Layout.loose() files an object under the first two digits of its hash", () => {
  const l = new Layout("/s");
  assert.equal(l.loose(HASH), `/s/objects/ab/${"c".repeat(62)}`);
  assert.equal(l.looseDir("ab"), "/s/objects/ab");
});

Deno.test("Layout.pack() and packIndex() name a pack's two files", () => {
  const l = new Layout("/s");
  assert.equal(l.pack("pack-1"), "/s/packs/pack-1.pack");
  assert.equal(l.packIndex("pack-1"), "/s/packs/pack-1.idx");
});

Deno.test("Layout.packOf() tells a pack's index from its data and ignores other files", () => {
  assert.deepEqual(Layout.packOf("pack-1.idx"), { name: "pack-1", file: "index" });
  assert.deepEqual(Layout.packOf("pack-1.pack"), { name: "pack-1", file: "pack" });
  assert.equal(Layout.packOf("123.1.abc.tmp"), null);
});

Deno.test("Layout names a job's record and the request files beside it", () => {
  const l = new Layout("/s");
  assert.deepEqual(
    [
      l.jobDir("edges"),
      l.job("edges", "j1"),
      l.rerunRequest("edges", "j1"),
      l.stopRequest("edges", "j1"),
      l.attempts("edges", "j1"),
      l.datumIndex("edges"),
      l.datumIndexMark("edges"),
      l.work("j1"),
    ],
    [
      "/s/jobs/edges",
      "/s/jobs/edges/j1.json",
      "/s/jobs/edges/j1.rerun",
      "/s/jobs/edges/j1.stop",
      "/s/jobs/edges/j1.attempts",
      "/s/jobs/edges/datums.jsonl",
      "/s/jobs/edges/datums.mark",
      "/s/work/j1",
    ],
  );
});

Deno.test("Layout.jobOf() gives the job id of a record file and null for any other file", () => {
  assert.equal(Layout.jobOf("j1.json"), "j1");
  assert.equal(Layout.jobOf("j1.attempts"), null);
  assert.equal(Layout.jobOf("datums.jsonl"), null);
  assert.equal(Layout.jobOf("datums.mark"), null);
});

Deno.test("Layout.under() puts the store folder under a folder, the file-system root included", () => {
  assert.equal(Layout.under("/home/me"), `/home/me/${STORE_DIR}`);
  assert.equal(Layout.under("/"), `/${STORE_DIR}`);
});

Deno.test("Layout.changesState() is true for the ledger and the state file only", () => {
  assert.equal(Layout.changesState("/s/ledger"), true);
  assert.equal(Layout.changesState("/s/state.json"), true);
  assert.equal(Layout.changesState("/s/tmp/1.2.3.tmp"), false);
  assert.equal(Layout.changesState("/s/events.jsonl"), false);
});

Deno.test("Layout.entries gives each fixed entry its kind, and only the mark and the ledger are required", () => {
  const l = new Layout("/s");
  const kinds = Object.fromEntries(l.entries.map((e) => [e.path.slice(3), e.kind]));
  assert.deepEqual(kinds, {
    STORE: "file",
    ledger: "file",
    "state.json": "file",
    lock: "file",
    "gc.lock": "file",
    objects: "folder",
    packs: "folder",
    tmp: "folder",
    "scheduler.json": "file",
    "events.jsonl": "file",
    jobs: "folder",
    work: "folder",
    "remotes.json": "file",
    remotes: "folder",
    "programs.json": "file",
  });
  assert.deepEqual(l.entries.filter((e) => e.absent === "required").map((e) => e.path), [
    "/s/STORE",
    "/s/ledger",
  ]);
});
