/**
 * File names as long as the store accepts (255 bytes, the host's NAME_MAX) go everywhere a
 * name can go: `put file`, `get file -o`, `get file -r -o`, a pipeline's input and its
 * output. No consumer may lengthen a name (a temp file named after its target) past what
 * the host can lay out.
 */
import assert from "node:assert/strict";
import { MAX_PATH_BYTES } from "../../lib/store/names.ts";
import { ROOT, snapshotStore, tempStore } from "../_helpers.ts";
import { assertFails, ok, tusk } from "./_cli.ts";

const UPPER = `${ROOT}/tests/fixtures/stages/upper.json`;
/** A name of exactly 255 bytes, the longest the store takes. */
const LONG = "n".repeat(255);
/** A 255-byte name of 2-byte characters and one ASCII byte. */
const LONG_UTF8 = "é".repeat(127) + "x";

Deno.test("a 255-byte file name round-trips through put file, get file -o and get file -r -o", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await Deno.writeTextFile(`${s.path}/src.txt`, "long name\n");
  await ok(["create", "repo", "data"], o);
  for (const name of [LONG, LONG_UTF8]) {
    assert.equal(new TextEncoder().encode(name).length, 255);
    await ok(["put", "file", `data@master:/${name}`, "-f", `${s.path}/src.txt`], o);
  }
  await Deno.mkdir(`${s.path}/one`);
  for (const name of [LONG, LONG_UTF8]) {
    const r = await tusk(
      ["get", "file", `data@master:/${name}`, "-o", `${s.path}/one/${name}`],
      o,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await Deno.readTextFile(`${s.path}/one/${name}`), "long name\n");
  }
  const r = await tusk(["get", "file", "data@master:/", "-r", "-o", `${s.path}/all`], o);
  assert.equal(r.code, 0, r.stderr);
  const got = [...Deno.readDirSync(`${s.path}/all`)].map((e) => e.name).sort();
  assert.deepEqual(got, [LONG, LONG_UTF8].sort());
  // Nothing but the files themselves is left beside them.
  assert.deepEqual([...Deno.readDirSync(`${s.path}/one`)].map((e) => e.name).sort(), got);
});

Deno.test("a 255-byte file name is a pipeline's input and its output, and is got back from the output", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await Deno.writeTextFile(`${s.path}/src.txt`, "long name\n");
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", `data@master:/${LONG}`, "-f", `${s.path}/src.txt`], o);
  const created = await tusk(["create", "pipeline", "-f", UPPER], o);
  assert.equal(created.code, 0, created.stderr);
  const jobs = JSON.parse((await ok(["list", "job", "--json"], o)).stdout) as { state: string }[];
  assert.deepEqual(jobs.map((j) => j.state), ["SUCCESS"]);
  const r = await tusk(["get", "file", `upper@master:/${LONG}`, "-o", `${s.path}/${LONG}`], o);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(`${s.path}/${LONG}`), "LONG NAME\n");
  const all = await tusk(["get", "file", "upper@master:/", "-r", "-o", `${s.path}/out`], o);
  assert.equal(all.code, 0, all.stderr);
  assert.deepEqual([...Deno.readDirSync(`${s.path}/out`)].map((e) => e.name), [LONG]);
});

/** A path of `bytes` bytes (`bytes` ≡ 0 mod 4 or more): 250-byte names, then a shorter last one. */
function pathOf(bytes: number): string {
  const parts: string[] = [];
  let left = bytes;
  while (left > 251 + 2) {
    parts.push("d".repeat(250));
    left -= 251;
  }
  parts.push("f".repeat(left - 1));
  return "/" + parts.join("/");
}

Deno.test("put file takes a path of MAX_PATH_BYTES and refuses one byte more, changing nothing", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await Deno.writeTextFile(`${s.path}/src.txt`, "deep\n");
  await ok(["create", "repo", "data"], o);
  const longest = pathOf(MAX_PATH_BYTES);
  assert.equal(longest.length, MAX_PATH_BYTES);
  await ok(["put", "file", `data@master:${longest}`, "-f", `${s.path}/src.txt`], o);
  const before = await snapshotStore(s.store);
  const r = await tusk(
    ["put", "file", `data@master:${pathOf(MAX_PATH_BYTES + 1)}`, "-f", `${s.path}/src.txt`],
    o,
  );
  assertFails(r, 2, /3073 bytes long/, new RegExp(`at most ${MAX_PATH_BYTES} bytes`));
  // A folder put under a name that makes its files' paths too long is refused as well.
  await Deno.mkdir(`${s.path}/dir`);
  await Deno.writeTextFile(`${s.path}/dir/${"g".repeat(200)}`, "x");
  const r2 = await tusk(["put", "file", `data@master:${longest}/`, "-r", "-f", `${s.path}/dir`], o);
  assertFails(r2, 2, new RegExp(`at most ${MAX_PATH_BYTES} bytes`));
  assert.equal(await snapshotStore(s.store), before);
  const got = await ok(["get", "file", `data@master:${longest}`], o);
  assert.equal(got.stdout, "deep\n");
});

Deno.test("get file -r -o into a folder too deep for a stored path fails naming the limit, not a crash", async () => {
  await using s = await tempStore();
  const o = { store: s.store };
  await Deno.writeTextFile(`${s.path}/src.txt`, "deep\n");
  await ok(["create", "repo", "data"], o);
  await ok(["put", "file", `data@master:${pathOf(MAX_PATH_BYTES)}`, "-f", `${s.path}/src.txt`], o);
  // An -o folder of 1,250 bytes: the file's host path would pass the host's 4,096.
  const deep = `${s.path}${pathOf(1250)}`;
  await Deno.mkdir(deep, { recursive: true });
  const r = await tusk(["get", "file", "data@master:/", "-r", "-o", deep], o);
  assertFails(r, 1, /longer than this host allows/, /shorter path/);
});
