/**
 * What a store remembers of the host programs it checked in the sandbox (`programs.json`):
 * found again while the program file and bwrap are the files they were, missed once either
 * changes, an unreadable file read as empty; and `resolveHostProgram()` / `currentProgram()`
 * taking a program's version line and hash from it instead of starting and hashing it.
 */
import assert from "node:assert/strict";
import { currentProgram, resolveHostProgram } from "../../lib/runner/host_program.ts";
import { hostTools } from "../../lib/runner/detect.ts";
import { ProgramCache } from "../../lib/runner/program_cache.ts";
import { tempDir } from "../_helpers.ts";
import { HOST_SANDBOX } from "./_host.ts";

const AT = { field: "transform.cmd", specFile: "/p/spec.json" };
const CHECKED = { sha256: "a".repeat(64), version: "Tusk 1.0" };

/** A cache in `dir`, a "program" file and a "bwrap" file beside it. */
async function setUp(dir: string) {
  await Deno.mkdir(`${dir}/tmp`);
  const program = `${dir}/prog`;
  const bwrap = `${dir}/bwrap`;
  await Deno.writeTextFile(program, "#!/bin/sh\n", { mode: 0o755 });
  await Deno.writeTextFile(bwrap, "bwrap\n", { mode: 0o755 });
  return { cache: new ProgramCache(`${dir}/programs.json`, `${dir}/tmp`), program, bwrap };
}

Deno.test("ProgramCache.lookup() finds what remember() kept while the program and bwrap are unchanged", async () => {
  await using dir = await tempDir();
  const { cache, program, bwrap } = await setUp(dir.path);
  await cache.remember(program, await Deno.stat(program), bwrap, CHECKED);
  assert.deepEqual(await cache.lookup(program, await Deno.stat(program), bwrap), CHECKED);
  assert.deepEqual([...Deno.readDirSync(`${dir.path}/tmp`)], [], "no temp file left");
});

Deno.test("ProgramCache.lookup() misses once the program file is rewritten or touched", async () => {
  await using dir = await tempDir();
  const { cache, program, bwrap } = await setUp(dir.path);
  await cache.remember(program, await Deno.stat(program), bwrap, CHECKED);
  await Deno.utime(program, new Date(2001, 1, 1), new Date(2001, 1, 1));
  assert.equal(await cache.lookup(program, await Deno.stat(program), bwrap), null);
  await cache.remember(program, await Deno.stat(program), bwrap, CHECKED);
  await Deno.writeTextFile(program, "#!/bin/sh\nexit 0\n");
  assert.equal(await cache.lookup(program, await Deno.stat(program), bwrap), null);
});

Deno.test("ProgramCache.lookup() misses when bwrap is another file, or gone", async () => {
  await using dir = await tempDir();
  const { cache, program, bwrap } = await setUp(dir.path);
  await cache.remember(program, await Deno.stat(program), bwrap, CHECKED);
  const other = `${dir.path}/bwrap2`;
  await Deno.writeTextFile(other, "bwrap\n");
  assert.equal(await cache.lookup(program, await Deno.stat(program), other), null);
  await Deno.remove(bwrap);
  assert.equal(await cache.lookup(program, await Deno.stat(program), bwrap), null);
});

Deno.test("ProgramCache reads a damaged programs.json as empty, and remember() replaces it", async () => {
  await using dir = await tempDir();
  const { cache, program, bwrap } = await setUp(dir.path);
  await Deno.writeTextFile(`${dir.path}/programs.json`, '{"programs": [{"realPath": 1}, ');
  assert.equal(await cache.lookup(program, await Deno.stat(program), bwrap), null);
  await cache.remember(program, await Deno.stat(program), bwrap, CHECKED);
  assert.deepEqual(await cache.lookup(program, await Deno.stat(program), bwrap), CHECKED);
});

Deno.test("ProgramCache keeps one entry per program, the newest", async () => {
  await using dir = await tempDir();
  const { cache, program, bwrap } = await setUp(dir.path);
  await cache.remember(program, await Deno.stat(program), bwrap, CHECKED);
  await cache.remember(program, await Deno.stat(program), bwrap, { ...CHECKED, version: "2" });
  const kept = JSON.parse(await Deno.readTextFile(`${dir.path}/programs.json`)).programs;
  assert.equal(kept.length, 1);
  assert.equal((await cache.lookup(program, await Deno.stat(program), bwrap))?.version, "2");
});

if (HOST_SANDBOX) {
  Deno.test("resolveHostProgram() checks a program in the sandbox once, then takes it from the store's cache", async () => {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/tmp`);
    const cache = new ProgramCache(`${dir.path}/programs.json`, `${dir.path}/tmp`);
    const first = await resolveHostProgram("python3", { ...AT, sandbox: "auto", cache });
    assert.match(first.version ?? "", /^Python 3/);
    const bwrap = (await hostTools()).bwrap!;
    const info = await Deno.stat(first.realPath);
    assert.deepEqual(await cache.lookup(first.realPath, info, bwrap), {
      sha256: first.sha256,
      version: first.version,
    });
    // A version line no python3 prints: found only if the program was not started again.
    await cache.remember(first.realPath, info, bwrap, { ...first, version: "from the cache" });
    const second = await resolveHostProgram("python3", { ...AT, sandbox: "auto", cache });
    assert.deepEqual(second, { ...first, version: "from the cache" });
  });

  Deno.test("resolveHostProgram() refuses --sandbox deno even for a program in the cache", async () => {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/tmp`);
    const cache = new ProgramCache(`${dir.path}/programs.json`, `${dir.path}/tmp`);
    await resolveHostProgram("python3", { ...AT, sandbox: "auto", cache });
    await assert.rejects(
      resolveHostProgram("python3", { ...AT, sandbox: "deno", cache }),
      /only inside the OS sandbox/,
    );
  });

  Deno.test("currentProgram() takes a changed program's hash and version from the cache", async () => {
    await using dir = await tempDir();
    await Deno.mkdir(`${dir.path}/tmp`);
    const cache = new ProgramCache(`${dir.path}/programs.json`, `${dir.path}/tmp`);
    const p = await resolveHostProgram("python3", { ...AT, sandbox: "auto" });
    const bwrap = (await hostTools()).bwrap!;
    await cache.remember(p.realPath, await Deno.stat(p.realPath), bwrap, {
      sha256: p.sha256,
      version: "from the cache",
    });
    assert.equal(await currentProgram(p, { cache }), p);
    const stale = { ...p, version: "Python 2.7.18", sha256: "0".repeat(64) };
    assert.deepEqual(await currentProgram(stale, { cache }), { ...p, version: "from the cache" });
  });
}
