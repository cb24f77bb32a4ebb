/**
 * Bytes appended after a pack's last object (an append, a copy padded): `verify` names the
 * pack and the offset they start at, exit 1; readers and `gc` go by the pack's index and are
 * not affected; cutting the pack there makes it whole again.
 */
import assert from "node:assert/strict";
import { encodeIndex, parseIndex } from "../../lib/store/pack_index.ts";
import { tempStore, tusk, tuskOk } from "../_helpers.ts";

/** A store whose repo "r" holds 20 small files, written as one pack. */
async function packedStore() {
  const s = await tempStore();
  await Deno.mkdir(`${s.path}/many`);
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${s.path}/many/f${i}.txt`, `many ${i}\n`);
  await tuskOk(["create", "repo", "r"], { store: s.store });
  await tuskOk(["put", "file", "r@master:/many", "-r", "-f", `${s.path}/many`], { store: s.store });
  return s;
}

Deno.test("verify names the pack and the offset of bytes after its last object; get file and gc are unaffected", async () => {
  await using s = await packedStore();
  const store = s.store;
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

Deno.test("verify names a pack index that names one record twice, hiding bytes no entry names", async () => {
  await using s = await packedStore();
  const store = s.store;
  const idx = [...Deno.readDirSync(`${store}/packs`)].map((e) => e.name)
    .find((n) => n.endsWith(".idx"))!;
  const name = idx.slice(0, -".idx".length);
  const entries = await parseIndex(await Deno.readFile(`${store}/packs/${idx}`), name);
  const first = entries[0]!;
  const span = `${first.hash} ${first.length}\n`.length + first.length;
  // Its first entry again, the offset written "0<offset>", and as many bytes appended: the
  // entries' lengths add up to the pack's size, the appended bytes named by none.
  const twice = { ...first, offset: `0${first.offset}` as unknown as number };
  await Deno.writeFile(`${store}/packs/${idx}`, await encodeIndex([...entries, twice]));
  await Deno.writeFile(`${store}/packs/${name}.pack`, new TextEncoder().encode("J".repeat(span)), {
    append: true,
  });
  const r = await tusk(["verify"], { store });
  assert.equal(r.code, 1, `verify exited ${r.code}:\n${r.stderr}${r.stdout}`);
  assert.doesNotMatch(r.stderr, /internal error/);
  assert.ok(r.stderr.includes(name), `the pack is not named:\n${r.stderr}`);
  assert.match(r.stderr, /that two entries of its index name/);
});
