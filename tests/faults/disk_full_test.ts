/**
 * Disk full: `put file` of a file larger than the space left fails mid-write with exit 1 and
 * a clear message, changes nothing in the store, and a smaller put afterwards works.
 *
 * Space runs out one of two real ways, chosen at run time among those that work here:
 * - "tmpfs": the store lives on a 4 MiB tmpfs mounted for the test (needs root and mount);
 *   writes fail with ENOSPC.
 * - "prlimit": the tusk process runs under `prlimit --fsize` (util-linux); writes past the
 *   limit fail with EFBIG. The kernel also sends SIGXFSZ, whose default action kills the
 *   process, and Deno does not ignore it: the test checks that such a kill leaves the store
 *   intact too, then runs tusk with SIGXFSZ ignored (`trap '' XFSZ`, inherited through exec)
 *   so that the write error reaches tusk.
 * TUSK_FAULTS_DISK_FULL=tmpfs|prlimit forces one; neither working fails the test.
 */
import assert from "node:assert/strict";
import { MAIN, snapshotStore, tempDir, tusk, TUSK_PERMS, tuskOk } from "../_helpers.ts";
import type { TuskResult } from "../_helpers.ts";
import { deadTempFiles, mountTmpfs, sha256File } from "./_util.ts";

const dec = new TextDecoder();

/** A store in a place where space runs out, and how to run tusk against it. */
interface Setup extends AsyncDisposable {
  readonly method: "tmpfs" | "prlimit";
  readonly store: string;
  /** Size of the file that does not fit, and of the one that does. */
  readonly tooBig: number;
  readonly fits: number;
  run(args: readonly string[]): Promise<TuskResult>;
}

function toResult(r: Deno.CommandOutput): TuskResult {
  return {
    code: r.code,
    stdout: dec.decode(r.stdout),
    stderr: dec.decode(r.stderr),
    stdoutBytes: r.stdout,
  };
}

async function prlimitWorks(): Promise<string | null> {
  try {
    const r = await new Deno.Command("prlimit", {
      args: ["--fsize=1048576", "--", "true"],
      stdout: "null",
      stderr: "piped",
    }).output();
    return r.code === 0 ? null : `prlimit exited ${r.code}: ${dec.decode(r.stderr).trim()}`;
  } catch (err) {
    return `cannot run prlimit: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function tmpfsSetup(): Promise<Setup | string> {
  const mount = await mountTmpfs("4m");
  if ("error" in mount) return mount.error;
  const store = `${mount.path}/.tusk`;
  return {
    method: "tmpfs",
    store,
    tooBig: 8 << 20,
    fits: 1 << 20,
    run: (args) => tusk(args, { store }),
    [Symbol.asyncDispose]: () => mount[Symbol.asyncDispose](),
  };
}

const FSIZE_LIMIT = 2 << 20;

/** `tusk <args>` under a file-size limit, with SIGXFSZ ignored unless `killOnLimit`. */
async function tuskLimited(
  store: string,
  args: readonly string[],
  killOnLimit = false,
): Promise<Deno.CommandOutput> {
  const script = `${killOnLimit ? "" : "trap '' XFSZ; "}exec prlimit --fsize="$0" -- "$@"`;
  return await new Deno.Command("sh", {
    args: [
      "-c",
      script,
      String(FSIZE_LIMIT),
      Deno.execPath(),
      "run",
      "--quiet",
      ...TUSK_PERMS,
      MAIN,
      ...args,
    ],
    env: { NO_COLOR: "1", TUSK_STORE: store },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
}

async function prlimitSetup(): Promise<Setup | string> {
  const why = await prlimitWorks();
  if (why) return why;
  const dir = await tempDir();
  const store = `${dir.path}/.tusk`;
  return {
    method: "prlimit",
    store,
    tooBig: 8 << 20,
    fits: 1 << 20,
    run: async (args) => toResult(await tuskLimited(store, args)),
    [Symbol.asyncDispose]: () => dir[Symbol.asyncDispose](),
  };
}

/** The first way of filling the disk that works here (or the one forced by the environment). */
async function setup(): Promise<Setup> {
  const forced = Deno.env.get("TUSK_FAULTS_DISK_FULL");
  const methods = forced === "tmpfs"
    ? [tmpfsSetup]
    : forced === "prlimit"
    ? [prlimitSetup]
    : [tmpfsSetup, prlimitSetup];
  const reasons: string[] = [];
  for (const m of methods) {
    const s = await m();
    if (typeof s !== "string") return s;
    reasons.push(s);
  }
  throw new Error(`No way to run out of disk space works here: ${reasons.join("; ")}`);
}

async function writeRandomFile(path: string, size: number): Promise<void> {
  const bytes = new Uint8Array(size);
  for (let off = 0; off < size; off += 65536) {
    crypto.getRandomValues(bytes.subarray(off, Math.min(off + 65536, size)));
  }
  await Deno.writeFile(path, bytes);
}

Deno.test("put file that runs out of disk space mid-write exits 1, says so and changes nothing", async () => {
  await using s = await setup();
  await using src = await tempDir();
  console.log(`disk full simulated with ${s.method}`);
  const store = s.store;
  await tuskOk(["init"], { store });
  await tuskOk(["create", "repo", "full"], { store });
  await Deno.writeTextFile(`${src.path}/first.txt`, "before the disk filled up\n");
  await tuskOk(["put", "file", "full@master:/first.txt", "-f", `${src.path}/first.txt`], { store });
  const big = `${src.path}/big.bin`;
  await writeRandomFile(big, s.tooBig);
  const before = await snapshotStore(store);
  const putBig = ["put", "file", "full@master:/big.bin", "-f", big];

  if (s.method === "prlimit") {
    // Deno keeps SIGXFSZ's default action: the limit kills tusk. That is a crash, which
    // must leave the store as it was.
    const killed = await tuskLimited(store, putBig, true);
    assert.ok(
      killed.signal === "SIGXFSZ" || killed.code === 1,
      `expected death by SIGXFSZ or exit 1, got code ${killed.code} signal ${killed.signal}`,
    );
    assert.equal(await snapshotStore(store), before, "a SIGXFSZ kill changed the store");
    const v = await tusk(["verify"], { store });
    assert.equal(v.code, 0, v.stderr);
  }

  const r = await s.run(putBig);
  assert.equal(r.code, 1, `put exited ${r.code}:\n${r.stderr}`);
  assert.match(r.stderr, /disk space/i);
  assert.doesNotMatch(r.stderr, /internal error|Uncaught/);
  assert.equal(await snapshotStore(store), before, "the failed put changed the store");
  assert.deepEqual(await deadTempFiles(store), []);
  assert.deepEqual([...Deno.readDirSync(`${store}/tmp`)], [], "the failed put left temp files");
  const verify = await tusk(["verify"], { store });
  assert.equal(verify.code, 0, verify.stderr);

  const small = `${src.path}/small.bin`;
  await writeRandomFile(small, s.fits);
  const ok = await s.run(["put", "file", "full@master:/small.bin", "-f", small]);
  assert.equal(ok.code, 0, ok.stderr);
  const got = await tuskOk(["list", "file", "full@master", "--json"], { store });
  const files = JSON.parse(got.stdout) as { path: string; hash: string }[];
  assert.deepEqual(files.map((f) => f.path).sort(), ["/first.txt", "/small.bin"]);
  assert.equal(files.find((f) => f.path === "/small.bin")!.hash, await sha256File(small));
  const verify2 = await tusk(["verify"], { store });
  assert.equal(verify2.code, 0, verify2.stderr);
});
