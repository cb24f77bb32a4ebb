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
  assertFails(await rtusk(["clone", `${dir.path}/empty`, `${dir.path}/c`]), 1, /is empty/);
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
