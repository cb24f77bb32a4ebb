/**
 * Progress of a push, pull and clone: on a terminal (a real tmux pane) one line on stderr,
 * rewritten in place, with objects, bytes and the rate; nothing when stderr is not a
 * terminal, where the summary alone is printed.
 */
import assert from "node:assert/strict";
import { MAIN, tempDir } from "../_helpers.ts";
import { Pane, shq } from "../tui/_tmux.ts";
import { NET_PERMS, rok, rtusk } from "./_remote.ts";

/** The command line that runs `tusk <args>` in the pane on `store`, then prints its status. */
function line(store: string, args: readonly string[]): string {
  const deno = [Deno.execPath(), "run", "--quiet", ...NET_PERMS, MAIN, ...args];
  return `clear; env -u NO_COLOR TUSK_STORE=${shq(store)} ${
    deno.map(shq).join(" ")
  }; echo "EXIT=$?"`;
}

async function storeWithFiles(dir: string): Promise<{ store: string }> {
  const o = { store: `${dir}/a/.tusk` };
  await rok(["init"], o);
  await rok(["create", "repo", "data"], o);
  const src = `${dir}/src`;
  await Deno.mkdir(src);
  for (let i = 0; i < 30; i++) await Deno.writeTextFile(`${src}/f${i}.txt`, `file ${i}\n`);
  await Deno.writeFile(`${src}/big.bin`, new Uint8Array(2 << 20).fill(7));
  await rok(["put", "file", "-r", "data@master:/", "-f", src], o);
  await rok(["remote", "add", "origin", `${dir}/remote`], o);
  return o;
}

const PROGRESS = (verb: string) =>
  new RegExp(`^${verb}: (\\d+)/\\1 objects, [\\d.]+ \\w+ of [\\d.]+ \\w+, [\\d.]+ \\w+/s$`, "m");

Deno.test({
  name: "push, clone and pull show objects, bytes and rate on a terminal",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const o = await storeWithFiles(dir.path);
    await using pane = await Pane.open(120, 30);

    await pane.run(line(o.store, ["push", "origin"]));
    assert.equal(await pane.exitStatus(30_000), 0);
    const pushed = await pane.capture();
    assert.match(pushed, PROGRESS("sending"), pushed);
    assert.match(pushed, /^sent \d+ objects/m);
    await pane.clear();

    await pane.run(line("", ["clone", `${dir.path}/remote`, `${dir.path}/b`]));
    assert.equal(await pane.exitStatus(30_000), 0);
    const cloned = await pane.capture();
    assert.match(cloned, PROGRESS("receiving"), cloned);
    assert.match(cloned, /^Cloned /m);
    await pane.clear();

    await rok(["put", "file", "data@master:/new.txt", "-f", "-"], { ...o, stdin: "new\n" });
    await rok(["push", "origin"], o);
    await pane.run(line(`${dir.path}/b/.tusk`, ["pull", "origin"]));
    assert.equal(await pane.exitStatus(30_000), 0);
    const pulled = await pane.capture();
    assert.match(pulled, PROGRESS("receiving"), pulled);
    assert.match(pulled, /^received \d+ objects/m);
  },
});

Deno.test("push and pull print no progress when stderr is not a terminal", async () => {
  await using dir = await tempDir();
  const o = await storeWithFiles(dir.path);
  const pushed = await rtusk(["push", "origin"], o);
  assert.equal(pushed.code, 0);
  assert.equal(pushed.stderr, "");
  assert.match(pushed.stdout, /^sent \d+ objects/m);
  const cloned = await rtusk(["clone", `${dir.path}/remote`, `${dir.path}/b`]);
  assert.equal(cloned.code, 0);
  assert.equal(cloned.stderr, "");
});
