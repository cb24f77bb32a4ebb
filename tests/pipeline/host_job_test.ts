/**
 * Host-program stages as whole pipelines, through the real CLI: hostile ones steal nothing
 * and fail on their limits (naming them) while another pipeline's job carries on; tries,
 * errCmd, datumTimeout, logs and datum batching work as for Deno stages.
 */
import assert from "node:assert/strict";
import { ROOT, tempStore, tuskOk } from "../_helpers.ts";
import { HOST_SANDBOX } from "../runner/_host.ts";

const HOSTILE = `${ROOT}/tests/fixtures/hostile-host`;

interface Datum {
  id: string;
  state: string;
  tries: number;
  message?: string;
}

interface Job {
  pipeline: string;
  state: string;
  reason?: string;
  progress: { total: number; processed: number; failed: number; recovered: number };
  datums: Datum[];
}

async function jobsBy(store: string): Promise<Map<string, Job>> {
  const jobs = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout) as Job[];
  return new Map(jobs.reverse().map((j) => [j.pipeline, j]));
}

/** Does any file under `dir` hold `needle`? Its path, or null. */
async function holding(dir: string, needle: Uint8Array): Promise<string | null> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) {
      const hit = await holding(p, needle);
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

/** Write spec `name` (a host program on repo "data", glob /*) into `dir`. */
async function spec(
  dir: string,
  name: string,
  transform: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const file = `${dir}/${name}.json`;
  await Deno.writeTextFile(
    file,
    JSON.stringify({
      pipeline: { name },
      transform,
      input: { pfs: { repo: "data", glob: "/*" } },
      datumTries: 1,
      ...extra,
    }),
  );
  return file;
}

if (HOST_SANDBOX) {
  Deno.test("hostile host-program stages steal nothing, fail on their limits, and leave other jobs alone", async () => {
    await using s = await tempStore();
    const store = s.store;
    const code = `${s.path}/code`;
    await Deno.mkdir(code);
    const secret = `SECRET-${crypto.randomUUID()}`;
    await Deno.writeTextFile(`${s.path}/secret.txt`, secret);
    for (const f of ["bomb.sh", "memory.py"]) {
      await Deno.copyFile(`${HOSTILE}/${f}`, `${code}/${f}`);
    }
    await Deno.writeTextFile(
      `${code}/upper.py`,
      "import os, sys\nfor n in os.listdir(sys.argv[1]):\n" +
        "    open(os.path.join(sys.argv[2], n), 'w').write(open(os.path.join(sys.argv[1], n)).read().upper())\n",
    );
    const specs = [
      await spec(code, "bomb", { cmd: ["sh", "/code/bomb.sh"] }),
      await spec(code, "hog", { cmd: ["python3", "/code/memory.py"] }, {
        resourceLimits: { memory: "256Mi" },
      }),
      await spec(code, "thief", {
        cmd: [
          "sh",
          "-c",
          `cat ${s.path}/secret.txt ${store}/ledger* > /pfs/out/loot; ls -R ${store} /home /root >> /pfs/out/loot; true`,
        ],
      }),
      await spec(code, "snoop", {
        cmd: ["sh", "-c", "cat /proc/[0-9]*/environ > /pfs/out/env; env > /pfs/out/own; true"],
        env: { VISIBLE: "fine" },
      }),
      await spec(code, "upper", { cmd: ["python3", "/code/upper.py", "/pfs/data/", "/pfs/out/"] }),
    ];
    await tuskOk(["create", "repo", "data"], { store });
    for (const f of specs) await tuskOk(["create", "pipeline", "-f", f, "--no-wait"], { store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], {
      store,
      stdin: "abc\n",
      env: { TUSK_TEST_SECRET: secret },
    });
    const by = await jobsBy(store);
    assert.equal(by.get("upper")?.state, "SUCCESS", by.get("upper")?.reason);
    assert.equal(
      (await tuskOk(["get", "file", "upper@master:/a.txt"], { store })).stdout,
      "ABC\n",
    );
    assert.equal(by.get("bomb")?.state, "FAILURE");
    assert.match(by.get("bomb")?.reason ?? "", /limit of 2048 processes and threads/);
    assert.equal(by.get("hog")?.state, "FAILURE");
    assert.match(by.get("hog")?.reason ?? "", /memory limit of 256 MiB/);
    assert.equal(by.get("thief")?.state, "SUCCESS", by.get("thief")?.reason);
    assert.equal(by.get("snoop")?.state, "SUCCESS", by.get("snoop")?.reason);
    const own = (await tuskOk(["get", "file", "snoop@master:/own"], { store })).stdout;
    assert.match(own, /^VISIBLE=fine$/m);
    assert.ok(!own.includes("TUSK_TEST_SECRET"), own);
    assert.equal(await holding(store, new TextEncoder().encode(secret)), null);
    await tuskOk(["verify"], { store });
  });

  Deno.test("a host-program stage is tried datumTries times, then its errCmd recovers the datum", async () => {
    await using s = await tempStore();
    const store = s.store;
    const code = `${s.path}/code`;
    await Deno.mkdir(code);
    const file = await spec(code, "flaky", {
      cmd: ["sh", "-c", "echo trying; exit 4"],
      errCmd: ["sh", "-c", "echo recovered > /pfs/out/note"],
    }, { datumTries: 2 });
    await tuskOk(["create", "repo", "data"], { store });
    await tuskOk(["create", "pipeline", "-f", file], { store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "x\n" });
    const job = (await jobsBy(store)).get("flaky")!;
    assert.equal(job.state, "SUCCESS", job.reason);
    assert.equal(job.progress.recovered, 1);
    assert.equal(job.datums[0]!.state, "RECOVERED");
    assert.equal(job.datums[0]!.tries, 2);
    const logs = (await tuskOk(["logs", "--pipeline", "flaky"], { store })).stdout;
    assert.equal(logs.split("\n").filter((l) => l.includes("trying")).length, 2, logs);
  });

  Deno.test("a host-program stage over its datumTimeout fails naming it", async () => {
    await using s = await tempStore();
    const store = s.store;
    const code = `${s.path}/code`;
    await Deno.mkdir(code);
    const file = await spec(code, "slow", { cmd: ["sleep", "300"] }, { datumTimeout: "1s" });
    await tuskOk(["create", "repo", "data"], { store });
    await tuskOk(["create", "pipeline", "-f", file], { store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "x\n" });
    const job = (await jobsBy(store)).get("slow")!;
    assert.equal(job.state, "FAILURE");
    assert.match(job.reason ?? "", /datum timeout of 1\.?0? s/);
  });

  Deno.test("a Python stage with datumBatching gets its datums as JSON lines and answers each", async () => {
    await using s = await tempStore();
    const store = s.store;
    const code = `${s.path}/code`;
    await Deno.mkdir(code);
    await Deno.writeTextFile(
      `${code}/batch.py`,
      [
        "import json, os, sys",
        "print('batch', os.environ.get('TUSK_DATUM_BATCHING'), flush=True)",
        "for line in sys.stdin:",
        "    req = json.loads(line)",
        "    src, dst = req['args'][-2:]",
        "    for n in os.listdir(src):",
        "        open(os.path.join(dst, n), 'w').write(open(os.path.join(src, n)).read()[::-1])",
        "    print(json.dumps({'datum': req['datum'], 'status': 'ok'}), flush=True)",
        "",
      ].join("\n"),
    );
    const file = await spec(code, "rev", {
      cmd: ["python3", "/code/batch.py", "/pfs/data/", "/pfs/out/"],
      datumBatching: true,
    });
    await tuskOk(["create", "repo", "data"], { store });
    await tuskOk(["create", "pipeline", "-f", file], { store });
    const test = `${ROOT}/data/test`;
    await tuskOk(["put", "file", "data@master:/", "-r", "-f", "."], {
      store,
      cwd: test,
      initCwd: test,
    });
    const job = (await jobsBy(store)).get("rev")!;
    assert.equal(job.state, "SUCCESS", job.reason);
    assert.equal(job.progress.processed, 2);
    const two = (await tuskOk(["get", "file", "rev@master:/2.csv"], { store })).stdout;
    assert.equal(two, [...await Deno.readTextFile(`${ROOT}/data/test/2.csv`)].reverse().join(""));
    const logs = (await tuskOk(["logs", "--pipeline", "rev"], { store })).stdout;
    assert.match(logs, /batch 1/);
  });
}

if (HOST_SANDBOX) {
  Deno.test("gc keeps every file of a host program's code, and its next job runs on it", async () => {
    await using s = await tempStore();
    const store = s.store;
    const code = `${s.path}/code`;
    await Deno.mkdir(`${code}/lib`, { recursive: true });
    await Deno.writeTextFile(`${code}/lib/shout.sh`, "tr a-z A-Z\n");
    const file = await spec(code, "shout", {
      cmd: ["sh", "-c", "sh /code/lib/shout.sh < /pfs/data/a.txt > /pfs/out/a.txt"],
    });
    await tuskOk(["create", "repo", "data"], { store });
    await tuskOk(["create", "pipeline", "-f", file], { store });
    await tuskOk(["gc"], { store });
    await tuskOk(["verify"], { store });
    await tuskOk(["put", "file", "data@master:/a.txt", "-f", "-"], { store, stdin: "abc\n" });
    assert.equal((await tuskOk(["get", "file", "shout@master:/a.txt"], { store })).stdout, "ABC\n");
    const [job] = JSON.parse((await tuskOk(["list", "job", "--json"], { store })).stdout);
    const shown = (await tuskOk(["inspect", "job", job.id], { store })).stdout;
    assert.match(shown, /^Program: \S*\/(sh|dash)\b/m);
  });
}
