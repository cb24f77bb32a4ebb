/** Remotes in a folder: the round trip between two stores, through the real CLI. */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { rjson, rok } from "./_remote.ts";
import { roundTrip } from "./_round_trip.ts";

Deno.test("a folder remote carries commits, pipelines, jobs and lineage from A to a clone B and back", async () => {
  await using dir = await tempDir();
  await roundTrip(dir.path, `${dir.path}/remote`);
});

Deno.test("a file:/// URL and a relative path name the same folder remote", async () => {
  await using dir = await tempDir();
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/x", "-f", "-"], { ...a, stdin: "x\n" });
  await rok(["remote", "add", "origin", `file://${dir.path}/my%20remote`], a);
  const list = await rjson<{ name: string; url: string; kind: string }[]>(["remote", "list"], a);
  assert.deepEqual(list, [{ name: "origin", url: `${dir.path}/my remote`, kind: "folder" }]);
  await rok(["push", "origin"], a);
  await rok(["clone", "my remote", "b"], { cwd: dir.path });
  assert.equal(
    (await rok(["get", "file", "data@master:/x"], { store: `${dir.path}/b/.tusk` })).stdout,
    "x\n",
  );
});
