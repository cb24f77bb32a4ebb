/**
 * The store lock: while another process holds it inside a transaction, `tusk put file`
 * waits for it rather than failing or writing around it, and then succeeds.
 */
import assert from "node:assert/strict";
import { tempStore, tusk, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import { fixture, LineReader, tuskCommand } from "./_util.ts";

const HOLD_MS = 1000;

Deno.test("put file waits while another process holds the store lock, then succeeds", async () => {
  await using s = await tempStore();
  const store = s.store;
  await tuskOk(["create", "repo", "locked"], { store });
  await Deno.writeTextFile(`${s.path}/a.txt`, "waited for the lock\n");

  const holder = new Deno.Command(Deno.execPath(), {
    args: ["run", "--quiet", ...TUSK_PERMS, fixture("hold_lock.ts"), store, String(HOLD_MS)],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const holderErr = new Response(holder.stderr).text();
  const lines = new LineReader(holder.stdout);
  const locked = await lines.next();
  if (!/^locked \d+$/.test(locked ?? "")) assert.fail(`the holder failed: ${await holderErr}`);

  const putStart = Date.now();
  const put = tuskCommand(
    ["put", "file", "locked@master:/a.txt", "-f", `${s.path}/a.txt`],
    store,
  ).output();
  const unlocking = await lines.next();
  const putResult = await put;
  const putEnd = Date.now();
  assert.match(unlocking ?? "", /^unlocking \d+$/);
  const unlockedAt = Number(unlocking!.split(" ")[1]);
  assert.equal((await holder.status).code, 0, await holderErr);

  assert.equal(putResult.code, 0, new TextDecoder().decode(putResult.stderr));
  assert.ok(
    putStart < unlockedAt - HOLD_MS / 2,
    `the put started ${
      unlockedAt - putStart
    } ms before the lock was released: too late to test waiting`,
  );
  assert.ok(
    putEnd >= unlockedAt,
    `the put finished ${unlockedAt - putEnd} ms before the holder released the lock`,
  );
  const got = await tuskOk(["get", "file", "locked@master:/a.txt"], { store });
  assert.equal(got.stdout, "waited for the lock\n");
  const verify = await tusk(["verify"], { store });
  assert.equal(verify.code, 0, verify.stderr);
});
