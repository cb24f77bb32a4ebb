/**
 * `wrongKindError()`: naming the store entry of the wrong kind behind a file-system error;
 * `removeCommand()`: a shell command that removes files and folders by any name.
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { removeCommand, wrongKindError } from "../../lib/store/damage.ts";
import { tempDir } from "../_helpers.ts";

/** The error a read of `path` raises. */
async function readError(path: string): Promise<unknown> {
  try {
    await Deno.readFile(path);
  } catch (err) {
    return err;
  }
  throw new Error(`${path} was read`);
}

Deno.test("wrongKindError() names a file that stands where a folder of the path belongs", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/objects`);
  await Deno.writeTextFile(`${dir.path}/objects/ab`, "x");
  const path = `${dir.path}/objects/ab/cdef`;
  const err = await wrongKindError(await readError(path), dir.path, path, "file");
  assert.ok(err instanceof IntegrityError);
  assert.equal(err.data.path, `${dir.path}/objects/ab`);
  assert.equal(err.data.want, "folder");
});

Deno.test("wrongKindError() names a folder that stands where a file belongs", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/ledger`);
  const path = `${dir.path}/ledger`;
  const err = await wrongKindError(await readError(path), dir.path, path, "file");
  assert.ok(err instanceof IntegrityError);
  assert.equal(err.data.path, path);
  assert.equal(err.data.want, "file");
});

Deno.test("wrongKindError() gives back any other error as it is", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/missing`;
  const notFound = await readError(path);
  assert.equal(await wrongKindError(notFound, dir.path, path, "file"), notFound);
});

Deno.test("removeCommand() removes a file, a folder and a missing path, whatever their names hold", async () => {
  await using dir = await tempDir();
  const file = `${dir.path}/it's a "file" $HOME`;
  const folder = `${dir.path}/-folder \`x\``;
  await Deno.writeTextFile(file, "x");
  await Deno.mkdir(`${folder}/inner`, { recursive: true });
  const kept = `${dir.path}/kept`;
  await Deno.writeTextFile(kept, "y");
  const command = removeCommand([file, folder, `${dir.path}/missing`]);
  const rm = await new Deno.Command("sh", { args: ["-c", command] }).output();
  assert.equal(rm.code, 0, new TextDecoder().decode(rm.stderr));
  const left = [];
  for await (const e of Deno.readDir(dir.path)) left.push(e.name);
  assert.deepEqual(left, ["kept"]);
});
