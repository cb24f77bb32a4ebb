/**
 * Bytes appended after a pack's last object (an append, a copy padded): `verify` names the
 * pack and the offset they start at, exit 1; readers and `gc` go by the pack's index and are
 * not affected; cutting the pack there makes it whole again.
 */
import assert from "node:assert/strict";
import { tempStore, tusk, tuskOk } from "../_helpers.ts";

Deno.test("verify names the pack and the offset of bytes after its last object; get file and gc are unaffected", async () => {
  await using s = await tempStore();
  const store = s.store;
  await Deno.mkdir(`${s.path}/many`);
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${s.path}/many/f${i}.txt`, `many ${i}\n`);
  await tuskOk(["create", "repo", "r"], { store });
  await tuskOk(["put", "file", "r@master:/many", "-r", "-f", `${s.path}/many`], { store });
  const packs = [...Deno.readDirSync(`${store}/packs`)].map((e) => e.name)
    .filter((n) => n.endsWith(".pack"));
  assert.equal(packs.length, 1, `one pack expected, found ${packs.join(", ")}`);
  const name = packs[0]!.slice(0, -".pack".length);
  const path = `${store}/packs/${packs[0]}`;
  const size = (await Deno.stat(path)).size;
  await Deno.writeFile(path, new TextEncoder().encode("appended\n"), { append: true });

  const r = await tusk(["verify"], { store });
  assert.equal(r.code, 1, `verify exited ${r.code}:\n${r.stderr}${r.stdout}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.ok(r.stderr.includes(name), `the pack is not named:\n${r.stderr}`);
  assert.match(r.stderr, new RegExp(`9 byte\\(s\\) after its last object, from offset ${size}\\b`));

  // Readers go by the index: every file reads back; gc neither fails nor drops the bytes.
  for (const i of [0, 7, 19]) {
    const got = await tuskOk(["get", "file", `r@master:/many/f${i}.txt`], { store });
    assert.equal(got.stdout, `many ${i}\n`);
  }
  await tuskOk(["gc"], { store });
  assert.equal((await Deno.stat(path)).size, size + 9);
  assert.equal((await tusk(["verify"], { store })).code, 1);

  await Deno.truncate(path, size);
  await tuskOk(["verify"], { store });
});
