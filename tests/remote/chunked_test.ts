/**
 * Remotes carry large folders, stored as a fanout tree and its chunks: a push sends the
 * chunks with the fanout, a clone and a pull take them in (re-hashed) and mark the store as
 * holding chunked trees, and a change to one file sends only the chunk that holds it.
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { rjson, rok } from "./_remote.ts";

const FILES = 5000;

Deno.test("push, clone and pull carry a large folder's chunks", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  const b = { store: `${dir.path}/b/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  const src = `${dir.path}/big`;
  await Deno.mkdir(src);
  for (let i = 0; i < FILES; i++) {
    await Deno.writeTextFile(`${src}/f${String(i).padStart(5, "0")}`, `${i}\n`);
  }
  await rok(["put", "file", "-r", "data@master:/big", "-f", src], a);
  assert.equal(await Deno.readTextFile(`${a.store}/STORE`), "tusk-store 2\n");
  await rok(["remote", "add", "origin", `${dir.path}/remote`], a);
  await rok(["push", "origin"], a);
  await rok(["clone", `${dir.path}/remote`, "b"], { cwd: dir.path });
  assert.equal(await Deno.readTextFile(`${b.store}/STORE`), "tusk-store 2\n");
  const listed = async (s: { store: string }) =>
    (await rjson<{ path: string; size: number }[]>(["list", "file", "data@master:/big"], s))
      .map((f) => `${f.path} ${f.size}`);
  const want = await listed(a);
  assert.equal(want.length, FILES);
  assert.deepEqual(await listed(b), want);
  assert.equal((await rok(["get", "file", "data@master:/big/f04999"], b)).stdout, "4999\n");
  await rok(["verify"], b);
  // A store that pulls its first chunked folder is marked too.
  const c = { store: `${dir.path}/c/.tusk` };
  await rok(["init"], c);
  assert.equal(await Deno.readTextFile(`${c.store}/STORE`), "tusk-store 1\n");
  await rok(["remote", "add", "origin", `${dir.path}/remote`], c);
  await rok(["pull", "origin"], c);
  assert.equal(await Deno.readTextFile(`${c.store}/STORE`), "tusk-store 2\n");
  assert.deepEqual(await listed(c), want);

  // One file changed in A: the push sends its blob, the root, the fanout and one chunk.
  await rok(["put", "file", "data@master:/big/f01234", "-f", "-"], { ...a, stdin: "new\n" });
  const pushed = await rjson<{ objects: number }>(["push", "origin"], a);
  assert.equal(pushed.objects, 5, JSON.stringify(pushed));
  await rok(["pull", "origin"], b);
  assert.equal((await rok(["get", "file", "data@master:/big/f01234"], b)).stdout, "new\n");
  assert.deepEqual(await listed(b), await listed(a));
  await rok(["verify"], b);
});
