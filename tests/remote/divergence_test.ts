/**
 * Branches move fast-forward only, both ways: a push or pull that would drop commits is
 * refused naming the branch and both heads, with nothing changed on either side; and the
 * way docs/remotes.md gives to reconcile works.
 */
import assert from "node:assert/strict";
import { snapshotStore, tempDir } from "../_helpers.ts";
import { rjson, rok, rtusk, snapshotRemote } from "./_remote.ts";

/** A and B share a remote and one commit, then each commits on its own (A `ownA` times). */
async function diverged(dir: string, ownA = 1) {
  const remote = `${dir}/remote`;
  const a = { store: `${dir}/a/.tusk` };
  const b = { store: `${dir}/b/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/base", "-f", "-"], { ...a, stdin: "base\n" });
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  await rok(["clone", remote, `${dir}/b`]);
  await rok(["put", "file", "data@master:/from-b", "-f", "-"], { ...b, stdin: "b\n" });
  await rok(["push", "origin"], b);
  for (let i = 0; i < ownA; i++) {
    const path = i === 0 ? "/from-a" : `/from-a-${i}`;
    await rok(["put", "file", `data@master:${path}`, "-f", "-"], { ...a, stdin: "a\n" });
  }
  const head = async (o: { store: string }) =>
    (await rjson<{ id: string }[]>(["list", "commit", "data@master"], o))[0]!.id;
  return { remote, a, b, headA: await head(a), headB: await head(b) };
}

Deno.test("a push that would drop the remote's commits is refused naming the branch and both heads, nothing changed", async () => {
  await using dir = await tempDir();
  const d = await diverged(dir.path);
  const store = await snapshotStore(d.a.store);
  const remote = await snapshotRemote(d.remote);
  const r = await rtusk(["push", "origin"], d.a);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /data@master/);
  assert.ok(r.stderr.includes(d.headA) && r.stderr.includes(d.headB), r.stderr);
  assert.equal(await snapshotStore(d.a.store), store);
  assert.equal(await snapshotRemote(d.remote), remote);
});

Deno.test("a pull that would drop this store's commits is refused naming the branch and both heads, nothing changed", async () => {
  await using dir = await tempDir();
  const d = await diverged(dir.path);
  const store = await snapshotStore(d.a.store);
  const remote = await snapshotRemote(d.remote);
  const r = await rtusk(["pull", "origin"], d.a);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /data@master/);
  assert.ok(r.stderr.includes(d.headA) && r.stderr.includes(d.headB), r.stderr);
  assert.equal(await snapshotStore(d.a.store), store);
  assert.equal(await snapshotRemote(d.remote), remote);
});

Deno.test("diverged branches reconcile as docs/remotes.md shows: keep the work on a branch, move back, pull, push both", async () => {
  await using dir = await tempDir();
  const d = await diverged(dir.path);
  await rok(["create", "branch", "data@mine", "--head", "data@master"], d.a);
  await rok(["create", "branch", "data@master", "--head", "data@master^"], d.a);
  await rok(["pull", "origin"], d.a);
  const log = await rjson<{ id: string }[]>(["list", "commit", "data@master"], d.a);
  assert.equal(log[0]!.id, d.headB, "the pull took the other side's head");
  const mine = (await rok(["get", "file", "data@mine:/from-a"], d.a)).stdout;
  await rok(["put", "file", "data@master:/from-a", "-f", "-"], { ...d.a, stdin: mine });
  await rok(["push", "origin"], d.a);
  await rok(["pull", "origin"], d.b);
  const files = async (ref: string) =>
    (await rjson<{ path: string }[]>(["list", "file", ref], d.b)).map((f) => f.path).sort();
  assert.deepEqual(await files("data@master"), ["/base", "/from-a", "/from-b"]);
  assert.deepEqual(await files("data@mine"), ["/base", "/from-a"]);
});

Deno.test("pulling into a store that is ahead of the remote changes nothing and says it is up to date", async () => {
  await using dir = await tempDir();
  const remote = `${dir.path}/remote`;
  const a = { store: `${dir.path}/a/.tusk` };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/x", "-f", "-"], { ...a, stdin: "x\n" });
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  await rok(["put", "file", "data@master:/y", "-f", "-"], { ...a, stdin: "y\n" });
  const before = await snapshotStore(a.store);
  const r = await rjson<{ upToDate: boolean }>(["pull", "origin"], a);
  assert.equal(r.upToDate, true);
  assert.equal(await snapshotStore(a.store), before);
});

/** The `tusk …` commands a refusal quotes, in order, as argument lists. */
function quoted(message: string): string[][] {
  return [...message.matchAll(/"tusk ([^"]+)"/g)].map((m) => m[1]!.split(" "));
}

/** The head of `ref` in the store `o`. */
async function headOf(ref: string, o: { store: string }): Promise<string> {
  return (await rjson<{ id: string }[]>(["list", "commit", ref], o))[0]!.id;
}

/** The shared commit of `diverged()`: the first commit, made by A before anything diverged. */
async function baseOf(o: { store: string }): Promise<string> {
  return (await rjson<{ id: string }[]>(["list", "commit", "data@master"], o)).at(-1)!.id;
}

Deno.test("a refused pull spells the reconcile steps with a free branch and the real ancestry, and they work as given", async () => {
  await using dir = await tempDir();
  const d = await diverged(dir.path, 2);
  await rok(["create", "branch", "data@mine", "--head", "data@master^2"], d.a);
  const base = await baseOf(d.a);
  const r = await rtusk(["pull", "origin"], d.a);
  assert.equal(r.code, 1, r.stderr);
  const cmds = quoted(r.stderr);
  assert.deepEqual(cmds, [
    ["create", "branch", "data@mine-2", "--head", "data@master"],
    ["create", "branch", "data@master", "--head", "data@master^2"],
    ["pull", "origin", "data@master"],
    ["push", "origin"],
  ]);
  assert.ok(r.stderr.includes(base.slice(0, 12)), `names the shared commit: ${r.stderr}`);
  for (const args of cmds.slice(0, 3)) await rok(args, d.a);
  assert.equal(await headOf("data@master", d.a), d.headB, "master took the other side's head");
  assert.equal(await headOf("data@mine-2", d.a), d.headA, "this side's work is kept");
  assert.equal(await headOf("data@mine", d.a), base, "the branch already named mine is untouched");
});

Deno.test("a refused push of a diverged branch spells the reconcile steps, and they work as given", async () => {
  await using dir = await tempDir();
  const d = await diverged(dir.path);
  const r = await rtusk(["push", "origin"], d.a);
  assert.equal(r.code, 1, r.stderr);
  const cmds = quoted(r.stderr);
  assert.deepEqual(cmds, [
    ["create", "branch", "data@mine", "--head", "data@master"],
    ["create", "branch", "data@master", "--head", "data@master^"],
    ["pull", "origin", "data@master"],
    ["push", "origin"],
  ]);
  for (const args of cmds.slice(0, 3)) await rok(args, d.a);
  assert.equal(await headOf("data@master", d.a), d.headB);
  await rok(["put", "file", "data@master:/from-a", "-f", "-"], { ...d.a, stdin: "a\n" });
  await rok(cmds[3]!, d.a);
  await rok(["pull", "origin"], d.b);
  assert.equal(await headOf("data@master", d.b), await headOf("data@master", d.a));
});

Deno.test("a push refused because the remote is ahead says to pull first, not to reconcile", async () => {
  await using dir = await tempDir();
  const d = await diverged(dir.path, 0);
  const r = await rtusk(["push", "origin"], d.a);
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(quoted(r.stderr), [["pull", "origin", "data@master"]]);
  assert.doesNotMatch(r.stderr, /create branch/);
  await rok(["pull", "origin", "data@master"], d.a);
  assert.equal(await headOf("data@master", d.a), d.headB);
});

/** A pushes repo `data`; B, a store of its own (not a clone), makes `data` and commits apart. */
async function unrelated(dir: string) {
  const remote = `${dir}/remote`;
  const a = { store: `${dir}/a/.tusk` };
  const b = { store: `${dir}/b/.tusk` };
  for (const [o, text] of [[a, "a\n"], [b, "b\n"]] as const) {
    await rok(["init"], o);
    await rok(["create", "repo", "data"], o);
    await rok(["put", "file", "data@master:/file", "-f", "-"], { ...o, stdin: text });
    await rok(["remote", "add", "origin", remote], o);
  }
  await rok(["push", "origin"], a);
  return { remote, a, b };
}

Deno.test("a refused push of a branch that shares no commit with the remote's says to delete it, not to move it back", async () => {
  await using dir = await tempDir();
  const d = await unrelated(dir.path);
  const store = await snapshotStore(d.b.store);
  const remote = await snapshotRemote(d.remote);
  const r = await rtusk(["push", "origin"], d.b);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /share no commit/);
  assert.deepEqual(quoted(r.stderr), [
    ["create", "branch", "data@mine", "--head", "data@master"],
    ["delete", "branch", "data@master"],
    ["pull", "origin", "data@master"],
    ["push", "origin"],
  ]);
  assert.equal(await snapshotStore(d.b.store), store);
  assert.equal(await snapshotRemote(d.remote), remote);
});

Deno.test("a refused pull of a branch that shares no commit with the remote's says to delete it, and the steps work", async () => {
  await using dir = await tempDir();
  const d = await unrelated(dir.path);
  const r = await rtusk(["pull", "origin"], d.b);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /share no commit/);
  const cmds = quoted(r.stderr);
  assert.deepEqual(cmds[1], ["delete", "branch", "data@master"]);
  const mine = await headOf("data@master", d.b);
  for (const args of cmds.slice(0, 3)) await rok(args, d.b);
  assert.equal(await headOf("data@master", d.b), await headOf("data@master", d.a));
  assert.equal(await headOf("data@mine", d.b), mine, "this side's work is kept");
});
