/**
 * A store copied file by file, as object stores (S3) and some copy tools do, arrives without
 * its empty folders (`tmp/`, `packs/`, `objects/`, …). Every command must work on such a
 * copy, recreating what is missing; a copy that lost real data fails with a clear message
 * and exit 1, never as a bug (exit 70).
 */
import assert from "node:assert/strict";
import { ROOT, tempDir } from "../_helpers.ts";
import { assertFails, ok, tusk } from "./_cli.ts";

const STAGES = `${ROOT}/tests/fixtures/stages`;

/** Copy the regular files under `from` to `to`, making only the folders that hold one. */
async function copyFilesOnly(from: string, to: string): Promise<void> {
  for await (const e of Deno.readDir(from)) {
    if (e.isDirectory) await copyFilesOnly(`${from}/${e.name}`, `${to}/${e.name}`);
    else if (e.isFile) {
      await Deno.mkdir(to, { recursive: true });
      await Deno.copyFile(`${from}/${e.name}`, `${to}/${e.name}`);
    }
  }
}

/** The empty folders under `dir`, relative to it. */
async function emptyFolders(dir: string, rel = ""): Promise<string[]> {
  const found: string[] = [];
  let entries = 0;
  for await (const e of Deno.readDir(dir)) {
    entries++;
    if (e.isDirectory) {
      found.push(...await emptyFolders(`${dir}/${e.name}`, rel ? `${rel}/${e.name}` : e.name));
    }
  }
  if (entries === 0 && rel) found.push(rel);
  return found;
}

Deno.test("a fresh store copied without its empty folders takes a put, a get and a verify", async () => {
  await using dir = await tempDir();
  const original = `${dir.path}/original/.tusk`;
  const copy = `${dir.path}/copy/.tusk`;
  await ok(["init"], { store: original });
  const dropped = await emptyFolders(original);
  assert.deepEqual(dropped.sort(), ["objects", "packs", "tmp"]);
  await copyFilesOnly(original, copy);
  assert.deepEqual(await emptyFolders(copy), []);
  for (const d of dropped) {
    await assert.rejects(Deno.stat(`${copy}/${d}`), Deno.errors.NotFound, `${d} was dropped`);
  }

  await ok(["list", "repo"], { store: copy });
  await ok(["create", "repo", "r"], { store: copy });
  await ok(["put", "file", "r@master:/a.txt", "-f", "-"], { store: copy, stdin: "alpha\n" });
  assert.equal((await ok(["get", "file", "r@master:/a.txt"], { store: copy })).stdout, "alpha\n");
  await ok(["verify"], { store: copy });
});

Deno.test("a store with a pipeline's jobs copied without its empty folders runs the next job", async () => {
  await using dir = await tempDir();
  const original = `${dir.path}/original/.tusk`;
  const copy = `${dir.path}/copy/.tusk`;
  await Deno.copyFile(`${STAGES}/upper.ts`, `${dir.path}/upper.ts`);
  await Deno.copyFile(`${STAGES}/upper.json`, `${dir.path}/upper.json`);
  await ok(["init"], { store: original });
  await ok(["create", "repo", "data"], { store: original });
  await ok(["create", "pipeline", "-f", `${dir.path}/upper.json`], { store: original });
  await ok(["put", "file", "data@master:/a.txt", "-f", "-"], { store: original, stdin: "one\n" });
  assert.ok((await emptyFolders(original)).includes("tmp"), "the original has an empty tmp/");
  await copyFilesOnly(original, copy);

  await ok(["list", "job"], { store: copy });
  await ok(["put", "file", "data@master:/b.txt", "-f", "-"], { store: copy, stdin: "two\n" });
  assert.equal((await ok(["get", "file", "upper@master:/b.txt"], { store: copy })).stdout, "TWO\n");
  assert.equal((await ok(["get", "file", "upper@master:/a.txt"], { store: copy })).stdout, "ONE\n");
  await ok(["verify"], { store: copy });
});

Deno.test("a copied store that lost its objects fails get file and verify with exit 1", async () => {
  await using dir = await tempDir();
  const original = `${dir.path}/original/.tusk`;
  const copy = `${dir.path}/copy/.tusk`;
  await ok(["init"], { store: original });
  await ok(["create", "repo", "r"], { store: original });
  await ok(["put", "file", "r@master:/a.txt", "-f", "-"], { store: original, stdin: "alpha\n" });
  await copyFilesOnly(original, copy);
  await Deno.remove(`${copy}/objects`, { recursive: true });
  await Deno.remove(`${copy}/packs`, { recursive: true }).catch(() => {});

  assertFails(await tusk(["get", "file", "r@master:/a.txt"], { store: copy }), 1, /[0-9a-f]{64}/);
  assertFails(await tusk(["verify"], { store: copy }), 1);
});

Deno.test("a copied store that lost its ledger fails with exit 1 naming the ledger", async () => {
  await using dir = await tempDir();
  const original = `${dir.path}/original/.tusk`;
  const copy = `${dir.path}/copy/.tusk`;
  await ok(["init"], { store: original });
  await ok(["create", "repo", "r"], { store: original });
  await copyFilesOnly(original, copy);
  await Deno.remove(`${copy}/ledger`);

  assertFails(await tusk(["list", "repo"], { store: copy }), 1, /ledger/);
  assertFails(await tusk(["create", "repo", "s"], { store: copy }), 1, /ledger/);
  assertFails(await tusk(["verify"], { store: copy }), 1, /ledger/);
});

Deno.test("a fresh store whose empty ledger file was dropped gets it back and works", async () => {
  await using dir = await tempDir();
  const original = `${dir.path}/original/.tusk`;
  const copy = `${dir.path}/copy/.tusk`;
  await ok(["init"], { store: original });
  assert.equal((await Deno.stat(`${original}/ledger`)).size, 0);
  await copyFilesOnly(original, copy);
  await Deno.remove(`${copy}/ledger`);

  await ok(["create", "repo", "r"], { store: copy });
  assert.match((await ok(["list", "repo"], { store: copy })).stdout, /^r\s/m);
  await ok(["verify"], { store: copy });
});
