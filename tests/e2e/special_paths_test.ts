/**
 * Special host paths through the real CLI: standard streams named as files
 * (`-f /dev/stdin`, `-o /dev/stdout`) work as `-f -` and no `-o` do; a device or FIFO given
 * to `-o` is written directly; pseudo files under /proc, /sys and /dev (which Deno's
 * permissions keep out of reach) and `-o dir/` for one file are refused with a clear message
 * and the store unchanged: no exit 70.
 */
import assert from "node:assert/strict";
import { snapshotStore, tempStore } from "../_helpers.ts";
import { assertFails, ok, tusk } from "./_cli.ts";

/** A store with repo `r` holding `/f` ("hi\n") and `/d/g`, and a folder `dir` beside it. */
async function fixture() {
  const s = await tempStore();
  const o = { store: s.store, cwd: s.path, initCwd: s.path };
  await ok(["create", "repo", "r"], o);
  await ok(["put", "file", "r@master:/f", "-f", "-"], { ...o, stdin: "hi\n" });
  await ok(["put", "file", "r@master:/d/g", "-f", "-"], { ...o, stdin: "g\n" });
  await Deno.mkdir(`${s.path}/dir`);
  return { ...s, o };
}

for (const stdin of ["/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"]) {
  Deno.test(`put file -f ${stdin} reads standard input, as -f - does`, async () => {
    await using f = await fixture();
    await ok(["put", "file", "r@master:/x", "-f", stdin], { ...f.o, stdin: "from stdin\n" });
    assert.equal((await ok(["get", "file", "r@master:/x"], f.o)).stdout, "from stdin\n");
  });
}

for (const stdout of ["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"]) {
  Deno.test(`get file -o ${stdout} prints the file, as without -o`, async () => {
    await using f = await fixture();
    const r = await ok(["get", "file", "r@master:/f", "-o", stdout], f.o);
    assert.equal(r.stdout, "hi\n");
  });
}

Deno.test("get file -o /dev/null writes into the device and prints nothing", async () => {
  await using f = await fixture();
  const r = await ok(["get", "file", "r@master:/f", "-o", "/dev/null"], f.o);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, "");
});

Deno.test("get file -o a FIFO writes the file into it for the reader", async () => {
  await using f = await fixture();
  const fifo = `${f.path}/pipe`;
  const mk = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.ok(mk.success, "mkfifo");
  const reader = new Deno.Command("cat", {
    args: [fifo],
    stdout: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  await ok(["get", "file", "r@master:/f", "-o", fifo], f.o);
  assert.equal(new TextDecoder().decode((await reader).stdout), "hi\n");
  assert.ok((await Deno.lstat(fifo)).isFifo, "the FIFO is still a FIFO");
});

const refusals: { name: string; args: string[]; code: 1 | 2; says: RegExp[] }[] = [
  {
    name: "put file -f /proc/self/status",
    args: ["put", "file", "r@master:/x", "-f", "/proc/self/status"],
    code: 1,
    says: [/Refusing "\/proc\/self\/status"/, /\/proc, \/sys/, /regular file/],
  },
  {
    name: "put file -f /proc/cpuinfo",
    args: ["put", "file", "r@master:/x", "-f", "/proc/cpuinfo"],
    code: 1,
    says: [/Refusing "\/proc\/cpuinfo"/],
  },
  {
    name: "put file -f /sys/kernel/mm/transparent_hugepage/enabled",
    args: ["put", "file", "r@master:/x", "-f", "/sys/kernel/mm/transparent_hugepage/enabled"],
    code: 1,
    says: [/Refusing "\/sys\/kernel\/mm\/transparent_hugepage\/enabled"/],
  },
  {
    name: "put file -r -f /proc/self",
    args: ["put", "file", "r@master:/x", "-r", "-f", "/proc/self"],
    code: 1,
    says: [/Refusing "\/proc\/self"/],
  },
  {
    name: "get file -o an existing folder with a trailing slash",
    args: ["get", "file", "r@master:/f", "-o", "dir/"],
    code: 2,
    says: [/"dir\/"/, /folder/, /give -o a file path/],
  },
  {
    name: "get file -o a new folder with a trailing slash",
    args: ["get", "file", "r@master:/f", "-o", "new/"],
    code: 2,
    says: [/"new\/"/, /folder/, /give -o a file path/],
  },
  {
    name: "get file -o /proc/self/status",
    args: ["get", "file", "r@master:/f", "-o", "/proc/self/status"],
    code: 1,
    says: [/Cannot write "\/proc\/self\/status"/, /\/proc, \/sys/],
  },
  {
    name: "get file -r -o /proc/self",
    args: ["get", "file", "r@master:/", "-r", "-o", "/proc/self"],
    code: 1,
    says: [/Cannot write into "\/proc\/self"/, /\/proc, \/sys/],
  },
];

for (const c of refusals) {
  Deno.test(`${c.name} exits ${c.code} with a clear message and changes nothing`, async () => {
    await using f = await fixture();
    const before = await snapshotStore(f.store);
    const r = await tusk(c.args, f.o);
    assertFails(r, c.code, ...c.says);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.equal(await snapshotStore(f.store), before, "the store is unchanged");
  });
}

Deno.test("get file -o new/ with a trailing slash makes no folder", async () => {
  await using f = await fixture();
  await tusk(["get", "file", "r@master:/f", "-o", "new/"], f.o);
  await assert.rejects(Deno.lstat(`${f.path}/new`), Deno.errors.NotFound);
});

Deno.test("init --store /proc/x exits 1 naming the folder", async () => {
  await using f = await fixture();
  const r = await tusk(["init", "--store", "/proc/x"], f.o);
  assertFails(r, 1, /"\/proc\/x"/, /\/proc, \/sys/);
});
