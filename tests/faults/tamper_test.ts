/**
 * Tamper evidence: flipping one byte anywhere that matters — a loose blob, a packed blob, a
 * tree, a commit, a ledger entry in the middle, the last ledger entry, the state file —
 * makes `tusk verify` exit 1 and name what is broken. Each test corrupts its own copy of one
 * store built once through the CLI; objects are located through the CLI's JSON output.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ROOT, tempDir, tusk, tuskOk } from "../_helpers.ts";
import { copyDir, fileExists, flipByte, loosePath } from "./_util.ts";

interface Template {
  readonly dir: string;
  readonly store: string;
}

let template: Promise<Template> | undefined;

/** The store every test copies: 4 commits (5 ledger entries), one pack, loose objects. */
function buildTemplate(): Promise<Template> {
  return template ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "tusk-tamper-" });
    globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
    const store = `${dir}/.tusk`;
    const src = `${dir}/src`;
    await Deno.mkdir(`${src}/many`, { recursive: true });
    for (let i = 0; i < 20; i++) {
      await Deno.writeTextFile(`${src}/many/f${String(i).padStart(2, "0")}.txt`, `many ${i}\n`);
    }
    await Deno.writeTextFile(`${src}/small.txt`, "a small file, stored loose\n");
    await Deno.writeTextFile(`${src}/other.txt`, "another file\n");
    await Deno.writeTextFile(`${src}/last.txt`, "the last file\n");
    await tuskOk(["init"], { store });
    await tuskOk(["create", "repo", "tamper"], { store });
    await tuskOk(["put", "file", "tamper@master:/small.txt", "-f", `${src}/small.txt`], { store });
    await tuskOk(["put", "file", "tamper@master:/many", "-r", "-f", `${src}/many`], { store });
    await tuskOk(["put", "file", "tamper@master:/other.txt", "-f", `${src}/other.txt`], { store });
    await tuskOk(["put", "file", "tamper@master:/last.txt", "-f", `${src}/last.txt`], { store });
    await tuskOk(["verify"], { store });
    return { dir, store };
  })();
}

/** A fresh copy of the template store. */
async function copyOfTemplate(): Promise<AsyncDisposable & { store: string }> {
  const t = await buildTemplate();
  const dir = await tempDir();
  const store = `${dir.path}/.tusk`;
  await copyDir(t.store, store);
  return { store, [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose]() };
}

interface FileRow {
  readonly path: string;
  readonly type: string;
  readonly hash: string;
}

async function listFiles(store: string, ref: string): Promise<FileRow[]> {
  return JSON.parse((await tuskOk(["list", "file", ref, "--json"], { store })).stdout) as FileRow[];
}

async function headCommit(store: string): Promise<{ id: string; tree: string }> {
  const r = await tuskOk(["inspect", "commit", "tamper@master", "--json"], { store });
  return JSON.parse(r.stdout) as { id: string; tree: string };
}

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

/** Flip one random byte of `path` in [from, to) and return the offset. */
async function flipRandomByte(path: string, from = 0, to?: number): Promise<number> {
  const end = to ?? (await Deno.stat(path)).size;
  const offset = from + randomInt(end - from);
  await flipByte(path, offset);
  return offset;
}

/** Run verify on a tampered store; it must fail as an integrity error, not crash. */
async function verifyFails(store: string, what: string): Promise<string> {
  const r = await tusk(["verify"], { store });
  assert.equal(
    r.code,
    1,
    `verify after flipping ${what} exited ${r.code}:\n${r.stderr}${r.stdout}`,
  );
  assert.doesNotMatch(r.stderr, /internal error/);
  return r.stderr;
}

/** Byte range [start, end) of ledger line `seq` (1-based), without its newline. */
async function ledgerLine(store: string, seq: number): Promise<[number, number]> {
  const bytes = await Deno.readFile(`${store}/ledger`);
  let start = 0;
  for (let i = 1; i < seq; i++) start = bytes.indexOf(10, start) + 1;
  const end = bytes.indexOf(10, start);
  assert.ok(start > 0 || seq === 1);
  assert.ok(end > start, `ledger has no entry ${seq}`);
  return [start, end];
}

Deno.test("verify exits 1 and names the blob when one byte of a loose blob is flipped", async () => {
  await using s = await copyOfTemplate();
  const file = (await listFiles(s.store, "tamper@master:/small.txt"))[0]!;
  const path = loosePath(s.store, file.hash);
  assert.ok(await fileExists(path), "the small file's blob is expected to be a loose object");
  const offset = await flipRandomByte(path);
  const stderr = await verifyFails(s.store, `byte ${offset} of blob ${file.hash}`);
  assert.ok(stderr.includes(file.hash), `stderr does not name blob ${file.hash}:\n${stderr}`);
});

Deno.test("verify exits 1 and names the object and its pack when one byte of a packed blob is flipped", async () => {
  await using s = await copyOfTemplate();
  const files = await listFiles(s.store, "tamper@master:/many");
  assert.equal(files.length, 20);
  const file = files[randomInt(files.length)]!;
  assert.ok(!(await fileExists(loosePath(s.store, file.hash))), "blob is expected to be packed");
  let found: { pack: string; offset: number; length: number } | undefined;
  for await (const e of Deno.readDir(`${s.store}/packs`)) {
    if (!e.name.endsWith(".idx")) continue;
    const text = await Deno.readTextFile(`${s.store}/packs/${e.name}`);
    const m = new RegExp(`^${file.hash} (\\d+) (\\d+)$`, "m").exec(text);
    if (m) found = { pack: e.name.slice(0, -4), offset: Number(m[1]), length: Number(m[2]) };
  }
  assert.ok(found, `no pack index lists blob ${file.hash}`);
  const packPath = `${s.store}/packs/${found.pack}.pack`;
  const offset = await flipRandomByte(packPath, found.offset, found.offset + found.length);
  const stderr = await verifyFails(s.store, `byte ${offset} of pack ${found.pack}`);
  assert.ok(stderr.includes(file.hash), `stderr does not name blob ${file.hash}:\n${stderr}`);
  assert.ok(stderr.includes(found.pack), `stderr does not name pack ${found.pack}:\n${stderr}`);
  // Reading it back refuses the corrupt bytes instead of returning them.
  const got = await tusk(["get", "file", `tamper@master:${file.path}`], { store: s.store });
  assert.equal(got.code, 1, `get file of a corrupt packed blob exited ${got.code}:\n${got.stderr}`);
  assert.match(got.stderr, new RegExp(`Object ${file.hash} in pack ${found.pack} is corrupt`));
  assert.equal(got.stdout, "");
});

/** The pack index listing `hash`, and the byte range of its entry line. */
async function indexEntry(
  store: string,
  hash: string,
): Promise<{ path: string; start: number; end: number }> {
  for await (const e of Deno.readDir(`${store}/packs`)) {
    if (!e.name.endsWith(".idx")) continue;
    const path = `${store}/packs/${e.name}`;
    const text = await Deno.readTextFile(path);
    const start = text.indexOf(`\n${hash} `) + 1;
    if (start > 0) return { path, start, end: text.indexOf("\n", start) };
  }
  throw new Error(`no pack index lists ${hash}`);
}

Deno.test("verify exits 1 and names the pack index when one byte of an index entry is flipped", async () => {
  await using s = await copyOfTemplate();
  const files = await listFiles(s.store, "tamper@master:/many");
  const file = files[randomInt(files.length)]!;
  const entry = await indexEntry(s.store, file.hash);
  const offset = await flipRandomByte(entry.path, entry.start, entry.end);
  const stderr = await verifyFails(s.store, `byte ${offset} of a pack index entry`);
  assert.match(stderr, /Pack index pack-[\w-]+\.idx is corrupt/);
});

Deno.test("a pack index entry pointing at the wrong bytes makes get file fail, not return them", async () => {
  await using s = await copyOfTemplate();
  const files = await listFiles(s.store, "tamper@master:/many");
  const file = files[0]!;
  const entry = await indexEntry(s.store, file.hash);
  const text = await Deno.readTextFile(entry.path);
  const line = text.slice(entry.start, entry.end);
  const [hash, offset, length] = line.split(" ");
  // Point the entry at the next record's bytes, keeping the line's length and the sort order.
  const moved = String(Number(offset) + 80).padStart(offset!.length, "0");
  await Deno.writeTextFile(
    entry.path,
    text.slice(0, entry.start) + `${hash} ${moved} ${length}` + text.slice(entry.end),
  );
  const got = await tusk(["get", "file", `tamper@master:${file.path}`], { store: s.store });
  assert.equal(got.code, 1, `get file exited ${got.code}:\n${got.stderr}`);
  assert.match(got.stderr, new RegExp(`Object ${file.hash} in pack .* is corrupt|truncated`));
  assert.equal(got.stdout, "");
  await verifyFails(s.store, "a pack index entry's offset");
});

Deno.test("verify exits 1 and names the tree when one byte of a tree is flipped", async () => {
  await using s = await copyOfTemplate();
  const { tree } = await headCommit(s.store);
  const path = loosePath(s.store, tree);
  assert.ok(await fileExists(path), "the root tree is expected to be a loose object");
  const offset = await flipRandomByte(path);
  const stderr = await verifyFails(s.store, `byte ${offset} of tree ${tree}`);
  assert.ok(stderr.includes(tree), `stderr does not name tree ${tree}:\n${stderr}`);
});

Deno.test("verify exits 1 and names the commit when one byte of a commit is flipped", async () => {
  await using s = await copyOfTemplate();
  const { id } = await headCommit(s.store);
  const path = loosePath(s.store, id);
  assert.ok(await fileExists(path), "the head commit is expected to be a loose object");
  const offset = await flipRandomByte(path);
  const stderr = await verifyFails(s.store, `byte ${offset} of commit ${id}`);
  assert.ok(stderr.includes(id), `stderr does not name commit ${id}:\n${stderr}`);
});

Deno.test("verify exits 1 and names the entry when one byte of a ledger entry in the middle is flipped", async () => {
  await using s = await copyOfTemplate();
  const [start, end] = await ledgerLine(s.store, 3);
  const offset = await flipRandomByte(`${s.store}/ledger`, start, end);
  const stderr = await verifyFails(s.store, `byte ${offset} of ledger entry 3`);
  assert.match(stderr, /entry 3\b/, `stderr does not name entry 3:\n${stderr}`);
});

Deno.test("verify exits 1 and names the entry when one byte of the last ledger entry is flipped", async () => {
  await using s = await copyOfTemplate();
  const [start, end] = await ledgerLine(s.store, 5);
  const size = (await Deno.stat(`${s.store}/ledger`)).size;
  assert.equal(end, size - 1, "entry 5 is expected to be the last");
  const offset = await flipRandomByte(`${s.store}/ledger`, start, end);
  const stderr = await verifyFails(s.store, `byte ${offset} of ledger entry 5`);
  assert.match(stderr, /[Ll]edger entry 5\b/, `stderr does not name entry 5:\n${stderr}`);
});

Deno.test("verify exits 1 and names the state file when one byte of state.json is flipped", async () => {
  await using s = await copyOfTemplate();
  const offset = await flipRandomByte(`${s.store}/state.json`);
  const stderr = await verifyFails(s.store, `byte ${offset} of state.json`);
  assert.match(stderr, /state file/, `stderr does not name the state file:\n${stderr}`);
});

/** Rewrite the entry line of `hash` in its pack index, keeping the index's checksum valid. */
async function rewriteEntry(store: string, hash: string, line: (old: string) => string) {
  const entry = await indexEntry(store, hash);
  const text = await Deno.readTextFile(entry.path);
  const edited = text.slice(0, entry.start) + line(text.slice(entry.start, entry.end)) +
    text.slice(entry.end);
  const body = edited.slice(0, edited.lastIndexOf("end "));
  const sum = createHash("sha256").update(body).digest("hex");
  await Deno.writeTextFile(entry.path, `${body}end ${sum}\n`);
}

for (
  const [what, edit] of [
    ["a huge length", (l: string) => l.replace(/ \d+$/, " 99999999999999")],
    ["a negative length", (l: string) => l.replace(/ \d+$/, " -1")],
    ["a negative offset", (l: string) => l.replace(/ (\d+) (\d+)$/, " -5 $2")],
    ["an offset inside the pack header", (l: string) => l.replace(/ (\d+) (\d+)$/, " 0 $2")],
    ["a length that is not a number", (l: string) => l.replace(/ \d+$/, " ten")],
  ] as const
) {
  Deno.test(`a pack index entry with ${what} makes get file exit 1 naming the damage`, async () => {
    await using s = await copyOfTemplate();
    const file = (await listFiles(s.store, "tamper@master:/many"))[3]!;
    await rewriteEntry(s.store, file.hash, edit);
    const got = await tusk(["get", "file", `tamper@master:${file.path}`], { store: s.store });
    assert.equal(got.code, 1, `get file exited ${got.code}:\n${got.stderr}`);
    assert.doesNotMatch(got.stderr, /internal error/);
    assert.match(
      got.stderr,
      /Pack index pack-[\w-]+\.idx is corrupt|Pack pack-[\w-]+ is truncated/,
    );
    assert.equal(got.stdout, "");
  });
}

Deno.test("a pack index without its header makes get file exit 1 naming the index", async () => {
  await using s = await copyOfTemplate();
  const file = (await listFiles(s.store, "tamper@master:/many"))[0]!;
  const entry = await indexEntry(s.store, file.hash);
  const text = await Deno.readTextFile(entry.path);
  await Deno.writeTextFile(entry.path, text.replace(/^tusk-idx 1\n/, "not-an-index\n"));
  const got = await tusk(["get", "file", `tamper@master:${file.path}`], { store: s.store });
  assert.equal(got.code, 1, `get file exited ${got.code}:\n${got.stderr}`);
  assert.match(got.stderr, /Pack index pack-[\w-]+\.idx is corrupt: it is not a pack index/);
  await verifyFails(s.store, "a pack index's header");
});

Deno.test("verify names a pack index whose entries are out of order, checksum notwithstanding", async () => {
  await using s = await copyOfTemplate();
  const file = (await listFiles(s.store, "tamper@master:/many"))[0]!;
  const entry = await indexEntry(s.store, file.hash);
  const text = await Deno.readTextFile(entry.path);
  const lines = text.split("\n");
  const first = lines.findIndex((l) => /^[0-9a-f]{64} /.test(l));
  [lines[first], lines[first + 1]] = [lines[first + 1]!, lines[first]!];
  const swapped = lines.join("\n");
  const body = swapped.slice(0, swapped.lastIndexOf("end "));
  await Deno.writeTextFile(
    entry.path,
    `${body}end ${createHash("sha256").update(body).digest("hex")}\n`,
  );
  const stderr = await verifyFails(s.store, "the order of a pack index");
  assert.match(stderr, /Pack index pack-[\w-]+\.idx is corrupt: its entries are out of order/);
});

/** A store holding `big@master:/big.bin` of `size` bytes (a loose blob) with one byte flipped. */
async function storeWithCorruptBlob(
  size: number,
): Promise<AsyncDisposable & { dir: string; store: string; hash: string }> {
  const dir = await tempDir();
  const store = `${dir.path}/.tusk`;
  const src = `${dir.path}/big.bin`;
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 7919) >>> 5;
  await Deno.writeFile(src, bytes);
  await tuskOk(["init"], { store });
  await tuskOk(["create", "repo", "big"], { store });
  await tuskOk(["put", "file", "big@master:/big.bin", "-f", src], { store });
  const file = (await listFiles(store, "big@master:/big.bin"))[0]!;
  await flipByte(loosePath(store, file.hash), size - 1000);
  return {
    dir: dir.path,
    store,
    hash: file.hash,
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

Deno.test("get file of a 2 MiB loose blob with one byte flipped exits 1 naming it and prints nothing", async () => {
  await using s = await storeWithCorruptBlob(2 << 20);
  const got = await tusk(["get", "file", "big@master:/big.bin"], { store: s.store });
  assert.equal(got.code, 1, `get file exited ${got.code}:\n${got.stderr}`);
  assert.ok(got.stderr.includes(`Object ${s.hash} is corrupt`), got.stderr);
  assert.equal(got.stdoutBytes.length, 0);
});

Deno.test("get file of a 9 MiB loose blob with one byte flipped exits 1 naming it after streaming", async () => {
  await using s = await storeWithCorruptBlob(9 << 20);
  const got = await tusk(["get", "file", "big@master:/big.bin"], { store: s.store });
  assert.equal(got.code, 1, `get file exited ${got.code}:\n${got.stderr}`);
  assert.doesNotMatch(got.stderr, /internal error/);
  assert.ok(got.stderr.includes(`Object ${s.hash} is corrupt`), got.stderr);
});

Deno.test("get file -o of a 9 MiB loose blob with one byte flipped exits 1 and leaves no file", async () => {
  await using s = await storeWithCorruptBlob(9 << 20);
  const out = `${s.dir}/out`;
  await Deno.mkdir(out);
  const got = await tusk(["get", "file", "big@master:/big.bin", "-o", `${out}/big.bin`], {
    store: s.store,
  });
  assert.equal(got.code, 1, `get file exited ${got.code}:\n${got.stderr}`);
  assert.ok(got.stderr.includes(`Object ${s.hash} is corrupt`), got.stderr);
  assert.deepEqual([...Deno.readDirSync(out)], []);
});

Deno.test("verify exits 1 naming the pack when a pack file is missing", async () => {
  await using s = await copyOfTemplate();
  const packs = [...Deno.readDirSync(`${s.store}/packs`)].filter((e) => e.name.endsWith(".pack"));
  assert.equal(packs.length, 1, "the template is expected to hold one pack");
  const name = packs[0]!.name.slice(0, -".pack".length);
  await Deno.remove(`${s.store}/packs/${name}.pack`);
  const stderr = await verifyFails(s.store, `pack ${name}`);
  assert.ok(stderr.includes(name), `stderr does not name pack ${name}:\n${stderr}`);
});

/** Point `tamper@master` at its first commit in state.json, rewriting the file as JSON. */
async function editHead(store: string): Promise<void> {
  const commits = JSON.parse(
    (await tuskOk(["list", "commit", "tamper@master", "--json"], { store })).stdout,
  ) as { id: string }[];
  const state = JSON.parse(await Deno.readTextFile(`${store}/state.json`));
  state.repos.tamper.branches.master.head = commits.at(-1)!.id;
  await Deno.writeTextFile(`${store}/state.json`, JSON.stringify(state));
}

Deno.test("put file after a branch head in state.json was edited exits 1 naming the file and appends nothing", async () => {
  await using s = await copyOfTemplate();
  await editHead(s.store);
  const ledger = await Deno.readFile(`${s.store}/ledger`);
  const r = await tusk(["put", "file", "tamper@master:/new.txt", "-f", "-"], {
    store: s.store,
    stdin: "new\n",
  });
  assert.equal(r.code, 1, `put file exited ${r.code}:\n${r.stderr}`);
  assert.match(r.stderr, /state\.json/);
  assert.deepEqual(await Deno.readFile(`${s.store}/ledger`), ledger);
});

Deno.test("verify exits 1 and names the state file when a branch head in state.json was edited", async () => {
  await using s = await copyOfTemplate();
  await editHead(s.store);
  const stderr = await verifyFails(s.store, "a branch head in state.json");
  assert.match(stderr, /state file/, `stderr does not name the state file:\n${stderr}`);
});

Deno.test("verify names a missing datum output tree, in single parentheses", async () => {
  await using t = await tempDir();
  const store = `${t.path}/.tusk`;
  await tuskOk(["init"], { store });
  await tuskOk(["create", "repo", "in"], { store });
  for (const name of ["a", "b"]) {
    await tuskOk(["put", "file", `in@master:/${name}.txt`, "-f", "-"], { store, stdin: name });
  }
  await Deno.copyFile(`${ROOT}/tests/fixtures/stages/upper.ts`, `${t.path}/upper.ts`);
  const spec = `${t.path}/up.json`;
  await Deno.writeTextFile(
    spec,
    JSON.stringify({
      pipeline: { name: "up" },
      transform: { cmd: ["deno", "run", "upper.ts", "/pfs/in/", "/pfs/out/"] },
      input: { pfs: { repo: "in", glob: "/*" } },
    }),
  );
  await tuskOk(["create", "pipeline", "-f", spec], { store });
  // Each datum's own output tree (one file) differs from the output commit's (two files).
  const first = (await Deno.readTextFile(`${store}/jobs/up/datums.jsonl`)).split("\n")[0]!;
  const tree = (JSON.parse(first) as { tree: string }).tree;
  await Deno.remove(loosePath(store, tree));
  const stderr = await verifyFails(store, "a datum output tree");
  assert.match(stderr, new RegExp(tree));
  assert.doesNotMatch(stderr, /\(\(/);
});

Deno.test("putting the same bytes again heals a loose blob that was cut short, large or small", async () => {
  await using s = await storeWithCorruptBlob(2 << 20);
  const path = loosePath(s.store, s.hash);
  await Deno.truncate(path, 1000);
  await verifyFails(s.store, s.hash);
  await tuskOk(["put", "file", "big@master:/again.bin", "-f", `${s.dir}/big.bin`], {
    store: s.store,
  });
  assert.equal((await Deno.stat(path)).size, 2 << 20);
  await tuskOk(["verify"], { store: s.store });

  await using t = await copyOfTemplate();
  const small = (await listFiles(t.store, "tamper@master:/small.txt"))[0]!;
  const smallPath = loosePath(t.store, small.hash);
  await Deno.truncate(smallPath, 5);
  await verifyFails(t.store, small.hash);
  const src = await Deno.makeTempFile();
  await Deno.writeTextFile(src, "a small file, stored loose\n");
  try {
    await tuskOk(["put", "file", "tamper@master:/copy.txt", "-f", src], { store: t.store });
  } finally {
    await Deno.remove(src);
  }
  await tuskOk(["verify"], { store: t.store });
  const got = await tuskOk(["get", "file", "tamper@master:/small.txt"], { store: t.store });
  assert.equal(got.stdout, "a small file, stored loose\n");
});
