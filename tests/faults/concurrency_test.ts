/**
 * Concurrency: two processes commit to the same branch at the same time, 100 commits each,
 * through the library. Both succeed, no commit is lost, and the store verifies.
 */
import assert from "node:assert/strict";
import { tempStore, tusk, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { fixture, LineReader } from "./_util.ts";

const PER_PROCESS = 100;

interface CommitRow {
  readonly id: string;
  readonly parent: string | null;
  readonly message: string;
}

Deno.test("two processes each committing 100 files to one branch at once both succeed and lose nothing", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "conc"], { store });
  await Deno.writeTextFile(`${s.path}/seed.txt`, "seed\n");
  await tuskOk(["put", "file", "conc@master:/seed.txt", "-f", `${s.path}/seed.txt`], { store });
  const prefixes = ["p0", "p1"];
  for (const p of prefixes) {
    await Deno.mkdir(`${s.path}/${p}`);
    for (let i = 0; i < PER_PROCESS; i++) {
      await Deno.writeTextFile(`${s.path}/${p}/f${i}`, `${p} file ${i}\n`);
    }
  }

  const children = prefixes.map((p) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        ...TUSK_PERMS,
        fixture("put_many.ts"),
        store,
        "conc@master",
        p,
        `${s.path}/${p}`,
        String(PER_PROCESS),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn()
  );
  const lines = children.map((c) => new LineReader(c.stdout));
  const stderrs = children.map((c) => new Response(c.stderr).text());
  for (const l of lines) assert.equal(await l.next(), "ready");
  // Release both at once.
  await Promise.all(children.map(async (c) => {
    const w = c.stdin.getWriter();
    await w.write(new TextEncoder().encode("go\n"));
    await w.close();
  }));
  const statuses = await Promise.all(children.map((c) => c.status));
  for (const [i, st] of statuses.entries()) {
    assert.equal(st.code, 0, `writer ${prefixes[i]} exited ${st.code}:\n${await stderrs[i]}`);
    assert.equal(await lines[i]!.rest(), "done\n");
  }

  for (const p of prefixes) {
    const r = await tuskOk(["list", "file", `conc@master:/${p}`, "--json"], { store });
    const names = (JSON.parse(r.stdout) as { path: string }[]).map((f) => f.path).sort();
    const want = Array.from({ length: PER_PROCESS }, (_, i) => `/${p}/f${i}`).sort();
    assert.deepEqual(names, want);
    const one = await tuskOk(["get", "file", `conc@master:/${p}/f${PER_PROCESS - 1}`], { store });
    assert.equal(one.stdout, `${p} file ${PER_PROCESS - 1}\n`);
  }
  const verify = await tusk(["verify"], { store });
  assert.equal(verify.code, 0, verify.stderr);

  const history = JSON.parse(
    (await tuskOk(["list", "commit", "conc@master", "--json"], { store })).stdout,
  ) as CommitRow[];
  assert.equal(history.length, 2 * PER_PROCESS + 1);
  // Oldest first, following parents: one chain, each writer's commits in its own order.
  const byId = new Map(history.map((c) => [c.id, c]));
  const chain: CommitRow[] = [];
  for (let c = history.find((h) => !history.some((o) => o.parent === h.id)); c;) {
    chain.unshift(c);
    c = c.parent === null ? undefined : byId.get(c.parent);
  }
  assert.equal(chain.length, history.length, "the commits do not form one chain");
  const messages = chain.slice(1).map((c) => c.message);
  for (const p of prefixes) {
    const mine = messages.filter((m) => m.startsWith(`${p} `));
    assert.deepEqual(mine, Array.from({ length: PER_PROCESS }, (_, i) => `${p} ${i}`));
  }
  // The writers really ran side by side: the chain switches between them more than once.
  let switches = 0;
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]!.slice(0, 2) !== messages[i - 1]!.slice(0, 2)) switches++;
  }
  console.log(`the writers' commits alternate ${switches} times`);
  assert.ok(switches > 1, "the two writers' commits did not interleave");
});
