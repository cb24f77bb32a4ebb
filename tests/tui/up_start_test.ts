/**
 * `tusk up` in a real terminal (a tmux pane) before its first frame: the dashboard's code loads
 * while the store opens and the sandbox is probed, so a store that cannot be opened must still
 * end it with the store's message, on the main screen, and the exit status of that error.
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { Pane, tuskUpLine } from "./_tmux.ts";

Deno.test({
  name: "tusk up in a terminal with no store there says so and exits 1 without drawing",
  sanitizeResources: false,
  async fn() {
    await using dir = await tempDir();
    const missing = `${dir.path}/no-store-here`;
    await using pane = await Pane.open(120, 36);
    await pane.run(tuskUpLine(missing));
    assert.equal(await pane.exitStatus(20_000), 1);
    const screen = await pane.waitFor((s) => /EXIT=1/.test(s), "the exit status");
    assert.match(screen, /No tusk store at ".*no-store-here": run "tusk init" to create one/);
    assert.doesNotMatch(screen, /q quit|JOBS|PIPELINES/, "no dashboard was drawn");
    assert.equal(await pane.display("#{alternate_on}"), "0", "still on the main screen");
    await assert.rejects(Deno.stat(missing), Deno.errors.NotFound);
  },
});
