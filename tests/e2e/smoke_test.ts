import assert from "node:assert/strict";
import { tempStore, tuskOk } from "../_helpers.ts";

Deno.test("tusk init, create repo and list repo show the new repo", async () => {
  await using s = await tempStore();
  await tuskOk(["create", "repo", "training"], { store: s.store });
  const r = await tuskOk(["list", "repo"], { store: s.store });
  assert.match(r.stdout, /^NAME\s+CREATED\s+SIZE\ntraining\s+.* ago\s+0 B\n$/);
});
