/**
 * Two pushes to one remote: the one that creates the next log entry first wins; the other is
 * refused with nothing of it committed, and its retry sends nothing twice. Deterministic
 * (`_race.ts`): the second push lands while the first is about to commit, on a folder and on
 * S3 (the test S3 server honours `If-None-Match: *` as S3 does). A first push to an empty
 * remote that another push fills between its look for the mark and its listing (held there
 * in the process) takes it for the tusk remote it is. Then the same with real processes
 * started together, where any may win: every outcome allowed is checked.
 */
import assert from "node:assert/strict";
import { RemoteConflictError } from "../../lib/errors.ts";
import { wrapBackend } from "./_wrap_backend.ts";
import { openBackend } from "../../lib/remote/open.ts";
import { push } from "../../lib/remote/push.ts";
import { KEYS } from "../../lib/remote/remote_format.ts";
import { parseRemoteUrl } from "../../lib/remote/url.ts";
import { Store } from "../../lib/store/store.ts";
import { ROOT, tempDir } from "../_helpers.ts";
import { NET_PERMS, rjson, rok, rtusk, startS3 } from "./_remote.ts";

interface Transfer {
  entry: number;
  objects: number;
  upToDate: boolean;
}

/** Stores a and b under `dir`, each with a repo of its own and the remote "origin" at `url`. */
async function twoStores(dir: string, url: string, env: Record<string, string>) {
  const out = [];
  for (const name of ["a", "b"]) {
    const o = { store: `${dir}/${name}/.tusk`, env };
    await rok(["init"], o);
    await rok(["create", "repo", `repo-${name}`], o);
    await rok(["put", "file", `repo-${name}@master:/f`, "-f", "-"], { ...o, stdin: `${name}\n` });
    await rok(["remote", "add", "origin", url], o);
    out.push(o);
  }
  return out as [typeof out[0], typeof out[0]];
}

/** Run `_race.ts`: b's push lands while a's is about to write the next log entry. */
async function race(a: string, b: string, env: Record<string, string>) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...NET_PERMS, `${ROOT}/tests/remote/_race.ts`, a, b],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(r.code, 0, dec.decode(r.stderr));
  return JSON.parse(dec.decode(r.stdout)) as {
    b: Transfer;
    a: { code: string; data: Record<string, unknown> } | null;
  };
}

/** The race, checked: `logDir` is where the remote's log entries are files. */
async function checkRace(dir: string, url: string, logDir: string, env: Record<string, string>) {
  const [a, b] = await twoStores(dir, url, env);
  const r = await race(a.store, b.store, env);
  assert.equal(r.b.entry, 1, "b's push landed first");
  assert.equal(r.a?.code, RemoteConflictError.code);
  assert.equal(r.a?.data.entry, 1);
  assert.deepEqual([...Deno.readDirSync(logDir)].map((e) => e.name), ["000000000001"]);
  const winner = JSON.parse(await Deno.readTextFile(`${logDir}/000000000001`));
  assert.deepEqual(Object.keys(winner.repos), ["repo-b"], "the winner's entry stands");
  const retry = await rjson<Transfer>(["push", "origin"], a);
  assert.equal(retry.entry, 2);
  assert.equal(retry.objects, 0, "what the refused push uploaded was taken up, not sent again");
  const v = await rjson<{ entries: number }>(["remote", "verify", "origin"], b);
  assert.equal(v.entries, 2);
  await rok(["pull", "origin"], b);
  const repos = await rjson<{ name: string }[]>(["list", "repo"], b);
  assert.deepEqual(repos.map((x) => x.name).sort(), ["repo-a", "repo-b"], "nothing lost");
}

Deno.test("on a folder the push that loses the race for the next log entry is refused, commits nothing, and its retry lands", async () => {
  await using dir = await tempDir();
  await checkRace(dir.path, `${dir.path}/remote`, `${dir.path}/remote/log`, {});
});

Deno.test("on S3 the push that loses the conditional write of the next log entry is refused, and its retry lands", async () => {
  await using dir = await tempDir();
  await using s3 = await startS3(`${dir.path}/s3`);
  const url = `s3://${s3.bucket}/shared`;
  await checkRace(dir.path, url, `${s3.root}/${s3.bucket}/shared/log`, s3.env);
});

Deno.test("a first push that finds an empty remote filled by another push before it lists it goes on", async () => {
  await using dir = await tempDir();
  const url = `${dir.path}/remote`;
  const [a, b] = await twoStores(dir.path, url, {});
  const sa = await Store.open(a.store);
  const sb = await Store.open(b.store);
  const open = () => openBackend(parseRemoteUrl(url, "/"), () => undefined);
  try {
    const inner = await open();
    let held = false;
    /** A's remote: B pushes, whole, when A first lists the whole remote (no mark seen yet). */
    const racing = wrapBackend(inner, {
      async list(prefix) {
        if (prefix === "" && !held) {
          held = true;
          assert.equal(await inner.get(KEYS.mark), null, "A looked for the mark before B pushed");
          await push(sb, { remote: "origin", backend: await open() });
        }
        return await inner.list(prefix);
      },
    });
    const r = await push(sa, { remote: "origin", backend: racing });
    assert.ok(held, "A never listed the remote: the race was not run");
    assert.equal(r.entry, 2, "A's push lands after B's");
  } finally {
    sa.objects.close();
    sb.objects.close();
  }
  await rok(["pull", "origin"], b);
  const repos = await rjson<{ name: string }[]>(["list", "repo"], b);
  assert.deepEqual(repos.map((x) => x.name).sort(), ["repo-a", "repo-b"]);
  await rok(["verify"], b);
});

Deno.test("three push processes started together on one folder remote: each lands or is refused cleanly, and a retry lands it", async () => {
  await using dir = await tempDir();
  const url = `${dir.path}/remote`;
  const stores = [0, 1, 2].map((i) => ({ store: `${dir.path}/s${i}/.tusk` }));
  for (const [i, o] of stores.entries()) {
    await rok(["init"], o);
    await rok(["create", "repo", `r${i}`], o);
    await rok(["put", "file", `r${i}@master:/f`, "-f", "-"], { ...o, stdin: `${i}\n` });
    await rok(["remote", "add", "origin", url], o);
  }
  const runs = await Promise.all(stores.map((o) => rtusk(["push", "origin"], o)));
  for (const [i, r] of runs.entries()) {
    if (r.code === 0) continue;
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /reached remote "origin" first/);
    await rok(["push", "origin"], stores[i]!);
  }
  await rok(["clone", url, `${dir.path}/c`]);
  const c = { store: `${dir.path}/c/.tusk` };
  const repos = await rjson<{ name: string }[]>(["list", "repo"], c);
  assert.deepEqual(repos.map((r) => r.name).sort(), ["r0", "r1", "r2"]);
  await rok(["verify"], c);
});
