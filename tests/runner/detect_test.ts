/** Sandbox detection: the mode in force and why, and the host tools it is built from. */
import assert from "node:assert/strict";
import { detectSandbox, findExecutable, hostTools } from "../../lib/runner/detect.ts";
import { SandboxUnavailableError } from "../../lib/errors.ts";

Deno.test('detectSandbox("deno") takes Deno permissions as asked', async () => {
  const choice = await detectSandbox("deno");
  assert.equal(choice.mode, "deno");
  assert.match(choice.reason, /requested/);
});

Deno.test('detectSandbox("auto") picks a mode and says why', async () => {
  const choice = await detectSandbox("auto");
  assert.ok(choice.mode === "deno" || choice.mode === "bwrap");
  assert.ok(choice.reason.length > 0);
});

Deno.test('detectSandbox("bwrap") agrees with "auto" or throws SandboxUnavailableError', async () => {
  const auto = await detectSandbox("auto");
  if (auto.mode === "bwrap") {
    assert.equal((await detectSandbox("bwrap")).mode, "bwrap");
  } else {
    await assert.rejects(
      detectSandbox("bwrap"),
      (err: unknown) =>
        err instanceof SandboxUnavailableError && err.code === "SANDBOX_UNAVAILABLE",
    );
  }
});

Deno.test("hostTools() finds the native Deno binary and its libraries", async () => {
  const tools = await hostTools();
  assert.equal(tools.deno, await Deno.realPath(Deno.execPath()));
  const info = await Deno.stat(tools.deno);
  assert.ok(info.isFile);
  for (const lib of tools.libraries) assert.ok(lib.target.startsWith("/"));
});

Deno.test("findExecutable() returns null for a program that does not exist", async () => {
  assert.equal(await findExecutable("tusk-no-such-program"), null);
  assert.ok((await findExecutable("sh"))?.startsWith("/"));
});
