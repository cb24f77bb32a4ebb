/**
 * A clone interrupted when it cannot remove what it made says so: it names the folder left
 * behind and how to clear it, and exits as interrupted. The folder is kept from being removed
 * the way the machine allows: made immutable (`chattr +i`) as root, read-only otherwise.
 */
import assert from "node:assert/strict";
import { MAIN, ROOT, tempDir } from "../_helpers.ts";
import { NET_PERMS, rok } from "./_remote.ts";

/** A remote holding one file of 48 MiB, so that a clone of it takes a while to write. */
async function bigRemote(dir: string): Promise<string> {
  const a = { store: `${dir}/a/.tusk` };
  const remote = `${dir}/remote`;
  await rok(["init"], a);
  await rok(["create", "repo", "data"], a);
  const bytes = new Uint8Array(48 << 20);
  for (let k = 0; k < bytes.length; k += 65536) {
    crypto.getRandomValues(bytes.subarray(k, k + 65536));
  }
  await Deno.writeFile(`${dir}/big`, bytes);
  await rok(["put", "file", "data@master:/big", "-f", `${dir}/big`], a);
  await rok(["remote", "add", "origin", remote], a);
  await rok(["push", "origin"], a);
  return remote;
}

/**
 * Keep entries of `dir` from being removed (`locked` true), or let them be again: the folder is
 * made immutable where `chattr` may (root, whom modes do not stop), else read-only.
 */
async function lock(dir: string, locked: boolean): Promise<void> {
  const chattr = await new Deno.Command("chattr", {
    args: [locked ? "+i" : "-i", dir],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => null);
  if (!locked || !chattr?.success) await Deno.chmod(dir, locked ? 0o555 : 0o755);
}

Deno.test("Ctrl-C during a clone that cannot remove its staging folder names it and says how to clear it", async () => {
  await using dir = await tempDir();
  const remote = await bigRemote(dir.path);
  const target = `${dir.path}/c`;
  let stopped: { code: number; stderr: string; staging: string } | null = null;
  for (let attempt = 0; attempt < 5 && stopped === null; attempt++) {
    await Deno.mkdir(target, { recursive: true });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--quiet", ...NET_PERMS, MAIN, "clone", remote, target],
      cwd: ROOT,
      env: { NO_COLOR: "1", TUSK_STORE: "" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const out = child.output();
    let staging: string | undefined;
    try {
      while (staging === undefined) {
        staging = (await Array.fromAsync(Deno.readDir(target)).catch(() => []))
          .map((e) => e.name).find((n) => n.startsWith(".tusk.init-"));
        const done = await Promise.race([
          child.status.then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 2)),
        ]);
        if (done) break;
      }
      if (staging !== undefined) {
        await lock(target, true);
        child.kill("SIGINT");
      }
      const r = await out;
      const stderr = new TextDecoder().decode(r.stderr);
      // Interrupted while it wrote (not finished first, nor failed at the locked folder).
      if (staging !== undefined && r.code === 130) {
        stopped = { code: r.code, stderr, staging: `${target}/${staging}` };
      }
    } finally {
      await lock(target, false);
    }
    await Deno.remove(target, { recursive: true });
  }
  assert.ok(stopped, "a clone was interrupted while it wrote");
  assert.match(stopped.stderr, /^tusk: Clone interrupted \(SIGINT\): could not remove "/m);
  assert.ok(stopped.stderr.includes(`could not remove "${stopped.staging}"`), stopped.stderr);
  assert.match(stopped.stderr, /remove it, or run the clone again there, which clears it/);
});
