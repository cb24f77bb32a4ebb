/**
 * Finding the host program a stage runs: on PATH but only where the sandbox mounts programs,
 * started inside bwrap for its version line, fingerprinted; refused (SpecError, exit 2) when
 * missing, outside, or when the sandbox is off; checked again at job time.
 */
import assert from "node:assert/strict";
import { NotFoundError } from "../../lib/errors.ts";
import { SpecError } from "../../lib/pipeline/spec/spec_error.ts";
import {
  checkAhead,
  currentProgram,
  type ProgramTrial,
  resolveHostProgram,
} from "../../lib/runner/host_program.ts";
import { ProgramCache } from "../../lib/runner/program_cache.ts";
import { sha256 } from "../../lib/store/hash.ts";
import { tempDir } from "../_helpers.ts";
import { HOST_SANDBOX } from "./_host.ts";

const AT = { field: "transform.cmd", specFile: "/p/spec.json" };

/** Run `fn` with `dir` first on PATH. */
async function withPath<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const old = Deno.env.get("PATH") ?? "";
  Deno.env.set("PATH", `${dir}:${old}`);
  try {
    return await fn();
  } finally {
    Deno.env.set("PATH", old);
  }
}

/** Assert `p` rejects with a SpecError breaking `rule` whose message matches `pattern`. */
async function refused(p: Promise<unknown>, rule: string, pattern: RegExp): Promise<SpecError> {
  let caught: unknown;
  await assert.rejects(p, (err: unknown) => {
    caught = err;
    return err instanceof SpecError && err.rule === rule && pattern.test(err.message);
  });
  const err = caught as SpecError;
  assert.equal(err.exitCode, 2);
  assert.equal(err.data.path, "transform.cmd[0]");
  assert.equal(err.data.file, "/p/spec.json");
  return err;
}

Deno.test("resolveHostProgram() refuses any program when --sandbox deno is chosen", async () => {
  await refused(
    resolveHostProgram("python3", { ...AT, sandbox: "deno" }),
    "NEEDS_SANDBOX",
    /only inside the OS sandbox.*--sandbox deno/,
  );
});

Deno.test("resolveHostProgram() refuses a program that is not on PATH", async () => {
  await refused(
    resolveHostProgram("tusk-no-such-program", { ...AT, sandbox: "auto" }),
    "MISSING_PROGRAM",
    /"tusk-no-such-program".*not on PATH/,
  );
});

Deno.test("resolveHostProgram() refuses an absolute path with no program", async () => {
  await refused(
    resolveHostProgram("/usr/bin/tusk-no-such-program", { ...AT, sandbox: "auto" }),
    "MISSING_PROGRAM",
    /no executable file at "\/usr\/bin\/tusk-no-such-program"/,
  );
});

Deno.test("resolveHostProgram() refuses a program found only outside the system folders", async () => {
  await using dir = await tempDir();
  const name = `tusk-test-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(`${dir.path}/${name}`, "#!/bin/sh\necho hi\n", { mode: 0o755 });
  const err = await withPath(
    dir.path,
    () =>
      refused(
        resolveHostProgram(name, { ...AT, sandbox: "auto" }),
        "MISSING_PROGRAM",
        /outside the system folders the sandbox shows/,
      ),
  );
  assert.ok(err.message.includes(`${dir.path}/${name}`), err.message);
});

if (HOST_SANDBOX) {
  Deno.test("resolveHostProgram() finds python3 under /usr with its version line and hash", async () => {
    const p = await resolveHostProgram("python3", { ...AT, sandbox: "auto" });
    assert.equal(p.name, "python3");
    assert.match(p.path, /^\/(usr\/)?(local\/)?s?bin\/python3$/);
    assert.equal(p.realPath, await Deno.realPath(p.path));
    assert.match(p.version ?? "", /^Python 3\.\d+/);
    assert.equal(p.sha256, sha256(await Deno.readFile(p.realPath)));
  });

  Deno.test("resolveHostProgram() passes over a python3 shim in a home folder for the system's", async () => {
    await using dir = await tempDir();
    await Deno.writeTextFile(`${dir.path}/python3`, "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const p = await withPath(
      dir.path,
      () => resolveHostProgram("python3", { ...AT, sandbox: "auto" }),
    );
    assert.ok(!p.path.startsWith(dir.path), p.path);
    assert.match(p.version ?? "", /^Python 3/);
  });

  Deno.test("resolveHostProgram() takes an absolute path under /usr as it is", async () => {
    const p = await resolveHostProgram("/usr/bin/env", { ...AT, sandbox: "bwrap" });
    assert.equal(p.path, "/usr/bin/env");
    assert.match(p.version ?? "", /coreutils/);
  });

  Deno.test("resolveHostProgram() records no version for a program without --version (dash)", async () => {
    const real = await Deno.realPath("/bin/sh");
    const p = await resolveHostProgram("sh", { ...AT, sandbox: "auto" });
    assert.equal(p.realPath, real);
    if (real.endsWith("/dash")) assert.equal(p.version, null);
  });

  Deno.test("resolveHostProgram() takes the check checkAhead() started for the file it finds", async () => {
    const early = await checkAhead("python3");
    assert.ok(early);
    const p = await resolveHostProgram("python3", {
      ...AT,
      sandbox: "auto",
      ahead: Promise.resolve(early),
    });
    const [trial, hash] = await early.check;
    assert.deepEqual(trial, { ok: true, version: p.version });
    assert.equal(p.sha256, hash);
    // What it takes is that check, whatever it found: one made up here is taken as well.
    const made = {
      ...early,
      check: Promise.resolve<[ProgramTrial, string]>([{ ok: true, version: "made up" }, hash]),
    };
    const q = await resolveHostProgram("python3", {
      ...AT,
      sandbox: "auto",
      ahead: Promise.resolve(made),
    });
    assert.equal(q.version, "made up");
  });

  Deno.test("resolveHostProgram() checks afresh when the check started ahead was of another file", async () => {
    const early = await checkAhead("python3");
    assert.ok(early);
    const [, hash] = await early.check;
    const check = Promise.resolve<[ProgramTrial, string]>([{ ok: true, version: "made up" }, hash]);
    const older = { ...early, info: { ...early.info, mtime: new Date(0) }, check };
    const p = await resolveHostProgram("python3", {
      ...AT,
      sandbox: "auto",
      ahead: Promise.resolve(older),
    });
    assert.match(p.version ?? "", /^Python 3/);
    const elsewhere = { ...early, path: "/usr/local/bin/python3", check };
    const q = await resolveHostProgram("python3", {
      ...AT,
      sandbox: "auto",
      ahead: Promise.resolve(elsewhere),
    });
    assert.match(q.version ?? "", /^Python 3/);
  });

  Deno.test("checkAhead() starts nothing for a program the store's cache knows, and records nothing", async () => {
    await using dir = await tempDir();
    const cache = new ProgramCache(`${dir.path}/programs.json`, dir.path);
    const early = await checkAhead("python3", { cache });
    assert.ok(early);
    await early.check;
    await assert.rejects(Deno.stat(`${dir.path}/programs.json`), Deno.errors.NotFound);
    await resolveHostProgram("python3", { ...AT, sandbox: "auto", cache });
    assert.equal(await checkAhead("python3", { cache }), null);
  });

  Deno.test("currentProgram() gives the same record while the program is unchanged", async () => {
    const p = await resolveHostProgram("python3", { ...AT, sandbox: "auto" });
    assert.equal(await currentProgram(p), p);
  });

  Deno.test("currentProgram() gives the new version and hash of a program that changed", async () => {
    const p = await resolveHostProgram("python3", { ...AT, sandbox: "auto" });
    const stale = { ...p, version: "Python 2.7.18", sha256: "0".repeat(64) };
    const now = await currentProgram(stale);
    assert.equal(now.sha256, p.sha256);
    assert.equal(now.version, p.version);
  });
}

Deno.test("checkAhead() starts nothing for a program it cannot find in the system folders", async () => {
  assert.equal(await checkAhead("tusk-no-such-program"), null);
  await using dir = await tempDir();
  const name = `tusk-test-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.writeTextFile(`${dir.path}/${name}`, "#!/bin/sh\necho hi\n", { mode: 0o755 });
  assert.equal(await withPath(dir.path, () => checkAhead(name)), null);
});

Deno.test("currentProgram() refuses a program that is gone, naming it", async () => {
  const gone = {
    name: "python3",
    path: "/usr/bin/tusk-gone-python3",
    realPath: "/usr/bin/tusk-gone-python3",
    version: "Python 3.11.2",
    sha256: "0".repeat(64),
  };
  await assert.rejects(
    currentProgram(gone),
    (err: unknown) =>
      err instanceof NotFoundError && /tusk-gone-python3.*is gone/.test(err.message),
  );
});
