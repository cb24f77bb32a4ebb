/**
 * Remotes in S3, through the real AWS SDK against the test S3 server on 127.0.0.1: the round
 * trip, a push with nothing new costing a few requests, and two pushes at once.
 */
import assert from "node:assert/strict";
import { tempDir } from "../_helpers.ts";
import { filesUnder, rjson, rok, rtusk, startS3 } from "./_remote.ts";
import { roundTrip } from "./_round_trip.ts";

Deno.test("an S3 remote carries commits, pipelines, jobs and lineage from A to a clone B and back", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  await roundTrip(dir.path, `s3://${s3.bucket}/stores/iris`, s3.env);
  // Everything lives under the prefix.
  for await (const e of Deno.readDir(`${s3.root}/${s3.bucket}`)) assert.equal(e.name, "stores");
});

Deno.test("a push with nothing new to an S3 remote makes a few requests and changes nothing", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  const a = { store: `${dir.path}/a/.tusk`, env: s3.env };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/x", "-f", "-"], { ...a, stdin: "x\n" });
  await rok(["remote", "add", "origin", `s3://${s3.bucket}`], a);
  await rok(["push", "origin"], a);
  const before = await s3.requests();
  const r = await rjson<{ upToDate: boolean; requests: number }>(["push", "origin"], a);
  assert.equal(r.upToDate, true);
  assert.equal(await s3.requests() - before, r.requests, "the CLI counts what the server saw");
  assert.ok(r.requests < 20, `${r.requests} requests`);
});

Deno.test("two pushes to one S3 remote at once: each lands or is refused cleanly, and a retry lands it", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  const url = `s3://${s3.bucket}/shared`;
  const a = { store: `${dir.path}/a/.tusk`, env: s3.env };
  await rok(["init"], a);
  await rok(["create", "repo", "base"], a);
  await rok(["remote", "add", "origin", url], a);
  await rok(["push", "origin"], a);
  const stores = [0, 1, 2].map((i) => ({ store: `${dir.path}/s${i}/.tusk`, env: s3.env }));
  for (const [i, o] of stores.entries()) {
    await rok(["clone", url, `${dir.path}/s${i}`], { env: s3.env });
    await rok(["create", "repo", `r${i}`], o);
    await rok(["put", "file", `r${i}@master:/f`, "-f", "-"], { ...o, stdin: `${i}\n` });
  }
  const runs = await Promise.all(stores.map((o) => rtusk(["push", "origin"], o)));
  for (const [i, r] of runs.entries()) {
    if (r.code === 0) continue;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /reached remote "origin" first|moved|Pull first/);
    await rok(["push", "origin"], stores[i]!);
  }
  const c = { store: `${dir.path}/c/.tusk`, env: s3.env };
  await rok(["clone", url, `${dir.path}/c`], { env: s3.env });
  const repos = await rjson<{ name: string }[]>(["list", "repo"], c);
  assert.deepEqual(repos.map((r) => r.name).sort(), ["base", "r0", "r1", "r2"]);
  await rok(["verify"], c);
});

Deno.test("an S3 remote takes its credentials from an AWS profile, and none of them is written into the store", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  const {
    AWS_ACCESS_KEY_ID: id,
    AWS_SECRET_ACCESS_KEY: secret,
    ...rest
  } = s3.env;
  const creds = `${dir.path}/aws-credentials`;
  await Deno.writeTextFile(
    creds,
    `[default]\naws_access_key_id = nobody\naws_secret_access_key = wrong\n\n` +
      `[ci]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n`,
  );
  const env = { ...rest, AWS_SHARED_CREDENTIALS_FILE: creds, AWS_PROFILE: "ci" };
  const a = { store: `${dir.path}/a/.tusk`, env };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  await rok(["put", "file", "data@master:/x", "-f", "-"], { ...a, stdin: "x\n" });
  await rok(["remote", "add", "origin", `s3://${s3.bucket}/p`], a);
  await rok(["push", "origin"], a);
  const wrong = await rtusk(["push", "origin"], { ...a, env: { ...env, AWS_PROFILE: "default" } });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /refused the credentials \(InvalidAccessKeyId\)/);
  await rok(["clone", `s3://${s3.bucket}/p`, `${dir.path}/b`], { env });
  for (const store of [a.store, `${dir.path}/b/.tusk`]) {
    for (const f of await filesUnder(store)) {
      const text = new TextDecoder().decode(await Deno.readFile(`${store}/${f}`));
      assert.ok(!text.includes(secret!) && !text.includes(id!), `${f} holds a credential`);
    }
  }
});

Deno.test("a push of one new file to an S3 remote holding 2,000 objects makes a few requests, not one per object", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  const a = { store: `${dir.path}/a/.tusk`, env: s3.env };
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  const src = `${dir.path}/src`;
  for (let d = 0; d < 20; d++) {
    await Deno.mkdir(`${src}/d${d}`, { recursive: true });
    for (let i = 0; i < 100; i++) await Deno.writeTextFile(`${src}/d${d}/f${i}`, `${d}/${i}\n`);
  }
  await rok(["put", "file", "-r", "data@master:/", "-f", src], a);
  await rok(["remote", "add", "origin", `s3://${s3.bucket}/p`], a);
  const first = await rjson<{ objects: number }>(["push", "origin"], a);
  assert.ok(first.objects > 2000, `${first.objects} objects sent`);
  await rok(["put", "file", "data@master:/d7/new", "-f", "-"], { ...a, stdin: "new\n" });
  const before = await s3.requests();
  const r = await rjson<{ objects: number; requests: number }>(["push", "origin"], a);
  assert.equal(r.objects, 4, "the blob, two trees and the commit");
  assert.equal(await s3.requests() - before, r.requests);
  assert.ok(r.requests < 20, `${r.requests} requests`);
  // And a pull elsewhere of that one commit: a few requests too.
  await rok(["clone", `s3://${s3.bucket}/p`, `${dir.path}/b`], { env: s3.env });
  const b = { store: `${dir.path}/b/.tusk`, env: s3.env };
  await rok(["put", "file", "data@master:/d3/other", "-f", "-"], { ...a, stdin: "other\n" });
  await rok(["push", "origin"], a);
  const pulled = await rjson<{ objects: number; requests: number }>(["pull", "origin"], b);
  assert.equal(pulled.objects, 4);
  assert.ok(pulled.requests < 20, `${pulled.requests} requests`);
});
