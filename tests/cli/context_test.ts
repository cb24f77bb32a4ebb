/**
 * The context cli/ handlers get: printing escaped or exact into a real file, the store
 * folder asked for by --store or $TUSK_STORE, and the store found upward from the user's
 * folder, or a NoStoreError saying how to make one.
 */
import assert from "node:assert/strict";
import { CliContext } from "../../cli/context.ts";
import { InvalidArgumentError, NoStoreError } from "../../lib/errors.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";

/** A context whose environment is `vars` alone. */
function context(vars: Record<string, string>, options: { store?: string } = {}) {
  return new CliContext({ ...options, env: (name) => vars[name] });
}

Deno.test("CliContext.out() escapes control characters but line breaks; outExact() does not", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/out`;
  {
    using file = await Deno.open(path, { write: true, create: true });
    const cli = new CliContext({ stdout: file, env: () => undefined });
    cli.out("a\x1b[2Jb\n");
    cli.outExact("c\x1b[2Jd\n");
    cli.json({ x: 1 });
  }
  assert.equal(await Deno.readTextFile(path), 'a\\u001b[2Jb\nc\x1b[2Jd\n{\n  "x": 1\n}\n');
});

Deno.test("CliContext takes --store over $TUSK_STORE, a relative one from the user's folder", () => {
  assert.equal(context({ INIT_CWD: "/u", TUSK_STORE: "/env" }, { store: "s" }).storeFolder, "/u/s");
  assert.equal(context({ INIT_CWD: "/u", TUSK_STORE: "e" }).storeFolder, "/u/e");
  assert.equal(context({ INIT_CWD: "/u", TUSK_STORE: "" }).storeFolder, undefined);
});

Deno.test("CliContext.store() finds the store upward from the user's folder", async () => {
  await using dir = await tempDir();
  await Store.init(`${dir.path}/.tusk`);
  await Deno.mkdir(`${dir.path}/a/b`, { recursive: true });
  const store = await context({ INIT_CWD: `${dir.path}/a/b` }).store();
  assert.equal(store.root, `${dir.path}/.tusk`);
});

Deno.test("CliContext.store() without a store above the user's folder is NoStoreError", async () => {
  await using dir = await tempDir();
  await assert.rejects(
    context({ INIT_CWD: dir.path }).store(),
    (e: unknown) => e instanceof NoStoreError && e.data.cwd === dir.path,
  );
});

Deno.test("CliContext.with() keeps the writers and takes the global options given", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/out`;
  {
    using file = await Deno.open(path, { write: true, create: true });
    const cli = new CliContext({ stdout: file, env: () => undefined }).with({ store: "/s" });
    assert.equal(cli.storeFolder, "/s");
    cli.out("x\n");
  }
  assert.equal(await Deno.readTextFile(path), "x\n");
});

Deno.test("CliContext.sandboxRequest() takes --sandbox over $TUSK_SANDBOX, and an empty one as unset", async () => {
  assert.equal(await context({ TUSK_SANDBOX: "deno" }).sandboxRequest(), "deno");
  assert.equal(
    await new CliContext({ sandbox: "bwrap", env: () => "deno" }).sandboxRequest(),
    "bwrap",
  );
  assert.equal(await context({ TUSK_SANDBOX: "" }).sandboxRequest(), "auto");
  assert.equal(await context({}).sandboxRequest(), "auto");
});

Deno.test("CliContext.sandboxRequest() refuses a $TUSK_SANDBOX that is not a mode, as --sandbox does", async () => {
  await assert.rejects(context({ TUSK_SANDBOX: "bwarp" }).sandboxRequest(), (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentError);
    assert.equal(e.exitCode, 2);
    assert.equal(e.data.value, "bwarp");
    return true;
  });
});
