/**
 * Bad input to the remote commands: each a clear message naming the culprit, exit 1 or 2,
 * nothing changed; an endpoint that never answers fails on its own, within seconds.
 */
import assert from "node:assert/strict";
import { snapshotStore, tempDir } from "../_helpers.ts";
import { assertFails } from "../e2e/_cli.ts";
import { filesUnder, rok, rtusk, startS3 } from "./_remote.ts";

async function withStore(dir: string) {
  const o = { store: `${dir}/a/.tusk` };
  await rok(["init"], o);
  await rok(["create", "repo", "data"], o);
  await rok(["put", "file", "data@master:/x", "-f", "-"], { ...o, stdin: "x\n" });
  return o;
}

Deno.test("push, pull and remote remove of an unknown remote exit 1 naming it", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  for (const args of [["push", "orign"], ["pull", "orign"], ["remote", "remove", "orign"]]) {
    assertFails(await rtusk(args, o), 1, /Cannot find remote "orign": did you mean "origin"\?/);
  }
});

Deno.test("remote add and clone refuse a bad URL, remote add a bad name, with exit 2; a taken name exits 1", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  const before = await snapshotStore(o.store);
  for (const url of ["ftp://host/x", "s3://No_Such/x", "s3://", "file://host/x", ""]) {
    assertFails(await rtusk(["remote", "add", "r", url], o), 2, /Invalid remote URL/);
  }
  assertFails(
    await rtusk(["remote", "add", "bad name", `${dir.path}/r`], o),
    2,
    /Invalid remote name/,
  );
  assert.equal(await snapshotStore(o.store), before);
  for (const url of ["ftp://host/x", "s3://No_Such/x"]) {
    assertFails(await rtusk(["clone", url, `${dir.path}/c`]), 2, /Invalid remote URL/);
  }
  await assert.rejects(Deno.stat(`${dir.path}/c`), Deno.errors.NotFound);
  await rok(["remote", "add", "r", `${dir.path}/r`], o);
  assertFails(
    await rtusk(["remote", "add", "r", `${dir.path}/q`], o),
    1,
    /Remote "r" already exists/,
  );
});

Deno.test("push and pull refuse a repo or branch that does not exist, and a malformed one", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  assertFails(await rtusk(["push", "origin", "nosuch"], o), 1, /repo "nosuch"/);
  assertFails(await rtusk(["push", "origin", "data@nosuch"], o), 1, /data@nosuch/);
  assertFails(await rtusk(["push", "origin", "../x"], o), 2, /Invalid argument "\.\.\/x"/);
  await rok(["push", "origin"], o);
  assertFails(await rtusk(["pull", "origin", "nosuch"], o), 1, /no such repo/);
});

Deno.test("a folder that is not a tusk remote is refused by push, pull and clone, untouched", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  const other = `${dir.path}/photos`;
  await Deno.mkdir(other);
  await Deno.writeTextFile(`${other}/cat.jpg`, "meow");
  await rok(["remote", "add", "photos", other], o);
  for (const args of [["push", "photos"], ["pull", "photos"]]) {
    assertFails(await rtusk(args, o), 1, /is not a tusk remote/);
  }
  assertFails(await rtusk(["clone", other, `${dir.path}/c`]), 1, /is not a tusk remote/);
  assert.deepEqual([...Deno.readDirSync(other)].map((e) => e.name), ["cat.jpg"]);
});

Deno.test("cloning an empty remote or into an existing store fails with exit 1", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await Deno.mkdir(`${dir.path}/empty`);
  const empty = `${dir.path}/empty`;
  const r = await rtusk(["clone", empty, `${dir.path}/c`]);
  assertFails(r, 1, new RegExp(`Cannot clone "${empty}": the remote is empty`));
  assert.doesNotMatch(r.stderr, /origin/, "names the URL given, not a remote never named");
  await assert.rejects(Deno.stat(`${dir.path}/c`), Deno.errors.NotFound);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  await rok(["push", "origin"], o);
  assertFails(await rtusk(["clone", `${dir.path}/r`, `${dir.path}/a`]), 1, /already exists/);
});

Deno.test("S3: wrong credentials, a missing bucket and a prefix holding other files are refused by name", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  const o = await withStore(dir.path);
  const env = s3.env;
  await rok(["remote", "add", "origin", `s3://${s3.bucket}/x`], o);
  const wrong = { ...o, env: { ...env, AWS_SECRET_ACCESS_KEY: "not-the-secret" } };
  assertFails(
    await rtusk(["push", "origin"], wrong),
    1,
    /refused the credentials \(SignatureDoesNotMatch\)/,
  );
  const unknown = { ...o, env: { ...env, AWS_ACCESS_KEY_ID: "nobody" } };
  assertFails(
    await rtusk(["push", "origin"], unknown),
    1,
    /refused the credentials \(InvalidAccessKeyId\)/,
  );
  await rok(["remote", "add", "gone", "s3://no-such-bucket/x"], o);
  assertFails(
    await rtusk(["push", "gone"], { ...o, env }),
    1,
    /bucket "no-such-bucket" does not exist/,
  );
  await Deno.mkdir(`${s3.root}/${s3.bucket}/other`, { recursive: true });
  await Deno.writeTextFile(`${s3.root}/${s3.bucket}/other/readme.txt`, "hi");
  assertFails(
    await rtusk(["clone", `s3://${s3.bucket}/other`, `${dir.path}/c`], { env }),
    1,
    /is not a tusk remote/,
  );
});

Deno.test("S3: an endpoint nothing listens on, and one that never answers, fail on their own with exit 1", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", "s3://tusk-test/x"], o);
  await using hang = await startS3(`${dir.path}/hang`, { hang: true });
  // A port a server was just listening on: nothing answers there now.
  const gone = await startS3(`${dir.path}/gone`);
  await gone[Symbol.asyncDispose]();
  for (const endpoint of [gone.endpoint, hang.endpoint]) {
    const env = { ...hang.env, AWS_ENDPOINT_URL: endpoint };
    const before = await snapshotStore(o.store);
    const started = performance.now();
    const r = await rtusk(["push", "origin"], { ...o, env });
    assertFails(r, 1, new RegExp(`Cannot reach S3 remote "s3://tusk-test/x" at ${endpoint}`));
    assert.ok(performance.now() - started < 30_000, "it ended by itself");
    assert.equal(await snapshotStore(o.store), before);
  }
});

Deno.test("S3: a server that ignores conditional writes is refused before a push commits anything", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`, { ignoreConditions: true });
  const o = { ...(await withStore(dir.path)), env: s3.env };
  await rok(["remote", "add", "origin", `s3://${s3.bucket}/x`], o);
  const before = await snapshotStore(o.store);
  const r = await rtusk(["push", "origin"], o);
  assertFails(r, 1, /ignored a conditional write \(If-None-Match: \*\)/);
  assert.equal(await snapshotStore(o.store), before);
  const keys = await filesUnder(`${s3.root}/${s3.bucket}/x`);
  assert.deepEqual(keys, ["REMOTE"], "no log entry, nothing sent");
});

Deno.test("S3: no region set is refused by name before any request", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", "s3://tusk-test/x"], o);
  const env = {
    AWS_ACCESS_KEY_ID: "tusk-test-key",
    AWS_SECRET_ACCESS_KEY: "tusk-test-secret",
    AWS_CONFIG_FILE: "/nonexistent",
    AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
    AWS_REGION: "",
    AWS_DEFAULT_REGION: "",
  };
  const before = await snapshotStore(o.store);
  assertFails(
    await rtusk(["push", "origin"], { ...o, env }),
    1,
    /no region is set \(set AWS_REGION\)/,
  );
  assert.equal(await snapshotStore(o.store), before);
});

/** The names in `dir`, sorted. */
function entries(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).sort();
}

Deno.test("clone of a folder that does not exist exits 1 naming it, and creates nothing", async () => {
  await using dir = await tempDir();
  const nope = `${dir.path}/nope`;
  const r = await rtusk(["clone", nope], { cwd: dir.path });
  assertFails(r, 1, new RegExp(`Cannot clone "${nope}": no such folder`));
  assert.doesNotMatch(r.stderr, /origin/);
  assert.deepEqual(entries(dir.path), []);
});

Deno.test("clone into an empty folder argument exits 2 naming it, and creates nothing", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  await rok(["push", "origin"], o);
  const work = `${dir.path}/work`;
  await Deno.mkdir(work);
  const r = await rtusk(["clone", `${dir.path}/r`, ""], { cwd: work });
  assertFails(r, 2, /Invalid folder "": give the folder to clone into, or leave it out for "r"/);
  assert.doesNotMatch(r.stderr, /\/\//);
  assert.deepEqual(entries(work), []);
});

Deno.test("clone into a folder given with trailing slashes names the store without a double slash", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  await rok(["push", "origin"], o);
  const r = await rok(["clone", `${dir.path}/r`, "c//"], { cwd: dir.path });
  assert.ok(r.stdout.includes(` into ${dir.path}/c/.tusk,`), r.stdout);
  await rok(["verify"], { store: `${dir.path}/c/.tusk` });
});

Deno.test("push, pull, remote remove and remote verify refuse an empty or malformed remote name with exit 2", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  const before = await snapshotStore(o.store);
  for (const verb of [["push"], ["pull"], ["remote", "remove"], ["remote", "verify"]]) {
    assertFails(await rtusk([...verb, ""], o), 2, /Invalid remote name ""/);
    assertFails(
      await rtusk([...verb, `${dir.path}/r`], o),
      2,
      /a remote's name goes here, not its URL: name it first with "tusk remote add <name> /,
    );
  }
  assert.equal(await snapshotStore(o.store), before);
});

Deno.test("pull and remote verify of a remote whose folder is gone exit 1 naming it, nothing changed", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  const gone = `${dir.path}/gone`;
  await rok(["remote", "add", "backup", gone], o);
  const before = await snapshotStore(o.store);
  for (const verb of ["pull", "remote verify"]) {
    assertFails(
      await rtusk([...verb.split(" "), "backup"], o),
      1,
      new RegExp(`Remote "backup" \\(${gone}\\): no such folder`),
    );
  }
  assert.equal(await snapshotStore(o.store), before);
  await assert.rejects(Deno.stat(gone), Deno.errors.NotFound);
});

Deno.test("clone into the remote's own folder, or below it through a link, exits 2 and leaves the remote as it was", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  const remote = `${dir.path}/r`;
  await rok(["remote", "add", "origin", remote], o);
  await rok(["push", "origin"], o);
  await Deno.symlink(remote, `${dir.path}/link`);
  const before = entries(remote);
  for (const into of [remote, `${remote}/sub/deeper`, `${dir.path}/link/x`]) {
    const r = await rtusk(["clone", remote, into], { cwd: dir.path });
    assertFails(r, 2, /that is inside the remote's own folder; give a folder outside it/);
  }
  const r = await rtusk(["clone", remote, "--store", `${remote}/.tusk`], { cwd: dir.path });
  assertFails(r, 2, /inside the remote's own folder/);
  // Left out, the folder is named after the remote's: from beside it, that is the remote.
  assertFails(await rtusk(["clone", "r"], { cwd: dir.path }), 2, /inside the remote's own/);
  assert.deepEqual(entries(remote), before);
});

Deno.test("clone into x/../y resolves the dots as written: no x is made on the way", async () => {
  await using dir = await tempDir();
  const o = await withStore(dir.path);
  await rok(["remote", "add", "origin", `${dir.path}/r`], o);
  await rok(["push", "origin"], o);
  const r = await rok(["clone", `${dir.path}/r`, "x/../y"], { cwd: dir.path });
  assert.ok(r.stdout.includes(` into ${dir.path}/y/.tusk,`), r.stdout);
  assert.ok(!entries(dir.path).includes("x"), `no x: ${entries(dir.path)}`);
  await rok(["verify"], { store: `${dir.path}/y/.tusk` });
});
