/**
 * Hostile stages as whole pipelines, through the real CLI: the job fails saying which limit
 * was hit (or completes with nothing stolen), no byte of the secret reaches the store,
 * another pipeline's job carries on, and `verify` passes.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";

const HOSTILE = `${ROOT}/tests/fixtures/hostile`;
const STAGES = `${ROOT}/tests/fixtures/stages`;

interface Job {
  pipeline: string;
  state: string;
  reason?: string;
}

async function storeContains(dir: string, needle: Uint8Array): Promise<string | null> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      const hit = await storeContains(p, needle);
      if (hit) return hit;
    } else if (e.isFile) {
      const bytes = await Deno.readFile(p);
      outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
        for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
        return p;
      }
    }
  }
  return null;
}

for (const mode of ["bwrap", "deno"] as const) {
  Deno.test(`[${mode}] hostile stages steal nothing, fail on their limits, and leave other jobs alone`, async () => {
    await using s = await tempStore();
    const store = s.store;
    const env = { TUSK_SANDBOX: mode };
    const secret = `SECRET-${crypto.randomUUID()}`;
    await Deno.writeTextFile(`${s.path}/secret.txt`, secret);
    for (const f of ["read_absolute.js", "read_env.js", "memory_offheap.js"]) {
      await Deno.copyFile(`${HOSTILE}/${f}`, `${s.path}/${f}`);
    }
    await Deno.copyFile(`${STAGES}/upper.ts`, `${s.path}/upper.ts`);
    const spec = (name: string, cmd: string[], extra: Record<string, unknown> = {}) =>
      Deno.writeTextFile(
        `${s.path}/${name}.json`,
        JSON.stringify({
          pipeline: { name },
          transform: { cmd: ["deno", "run", ...cmd] },
          input: { pfs: { repo: "data", glob: "/*" } },
          datumTries: 1,
          ...extra,
        }),
      );
    await spec("thief", ["read_absolute.js", `${s.path}/secret.txt`, "/pfs/out/"]);
    await spec("snoop", ["read_env.js", "TUSK_TEST_SECRET", "/pfs/out/"], {
      transform: {
        cmd: ["deno", "run", "read_env.js", "TUSK_TEST_SECRET", "/pfs/out/"],
        env: { VISIBLE: "fine" },
      },
    });
    await spec("hog", ["memory_offheap.js"], { resourceLimits: { memory: "128Mi" } });
    await spec("upper", ["upper.ts", "/pfs/data/", "/pfs/out/"]);
    await tuskOk(["create", "repo", "data"], { store, env });
    for (const p of ["thief", "snoop", "hog", "upper"]) {
      await tuskOk(["create", "pipeline", "-f", `${s.path}/${p}.json`, "--no-wait"], {
        store,
        env,
      });
    }
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], {
      store,
      stdin: "abc\n",
      env: { ...env, TUSK_TEST_SECRET: secret },
    });
    const jobs = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
    const by = new Map(jobs.map((j) => [j.pipeline, j]));
    assert.equal(by.get("upper")?.state, "SUCCESS");
    assert.equal(by.get("hog")?.state, "FAILURE");
    assert.match(by.get("hog")!.reason!, /memory/i);
    // The thieves ran to completion but got nothing: their loot files are empty.
    for (const p of ["thief", "snoop"]) {
      assert.equal(by.get(p)?.state, "SUCCESS", by.get(p)?.reason);
      const loot = await tuskOk(["get", "file", `${p}@master:/loot.txt`], { store });
      assert.equal(loot.stdout, "");
    }
    const logs = await tuskOk(["logs", "--pipeline", "thief"], { store });
    assert.match(logs.stdout, /blocked:/);
    assert.doesNotMatch(logs.stdout, /got:/);
    assert.equal(await storeContains(store, new TextEncoder().encode(secret)), null);
    await tuskOk(["verify"], { store });
  });
}
