/**
 * Store entries of the wrong kind — a folder where tusk keeps a file, a file where it keeps
 * a folder — fail the commands that meet them with exit 1 and a message naming the entry and
 * what to do, never exit 70; an empty one that tusk makes again on demand is replaced. Each
 * case damages its own copy of one store built once through the CLI.
 */
import assert from "node:assert/strict";
import { ROOT, tempDir, tusk, tuskOk } from "../_helpers.ts";
import { copyDir, loosePath } from "./_util.ts";

interface Template {
  readonly store: string;
  /** A blob stored loose, and a path of the repo that holds it. */
  readonly loose: { readonly hash: string; readonly ref: string };
  /** A blob stored in a pack, and a path of the repo that holds it. */
  readonly packed: { readonly ref: string };
  /** The one pack of the store. */
  readonly pack: string;
  /** The one job record (`jobs/upper/<id>.json`). */
  readonly job: string;
}

let template: Promise<Template> | undefined;

/** A store with a loose blob, a pack and a pipeline with one job. */
function buildTemplate(): Promise<Template> {
  return template ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "tusk-wrong-kind-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const store = `${dir}/.tusk`;
    await Deno.mkdir(`${dir}/many`);
    for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${dir}/many/f${i}.txt`, `many ${i}\n`);
    await Deno.writeFile(`${dir}/big.bin`, new Uint8Array(2 << 20).fill(7));
    await tuskOk(["init"], { store });
    await tuskOk(["create", "repo", "data"], { store });
    await tuskOk(["create", "repo", "many"], { store });
    await tuskOk(["put", "file", "many@master:/", "-r", "-f", `${dir}/many`], { store });
    await tuskOk(["put", "file", "data@master:/big.bin", "-f", `${dir}/big.bin`], { store });
    await tuskOk(["create", "pipeline", "-f", `${ROOT}/tests/fixtures/stages/upper.json`], {
      store,
    });
    const files = JSON.parse(
      (await tuskOk(["list", "file", "data@master", "--json"], { store })).stdout,
    ) as { path: string; hash: string }[];
    const big = files.find((f) => f.path === "/big.bin")!;
    const pack = [...Deno.readDirSync(`${store}/packs`)].find((e) => e.name.endsWith(".pack"))!;
    const job = [...Deno.readDirSync(`${store}/jobs/upper`)].find((e) => e.name.endsWith(".json"))!;
    return {
      store,
      loose: { hash: big.hash, ref: "data@master:/big.bin" },
      packed: { ref: "many@master:/many/f3.txt" },
      pack: `packs/${pack.name}`,
      job: `jobs/upper/${job.name}`,
    };
  })();
}

/** Make `path` a file with `content` (replacing a folder). */
async function makeFile(path: string, content: string): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
  await Deno.writeTextFile(path, content);
}

/** Make `path` a folder (replacing a file), holding one file unless `empty`. */
async function makeFolder(path: string, empty = false): Promise<void> {
  await Deno.remove(path, { recursive: true }).catch(() => {});
  await Deno.mkdir(path);
  if (!empty) await Deno.writeTextFile(`${path}/kept.txt`, "something of value\n");
}

interface Case {
  readonly name: string;
  /** The entry damaged, relative to the store folder. */
  readonly entry: (t: Template) => string;
  readonly damage: (path: string) => Promise<void>;
  /** Commands that must fail naming the entry (exit 1). */
  readonly fails?: (t: Template) => string[][];
  /** Commands that must succeed, the entry replaced by one of the right kind. */
  readonly repaired?: { readonly commands: (t: Template) => string[][]; readonly kind: string };
}

const PUT = ["put", "file", "data@master:/new.txt", "-f", `${ROOT}/data/test/1.csv`];

const CASES: readonly Case[] = [
  {
    name: "tmp is a file holding something",
    entry: () => "tmp",
    damage: (p) => makeFile(p, "not a temp file\n"),
    fails: () => [["list", "repo"], PUT, ["gc"]],
  },
  {
    name: "tmp is an empty file",
    entry: () => "tmp",
    damage: (p) => makeFile(p, ""),
    repaired: { commands: () => [["list", "repo"], PUT, ["verify"]], kind: "folder" },
  },
  {
    name: "the lock is a folder holding something",
    entry: () => "lock",
    damage: (p) => makeFolder(p),
    fails: () => [PUT],
  },
  {
    name: "the lock is an empty folder",
    entry: () => "lock",
    damage: (p) => makeFolder(p, true),
    repaired: { commands: () => [PUT], kind: "file" },
  },
  {
    name: "gc.lock is a folder",
    entry: () => "gc.lock",
    damage: (p) => makeFolder(p),
    fails: () => [["gc"], PUT],
  },
  {
    name: "STORE is a folder",
    entry: () => "STORE",
    damage: (p) => makeFolder(p, true),
    fails: () => [["list", "repo"]],
  },
  {
    name: "the ledger is a folder",
    entry: () => "ledger",
    damage: (p) => makeFolder(p),
    fails: () => [["list", "repo"], ["verify"]],
  },
  {
    name: "state.json is a folder holding something",
    entry: () => "state.json",
    damage: (p) => makeFolder(p),
    fails: () => [["list", "repo"], ["verify"]],
  },
  {
    name: "state.json is an empty folder",
    entry: () => "state.json",
    damage: (p) => makeFolder(p, true),
    repaired: { commands: () => [["list", "repo"], ["verify"]], kind: "file" },
  },
  {
    name: "objects is a file",
    entry: () => "objects",
    damage: (p) => makeFile(p, "x"),
    fails: (t) => [["get", "file", t.loose.ref], ["verify"]],
  },
  {
    name: "packs is a file",
    entry: () => "packs",
    damage: (p) => makeFile(p, "x"),
    fails: (t) => [["get", "file", t.packed.ref]],
  },
  {
    name: "jobs is a file",
    entry: () => "jobs",
    damage: (p) => makeFile(p, "x"),
    fails: () => [["list", "job"]],
  },
  {
    name: "work is a file",
    entry: () => "work",
    damage: (p) => makeFile(p, "x"),
    fails: () => [PUT],
  },
  {
    name: "events.jsonl is a folder",
    entry: () => "events.jsonl",
    damage: (p) => makeFolder(p),
    fails: () => [PUT],
  },
  {
    name: "scheduler.json is a folder",
    entry: () => "scheduler.json",
    damage: (p) => makeFolder(p),
    fails: () => [PUT],
  },
  {
    name: "a loose object's prefix folder is a file",
    entry: (t) => loosePath("", t.loose.hash).slice(1, "objects/ab".length + 1),
    damage: (p) => makeFile(p, "x"),
    fails: (t) => [["get", "file", t.loose.ref], ["verify"], ["gc"]],
  },
  {
    name: "a loose object is a folder",
    entry: (t) => loosePath("", t.loose.hash).slice(1),
    damage: (p) => makeFolder(p),
    fails: (t) => [["get", "file", t.loose.ref], ["verify"]],
  },
  {
    name: "a pack is a folder",
    entry: (t) => t.pack,
    damage: (p) => makeFolder(p),
    fails: (t) => [["get", "file", t.packed.ref], ["verify"]],
  },
  {
    name: "a pack index is a folder",
    entry: (t) => t.pack.replace(/\.pack$/, ".idx"),
    damage: (p) => makeFolder(p),
    fails: (t) => [["get", "file", t.packed.ref], ["verify"]],
  },
  {
    name: "a pipeline's job folder is a file",
    entry: () => "jobs/upper",
    damage: (p) => makeFile(p, "x"),
    fails: () => [["list", "job", "-p", "upper"], ["verify"]],
  },
  {
    name: "a pipeline's datum index is a folder",
    entry: () => "jobs/upper/datums.jsonl",
    damage: (p) => makeFolder(p),
    fails: () => [["verify"], ["gc"]],
  },
  {
    name: "a job record is a folder",
    entry: (t) => t.job,
    damage: (p) => makeFolder(p),
    // `list job` skips a damaged record with a warning (tests/e2e/damaged_records_test.ts).
    fails: (t) => [["inspect", "job", t.job.slice(t.job.lastIndexOf("/") + 1, -5)], ["verify"]],
  },
];

for (const c of CASES) {
  const outcome = c.repaired ? "is repaired" : "fails with exit 1 naming it";
  Deno.test(`a store where ${c.name} ${outcome}`, async () => {
    const t = await buildTemplate();
    await using dir = await tempDir();
    const store = `${dir.path}/.tusk`;
    await copyDir(t.store, store);
    const entry = c.entry(t);
    const path = `${store}/${entry}`;
    await c.damage(path);
    const mine = { ...t, store };
    for (const args of c.fails?.(mine) ?? []) {
      const r = await tusk(args, { store });
      assert.equal(r.code, 1, `tusk ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
      assert.ok(r.stderr.includes(`"${path}"`), `names ${entry}: ${r.stderr}`);
      assert.match(r.stderr, /The store is damaged: .* (move it|put back)/);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
    if (c.repaired) {
      for (const args of c.repaired.commands(mine)) {
        const r = await tusk(args, { store });
        assert.equal(r.code, 0, `tusk ${args.join(" ")}: exit ${r.code}: ${r.stderr}`);
      }
      const info = await Deno.stat(path);
      assert.equal(info.isDirectory ? "folder" : "file", c.repaired.kind);
    }
  });
}

Deno.test("a store whose STORE is a folder works again once the message's advice is followed", async () => {
  const t = await buildTemplate();
  await using dir = await tempDir();
  const store = `${dir.path}/.tusk`;
  await copyDir(t.store, store);
  await makeFolder(`${store}/STORE`, true);
  const r = await tusk(["list", "repo"], { store });
  assert.equal(r.code, 1, r.stderr);
  const line = /holding the line "([^"]+)"/.exec(r.stderr)?.[1];
  assert.ok(line, `the message says what to put back: ${r.stderr}`);
  await Deno.rename(`${store}/STORE`, `${dir.path}/STORE.away`);
  await Deno.writeTextFile(`${store}/STORE`, `${line}\n`);
  const repos = await tuskOk(["list", "repo"], { store });
  assert.match(repos.stdout, /\bmany\b/);
  await tuskOk(["verify"], { store });
  await tuskOk(["get", "file", t.packed.ref], { store });
});

Deno.test("a file named .tusk where a store is searched for is passed over: no store, exit 1", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/.tusk`, "not a store\n");
  const r = await tusk(["list", "repo"], {
    cwd: dir.path,
    env: { TUSK_STORE: "", INIT_CWD: "" },
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /No tusk store in/);
  assert.doesNotMatch(r.stderr, /internal error/);
});
