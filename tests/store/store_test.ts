import assert from "node:assert/strict";
import {
  AlreadyExistsError,
  IntegrityError,
  InvalidArgumentError,
  NoStoreError,
  NotFoundError,
  type TuskError,
} from "../../lib/errors.ts";
import { EMPTY_TREE, encodeTree } from "../../lib/store/codec.ts";
import { sha256 } from "../../lib/store/hash.ts";
import { GENESIS, type LedgerEntry } from "../../lib/store/state.ts";
import { Store } from "../../lib/store/store.ts";
import { collectGarbage, verifyStore } from "../../lib/store/verify.ts";
import { LARGE_OBJECT } from "../../lib/store/objects.ts";
import { createRepo, deleteRepo, listRepos } from "../../lib/commands/repo.ts";
import { deleteFile, diffFile, globFile, listFile } from "../../lib/commands/file.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import {
  createBranch,
  deleteBranch,
  inspectCommit,
  listBranch,
  listCommit,
  revert,
} from "../../lib/commands/commit.ts";
import { tempDir } from "../_helpers.ts";
import { countObjects, putText, readBytes, readText, testStore } from "./_fixtures.ts";

type ErrorClass = new (...args: never[]) => TuskError;

/** Assert that `promise` rejects with an instance of `cls` carrying `code`. */
async function rejectsWith(
  promise: Promise<unknown>,
  cls: ErrorClass,
  code: string,
): Promise<TuskError> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${String(err)}`);
    assert.equal((err as TuskError).code, code);
    return true;
  });
  return caught as TuskError;
}

async function headOf(store: Store, repo: string, branch = "master"): Promise<string | null> {
  const state = await store.state();
  return state.repos[repo]?.branches[branch]?.head ?? null;
}

/** Deterministic pseudo-random bytes (a linear congruential generator). */
function noise(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// ---- opening and finding ----

Deno.test("Store.init() refuses a folder that already holds a store", async () => {
  await using dir = await tempDir();
  const first = await Store.init(`${dir.path}/.tusk`);
  first.objects.close();
  await rejectsWith(Store.init(`${dir.path}/.tusk`), AlreadyExistsError, "ALREADY_EXISTS");
});

Deno.test("Store.init() refuses a folder that is not empty", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/busy`);
  await Deno.writeTextFile(`${dir.path}/busy/file`, "x");
  await rejectsWith(Store.init(`${dir.path}/busy`), AlreadyExistsError, "ALREADY_EXISTS");
});

Deno.test("Store.init() leaves no staging folder behind", async () => {
  await using dir = await tempDir();
  await Store.init(`${dir.path}/.tusk`);
  const names: string[] = [];
  for await (const e of Deno.readDir(dir.path)) names.push(e.name);
  assert.deepEqual(names, [".tusk"]);
});

Deno.test("Store.open() refuses a folder that is not a store", async () => {
  await using dir = await tempDir();
  const err = await rejectsWith(Store.open(dir.path), NoStoreError, "NO_STORE");
  assert.equal(err.data.path, dir.path);
});

Deno.test("Store.open() refuses a folder that does not exist", async () => {
  await using dir = await tempDir();
  await rejectsWith(Store.open(`${dir.path}/missing`), NoStoreError, "NO_STORE");
});

Deno.test("Store.open() refuses a store marked with an unknown version", async () => {
  await using dir = await tempDir();
  await Store.init(`${dir.path}/.tusk`);
  await Deno.writeTextFile(`${dir.path}/.tusk/STORE`, "tusk-store 99\n");
  await rejectsWith(Store.open(`${dir.path}/.tusk`), NoStoreError, "NO_STORE");
});

Deno.test("Store.open() reads a store made by Store.init()", async () => {
  await using dir = await tempDir();
  await Store.init(`${dir.path}/.tusk`);
  const store = await Store.open(`${dir.path}/.tusk`);
  assert.deepEqual((await store.state()).repos, {});
});

Deno.test("Store.find() finds .tusk in a folder above the start", async () => {
  await using dir = await tempDir();
  await Store.init(`${dir.path}/.tusk`);
  await Deno.mkdir(`${dir.path}/a/b/c`, { recursive: true });
  assert.equal(await Store.find(`${dir.path}/a/b/c`), `${dir.path}/.tusk`);
});

Deno.test("Store.find() finds the nearest of two nested stores", async () => {
  await using dir = await tempDir();
  await Store.init(`${dir.path}/.tusk`);
  await Store.init(`${dir.path}/a/.tusk`);
  await Deno.mkdir(`${dir.path}/a/b`, { recursive: true });
  assert.equal(await Store.find(`${dir.path}/a/b`), `${dir.path}/a/.tusk`);
});

Deno.test("Store.find() gives null when no folder above holds a store", async () => {
  await using dir = await tempDir();
  await Deno.mkdir(`${dir.path}/a`);
  assert.equal(await Store.find(`${dir.path}/a`), null);
});

// ---- repos ----

Deno.test("createRepo() makes a repo with an empty master branch", async () => {
  await using t = await testStore();
  const info = await createRepo(t.store, "training");
  assert.deepEqual(info.branches, [{ name: "master", head: null }]);
  assert.equal(info.size, 0);
});

Deno.test("createRepo() refuses a name that is taken", async () => {
  await using t = await testStore();
  await createRepo(t.store, "training");
  const err = await rejectsWith(
    createRepo(t.store, "training"),
    AlreadyExistsError,
    "ALREADY_EXISTS",
  );
  assert.equal(err.data.repo, "training");
});

Deno.test("createRepo() refuses an invalid name", async () => {
  await using t = await testStore();
  await rejectsWith(createRepo(t.store, "bad name"), InvalidArgumentError, "INVALID_ARGUMENT");
});

Deno.test("listRepos() lists the newest repo first", async () => {
  await using t = await testStore();
  await createRepo(t.store, "first");
  await createRepo(t.store, "second");
  assert.deepEqual((await listRepos(t.store)).map((r) => r.name), ["second", "first"]);
});

Deno.test("deleteRepo() of a missing repo suggests a close name", async () => {
  await using t = await testStore();
  await createRepo(t.store, "training");
  const err = await rejectsWith(deleteRepo(t.store, "trainig"), NotFoundError, "NOT_FOUND");
  assert.ok(err.message.includes('did you mean "training"'), err.message);
});

Deno.test("createRepo() can reuse the name of a deleted repo, which starts empty", async () => {
  await using t = await testStore();
  await createRepo(t.store, "training");
  await putText(t, "training@master:/a", "old");
  await deleteRepo(t.store, "training");
  await createRepo(t.store, "training");
  assert.equal(await headOf(t.store, "training"), null);
});

// ---- files ----

Deno.test("putFile() and getFile() round-trip every byte value", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const bytes = new Uint8Array(512).map((_, i) => i % 256);
  await putText(t, "r@master:/bin", bytes);
  assert.deepEqual(await readBytes(t.store, "r@master:/bin"), bytes);
});

Deno.test("putFile() and getFile() round-trip an empty file", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/empty", "");
  assert.equal(await readText(t.store, "r@master:/empty"), "");
});

Deno.test("putFile() stores a file over 1 MiB as a loose object and reads it back", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const bytes = noise(LARGE_OBJECT + 12345);
  await putText(t, "r@master:/big.bin", bytes);
  const [info] = await listFile(t.store, "r@master:/big.bin");
  assert.equal(info!.hash, sha256(bytes));
  assert.equal(info!.size, bytes.length);
  assert.ok((await Deno.lstat(t.store.objects.loosePath(info!.hash))).isFile);
  assert.deepEqual(await readBytes(t.store, "r@master:/big.bin"), bytes);
});

Deno.test("putFile() writes many small files as one pack and reads them back", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await Deno.mkdir(`${t.dir}/many`);
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${t.dir}/many/f${i}.txt`, `file ${i}\n`);
  const r = await putFile(t.store, "r@master:/", {
    sources: [`${t.dir}/many`],
    recursive: true,
  });
  assert.equal(r.files, 20);
  const all = await t.store.objects.listAll();
  const packed = new Set([...all.packs.values()].flat());
  for (let i = 0; i < 20; i++) {
    assert.ok(packed.has(sha256(`file ${i}\n`)), `blob of f${i}.txt is in a pack`);
    assert.equal(await readText(t.store, `r@master:/many/f${i}.txt`), `file ${i}\n`);
  }
});

Deno.test("putFile() with a destination path puts the file there", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/deep/er/file.csv", "1,2\n");
  assert.deepEqual((await listFile(t.store, "r@master:/deep/er")).map((f) => f.path), [
    "/deep/er/file.csv",
  ]);
});

Deno.test("putFile() overwrites an existing file by default", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "one\n");
  await putText(t, "r@master:/a", "two\n");
  assert.equal(await readText(t.store, "r@master:/a"), "two\n");
});

Deno.test("putFile() with append adds to the end of an existing file", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "one\n");
  await putText(t, "r@master:/a", "two\n", { append: true });
  assert.equal(await readText(t.store, "r@master:/a"), "one\ntwo\n");
});

Deno.test("putFile() with append creates a file that does not exist", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "one\n", { append: true });
  assert.equal(await readText(t.store, "r@master:/a"), "one\n");
});

Deno.test("putFile() makes a commit whose parent is the previous head", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const first = await putText(t, "r@master:/a", "1");
  const second = await putText(t, "r@master:/b", "2");
  assert.equal(second.commit.commit.parent, first.commit.id);
  assert.equal(await headOf(t.store, "r"), second.commit.id);
});

Deno.test("putFile() records the size of the whole tree in the commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "12345");
  const r = await putText(t, "r@master:/d/b", "123");
  assert.equal(r.commit.commit.size, 8);
});

Deno.test("putFile() refuses a file where a folder is and changes nothing", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/d/a", "1");
  const before = await t.store.state();
  await rejectsWith(putText(t, "r@master:/d", "2"), InvalidArgumentError, "INVALID_ARGUMENT");
  assert.deepEqual((await t.store.state()).ledger, before.ledger);
});

Deno.test("putFile() refuses a path under a file and changes nothing", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  const before = await t.store.state();
  await rejectsWith(putText(t, "r@master:/a/b", "2"), InvalidArgumentError, "INVALID_ARGUMENT");
  assert.deepEqual((await t.store.state()).ledger, before.ledger);
});

Deno.test("putFile() refuses a missing repo", async () => {
  await using t = await testStore();
  await rejectsWith(putText(t, "nope@master:/a", "1"), NotFoundError, "NOT_FOUND");
});

Deno.test('putFile() refuses a path with ".." and names it', async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const err = await rejectsWith(
    putText(t, "r@master:/a/../b", "1"),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
  assert.ok(err.message.includes("/a/../b"), err.message);
});

Deno.test("putFile() to a new branch creates that branch", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const r = await putText(t, "r@dev:/a", "1");
  assert.equal(await headOf(t.store, "r", "dev"), r.commit.id);
});

Deno.test("getFile() of a missing path is NotFoundError naming the path", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  const err = await rejectsWith(readText(t.store, "r@master:/zz"), NotFoundError, "NOT_FOUND");
  assert.equal(err.data.path, "/zz");
});

Deno.test("getFile() of a branch with no commits is NotFoundError", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await rejectsWith(readText(t.store, "r@master:/a"), NotFoundError, "NOT_FOUND");
});

Deno.test("getFile() reads an older version through master^", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "old");
  await putText(t, "r@master:/a", "new");
  assert.equal(await readText(t.store, "r@master^:/a"), "old");
});

Deno.test("listFile() lists a folder's direct children with their types", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/x/1", "a");
  await putText(t, "r@master:/x/sub/2", "bb");
  assert.deepEqual(
    (await listFile(t.store, "r@master:/x")).map((f) => [f.path, f.type, f.size]),
    [["/x/1", "file", 1], ["/x/sub", "dir", 2]],
  );
});

Deno.test('globFile() with "/*" lists top-level entries only', async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await putText(t, "r@master:/d/b", "2");
  assert.deepEqual((await globFile(t.store, "r@master:/*")).map((f) => f.path), ["/a", "/d"]);
});

Deno.test("putFile() refuses a destination holding U+FFFD and commits nothing", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await rejectsWith(
    putText(t, "r@master:/x\uFFFD.txt", "a"),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
  assert.equal(await headOf(t.store, "r"), null);
});

Deno.test("a file stored under U+FFFD by an older version can still be read and deleted", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const blob = await t.store.objects.writeLoose(new TextEncoder().encode("old\n"));
  await t.store.transact(async (tx) => {
    await tx.commit("r", "master", async () => {
      const edit = { op: "put", path: ["x\uFFFD.txt"], hash: blob, size: 4 } as const;
      const r = await t.store.editTree(EMPTY_TREE, [edit], tx.batch);
      return { tree: r.hash, size: r.size };
    }, { message: "", origin: "user" });
  });
  assert.equal(await readText(t.store, "r@master:/x\uFFFD.txt"), "old\n");
  await deleteFile(t.store, "r@master:/x\uFFFD.txt");
  assert.deepEqual(await listFile(t.store, "r@master"), []);
});

Deno.test("deleteFile() removes the file in a new commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await putText(t, "r@master:/b", "2");
  await deleteFile(t.store, "r@master:/a");
  assert.deepEqual((await listFile(t.store, "r@master")).map((f) => f.path), ["/b"]);
});

Deno.test("deleteFile() keeps the file in the previous commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await deleteFile(t.store, "r@master:/a");
  assert.equal(await readText(t.store, "r@master^:/a"), "1");
});

Deno.test("deleteFile() of a folder removes everything under it", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/d/a", "1");
  await putText(t, "r@master:/d/e/b", "2");
  await putText(t, "r@master:/c", "3");
  await deleteFile(t.store, "r@master:/d");
  assert.deepEqual((await globFile(t.store, "r@master:/**")).map((f) => f.path), ["/c"]);
});

Deno.test("deleteFile() of the last file leaves an empty tree", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/d/a", "1");
  const c = await deleteFile(t.store, "r@master:/d/a");
  assert.equal(c.commit.tree, EMPTY_TREE);
  assert.deepEqual(await listFile(t.store, "r@master"), []);
});

Deno.test("deleteFile() of a missing path is NotFoundError and changes nothing", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  const before = await t.store.state();
  await rejectsWith(deleteFile(t.store, "r@master:/b"), NotFoundError, "NOT_FOUND");
  assert.deepEqual((await t.store.state()).ledger, before.ledger);
});

Deno.test("deleteFile() on a branch with no commits is NotFoundError", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await rejectsWith(deleteFile(t.store, "r@master:/a"), NotFoundError, "NOT_FOUND");
});

Deno.test("deleteFile() without a path is InvalidArgumentError", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await rejectsWith(deleteFile(t.store, "r@master"), InvalidArgumentError, "INVALID_ARGUMENT");
});

// ---- revert ----

Deno.test("revert() makes a new commit whose tree is the old commit's tree", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const old = await putText(t, "r@master:/a", "good");
  await putText(t, "r@master:/a", "bad");
  const r = await revert(t.store, "r@master", { to: old.commit.id });
  assert.equal(r.commit.tree, old.commit.commit.tree);
  assert.equal(await readText(t.store, "r@master:/a"), "good");
});

Deno.test('revert() records origin "revert" and the commit it restores', async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const old = await putText(t, "r@master:/a", "good");
  await putText(t, "r@master:/a", "bad");
  const r = await revert(t.store, "r@master", { to: old.commit.id });
  const c = await inspectCommit(t.store, `r@${r.id}`);
  assert.equal(c.origin, "revert");
  assert.equal(c.revertOf, old.commit.id);
});

Deno.test("revert() keeps history: the bad commit is the revert's parent", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const old = await putText(t, "r@master:/a", "good");
  const bad = await putText(t, "r@master:/a", "bad");
  const r = await revert(t.store, "r@master", { to: old.commit.id });
  assert.equal(r.commit.parent, bad.commit.id);
  assert.equal((await listCommit(t.store, "r@master")).length, 3);
});

Deno.test("revert() accepts master^ as the target", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const old = await putText(t, "r@master:/a", "good");
  await putText(t, "r@master:/a", "bad");
  const r = await revert(t.store, "r@master", { to: "master^" });
  assert.equal(r.commit.revertOf, old.commit.id);
});

Deno.test("revert() of a missing branch is NotFoundError", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const old = await putText(t, "r@master:/a", "good");
  await rejectsWith(revert(t.store, "r@dev", { to: old.commit.id }), NotFoundError, "NOT_FOUND");
});

Deno.test("revert() to a commit of another repo is InvalidArgumentError", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await createRepo(t.store, "other");
  await putText(t, "r@master:/a", "1");
  await putText(t, "other@master:/a", "1");
  await rejectsWith(
    revert(t.store, "r@master", { to: "other@master" }),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
});

// ---- resolving references ----

async function threeCommits(t: Awaited<ReturnType<typeof testStore>>): Promise<string[]> {
  await createRepo(t.store, "r");
  const ids: string[] = [];
  for (const v of ["1", "2", "3"]) ids.push((await putText(t, "r@master:/a", v)).commit.id);
  return ids;
}

Deno.test("resolve() gives a branch's head", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  const r = await t.store.resolve(await t.store.state(), "r@master");
  assert.equal(r.id, ids[2]);
  assert.equal(r.branch, "master");
});

Deno.test("resolve() gives the parent for master^", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  assert.equal((await t.store.resolve(await t.store.state(), "r@master^")).id, ids[1]);
});

Deno.test("resolve() gives the grandparent for master^2", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  assert.equal((await t.store.resolve(await t.store.state(), "r@master^2")).id, ids[0]);
});

Deno.test("resolve() gives the grandparent for master~2", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  assert.equal((await t.store.resolve(await t.store.state(), "r@master~2")).id, ids[0]);
});

Deno.test("resolve() refuses ancestry deeper than the history", async () => {
  await using t = await testStore();
  await threeCommits(t);
  await rejectsWith(
    t.store.resolve(await t.store.state(), "r@master^3"),
    NotFoundError,
    "NOT_FOUND",
  );
});

Deno.test("resolve() finds a commit by its full id", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  assert.equal((await t.store.resolve(await t.store.state(), `r@${ids[1]}`)).id, ids[1]);
});

Deno.test("resolve() finds a commit by a unique id prefix", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  const r = await t.store.resolve(await t.store.state(), `r@${ids[0]!.slice(0, 12)}`);
  assert.equal(r.id, ids[0]);
  assert.equal(r.branch, undefined);
});

Deno.test("resolve() refuses an ambiguous commit-id prefix", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  // Commits on distinct branches, all in one transaction, until two ids share 4 hex digits.
  const prefix = await t.store.transact(async (tx) => {
    const seen = new Map<string, string>();
    for (let i = 0; i < 100_000; i++) {
      const c = await tx.commit(`r`, `b${i}`, async () => {
        await tx.batch.add(encodeTree([]));
        return { tree: EMPTY_TREE, size: 0 };
      }, { message: "", origin: "user" });
      const p = c.id.slice(0, 4);
      if (seen.has(p)) return p;
      seen.set(p, c.id);
    }
    throw new Error("no two commit ids share a prefix");
  });
  const err = await rejectsWith(
    t.store.resolve(await t.store.state(), `r@${prefix}`),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
  assert.equal(err.data.ref, prefix);
});

Deno.test("resolve() does not find a commit of another repo by prefix", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  await createRepo(t.store, "other");
  await rejectsWith(
    t.store.resolve(await t.store.state(), `other@${ids[0]!.slice(0, 12)}`),
    NotFoundError,
    "NOT_FOUND",
  );
});

Deno.test("resolve() of a missing branch suggests a close one", async () => {
  await using t = await testStore();
  await threeCommits(t);
  const err = await rejectsWith(
    t.store.resolve(await t.store.state(), "r@mastr"),
    NotFoundError,
    "NOT_FOUND",
  );
  assert.ok(err.message.includes('did you mean "master"'), err.message);
});

// ---- commits and branches ----

Deno.test("listCommit() lists a branch's commits newest first", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  assert.deepEqual((await listCommit(t.store, "r@master")).map((c) => c.id), ids.reverse());
});

Deno.test("listCommit() stops at the limit", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  assert.deepEqual((await listCommit(t.store, "r@master", { limit: 2 })).map((c) => c.id), [
    ids[2],
    ids[1],
  ]);
});

Deno.test("listCommit() marks the branch head", async () => {
  await using t = await testStore();
  await threeCommits(t);
  const [newest, older] = await listCommit(t.store, "r@master");
  assert.deepEqual(newest!.heads, ["master"]);
  assert.deepEqual(older!.heads, []);
});

Deno.test("listCommit() of a repo merges the history of every branch", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  const dev = await putText(t, "r@dev:/b", "x");
  assert.deepEqual((await listCommit(t.store, "r")).map((c) => c.id), [
    dev.commit.id,
    ...ids.reverse(),
  ]);
});

Deno.test("createBranch() with head points the new branch at that branch's head", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  const b = await createBranch(t.store, "r@dev", { head: "master" });
  assert.equal(b.head, ids[2]);
  assert.equal(await readText(t.store, "r@dev:/a"), "3");
});

Deno.test("createBranch() with head moves an existing branch to a commit", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  await createBranch(t.store, "r@dev", { head: "master" });
  await createBranch(t.store, "r@dev", { head: ids[0]! });
  assert.equal(await headOf(t.store, "r", "dev"), ids[0]);
});

Deno.test("createBranch() without head makes an empty branch", async () => {
  await using t = await testStore();
  await threeCommits(t);
  const b = await createBranch(t.store, "r@dev");
  assert.equal(b.head, null);
});

Deno.test("createBranch() without head refuses an existing branch", async () => {
  await using t = await testStore();
  await threeCommits(t);
  await rejectsWith(createBranch(t.store, "r@master"), AlreadyExistsError, "ALREADY_EXISTS");
});

Deno.test("createBranch() refuses a head in another repo", async () => {
  await using t = await testStore();
  await threeCommits(t);
  await createRepo(t.store, "other");
  await putText(t, "other@master:/x", "1");
  await rejectsWith(
    createBranch(t.store, "r@dev", { head: "other@master" }),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
});

Deno.test("commits on a branch made with head continue from that head", async () => {
  await using t = await testStore();
  const ids = await threeCommits(t);
  await createBranch(t.store, "r@dev", { head: ids[0]! });
  const c = await putText(t, "r@dev:/b", "x");
  assert.equal(c.commit.commit.parent, ids[0]);
  assert.equal(await headOf(t.store, "r"), ids[2]);
});

Deno.test("deleteBranch() removes the branch", async () => {
  await using t = await testStore();
  await threeCommits(t);
  await createBranch(t.store, "r@dev", { head: "master" });
  await deleteBranch(t.store, "r@dev");
  assert.deepEqual((await listBranch(t.store, "r")).map((b) => b.name), ["master"]);
});

Deno.test("deleteBranch() keeps the commits it pointed at", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const c = await putText(t, "r@dev:/a", "kept");
  await deleteBranch(t.store, "r@dev");
  assert.equal(await readText(t.store, `r@${c.commit.id}:/a`), "kept");
});

Deno.test("createBranch() refuses repo@HEAD~1 and creates no branch", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "a");
  await rejectsWith(createBranch(t.store, "r@HEAD~1"), InvalidArgumentError, "INVALID_ARGUMENT");
  assert.deepEqual((await listBranch(t.store, "r")).map((b) => b.name), ["master"]);
});

Deno.test("revert() refuses repo@master^ and leaves master where it was", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const first = (await putText(t, "r@master:/a.txt", "a")).commit.id;
  await putText(t, "r@master:/a.txt", "b");
  const head = await headOf(t.store, "r");
  await rejectsWith(
    revert(t.store, "r@master^", { to: first }),
    InvalidArgumentError,
    "INVALID_ARGUMENT",
  );
  assert.equal(await headOf(t.store, "r"), head);
});

Deno.test('deleteBranch() deletes a branch named "HEAD" made before such names were refused', async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await t.store.transact(async (tx) => {
    tx.change({ type: "branch:move", repo: "r", branch: "HEAD", from: null, to: null });
    await Promise.resolve();
  });
  await deleteBranch(t.store, "r@HEAD");
  assert.deepEqual((await listBranch(t.store, "r")).map((b) => b.name), ["master"]);
});

Deno.test("deleteBranch() of a missing branch is NotFoundError", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await rejectsWith(deleteBranch(t.store, "r@dev"), NotFoundError, "NOT_FOUND");
});

// ---- diff ----

Deno.test("diffFile() reports a file added since the parent commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await putText(t, "r@master:/d/b", "22");
  assert.deepEqual(await diffFile(t.store, "r@master"), [
    { path: "/d/b", change: "added", newSize: 2 },
  ]);
});

Deno.test("diffFile() reports a file removed since the parent commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await putText(t, "r@master:/b", "22");
  await deleteFile(t.store, "r@master:/a");
  assert.deepEqual(await diffFile(t.store, "r@master"), [
    { path: "/a", change: "removed", oldSize: 1 },
  ]);
});

Deno.test("diffFile() reports a file modified since the parent commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await putText(t, "r@master:/b", "22");
  await putText(t, "r@master:/a", "333");
  assert.deepEqual(await diffFile(t.store, "r@master"), [
    { path: "/a", change: "modified", oldSize: 1, newSize: 3 },
  ]);
});

Deno.test("diffFile() compares with an explicit older commit", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  await putText(t, "r@master:/b", "2");
  await putText(t, "r@master:/c", "3");
  assert.deepEqual((await diffFile(t.store, "r@master", "r@master^2")).map((d) => d.path), [
    "/b",
    "/c",
  ]);
});

Deno.test("diffFile() reports every file of the first commit as added", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  assert.deepEqual(await diffFile(t.store, "r@master"), [
    { path: "/a", change: "added", newSize: 1 },
  ]);
});

// ---- garbage collection ----

/** A store with a repo "kept" and a repo "gone" holding packed, loose and large objects. */
async function twoRepos(t: Awaited<ReturnType<typeof testStore>>): Promise<void> {
  await createRepo(t.store, "kept");
  await createRepo(t.store, "gone");
  await putText(t, "kept@master:/k", "kept content");
  await Deno.mkdir(`${t.dir}/many`);
  for (let i = 0; i < 20; i++) await Deno.writeTextFile(`${t.dir}/many/g${i}`, `gone ${i}`);
  await putFile(t.store, "gone@master:/", { sources: [`${t.dir}/many`], recursive: true });
  await putText(t, "gone@master:/big", noise(LARGE_OBJECT + 1, 7));
  await putText(t, "gone@master:/small", "gone small");
}

Deno.test("collectGarbage() after deleteRepo() frees the repo's objects", async () => {
  await using t = await testStore();
  await twoRepos(t);
  await deleteRepo(t.store, "gone");
  const before = await countObjects(t.store);
  const report = await collectGarbage(t.store);
  const after = await countObjects(t.store);
  assert.ok(after < before, `${after} < ${before}`);
  assert.equal(report.objects, before - after);
  assert.ok(report.bytes > LARGE_OBJECT);
  assert.equal(report.dryRun, false);
});

Deno.test("collectGarbage() keeps every object of the repos still there", async () => {
  await using t = await testStore();
  await twoRepos(t);
  await deleteRepo(t.store, "gone");
  await collectGarbage(t.store);
  assert.equal(await readText(t.store, "kept@master:/k"), "kept content");
  await verifyStore(t.store);
});

Deno.test("collectGarbage() with dryRun deletes nothing but reports what it would free", async () => {
  await using t = await testStore();
  await twoRepos(t);
  await deleteRepo(t.store, "gone");
  const before = await countObjects(t.store);
  const dry = await collectGarbage(t.store, { dryRun: true });
  assert.equal(await countObjects(t.store), before);
  assert.equal(dry.dryRun, true);
  const real = await collectGarbage(t.store);
  assert.equal(dry.objects, real.objects);
});

Deno.test("collectGarbage() frees nothing while every repo is live", async () => {
  await using t = await testStore();
  await twoRepos(t);
  await putText(t, "kept@master:/k", "overwritten");
  await deleteFile(t.store, "gone@master:/big");
  const before = await countObjects(t.store);
  const report = await collectGarbage(t.store);
  assert.equal(report.objects, 0);
  assert.equal(await countObjects(t.store), before);
});

Deno.test("collectGarbage() frees nothing after a branch's first putFile()", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "1");
  assert.equal((await collectGarbage(t.store)).objects, 0);
});

Deno.test("collectGarbage() keeps commits of a deleted branch", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const c = await putText(t, "r@dev:/a", "on dev only");
  await deleteBranch(t.store, "r@dev");
  await collectGarbage(t.store);
  assert.equal(await readText(t.store, `r@${c.commit.id}:/a`), "on dev only");
});

// ---- verify and the ledger ----

Deno.test("verifyStore() passes on an empty store", async () => {
  await using t = await testStore();
  const r = await verifyStore(t.store);
  assert.equal(r.entries, 0);
});

Deno.test("verifyStore() passes after every kind of change", async () => {
  await using t = await testStore();
  await twoRepos(t);
  const old = await putText(t, "kept@master:/k", "more", { append: true });
  await putText(t, "kept@master:/d/e", "x");
  await deleteFile(t.store, "kept@master:/d");
  await revert(t.store, "kept@master", { to: old.commit.id });
  await createBranch(t.store, "kept@dev", { head: "master^" });
  await putText(t, "kept@dev:/f", "dev");
  await deleteBranch(t.store, "kept@dev");
  await deleteRepo(t.store, "gone");
  await collectGarbage(t.store, { dryRun: true });
  await collectGarbage(t.store);
  const r = await verifyStore(t.store);
  assert.equal(r.entries, (await t.store.state()).ledger.seq);
  assert.ok(r.commits >= 4);
});

Deno.test("verifyStore() reports a loose object whose bytes were altered", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a", "original");
  const path = t.store.objects.loosePath(sha256("original"));
  await Deno.chmod(path, 0o644);
  await Deno.writeTextFile(path, "tampered");
  await rejectsWith(verifyStore(t.store), IntegrityError, "INTEGRITY");
});

Deno.test("ledger entries chain: each prev is the hash of the line before", async () => {
  await using t = await testStore();
  await threeCommits(t);
  await createBranch(t.store, "r@dev", { head: "master" });
  await deleteRepo(t.store, "r");
  const lines = (await Deno.readTextFile(`${t.store.root}/ledger`)).split("\n");
  assert.equal(lines.pop(), "");
  assert.ok(lines.length >= 5);
  let prev = GENESIS;
  lines.forEach((line, i) => {
    const entry = JSON.parse(line) as LedgerEntry;
    assert.equal(entry.seq, i + 1);
    assert.equal(entry.prev, prev);
    prev = sha256(line);
  });
  assert.equal((await t.store.state()).ledger.hash, prev);
});

Deno.test("a failed operation appends nothing to the ledger", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const before = await Deno.readTextFile(`${t.store.root}/ledger`);
  await rejectsWith(createRepo(t.store, "r"), AlreadyExistsError, "ALREADY_EXISTS");
  await rejectsWith(deleteFile(t.store, "r@master:/a"), NotFoundError, "NOT_FOUND");
  assert.equal(await Deno.readTextFile(`${t.store.root}/ledger`), before);
});

Deno.test("editTree() and walk() handle a path 3,000 folders deep without exhausting the stack", async () => {
  await using t = await testStore();
  const batch = t.store.objects.batch();
  const blob = await batch.add(new TextEncoder().encode("leaf\n"));
  const path = [...Array<string>(2_999).fill("d"), "leaf.txt"];
  const root = await t.store.editTree(
    EMPTY_TREE,
    [{ op: "put", path, hash: blob, size: 5 }],
    batch,
  );
  const sibling = [...Array<string>(2_999).fill("d"), "other.txt"];
  const next = await t.store.editTree(root.hash, [
    { op: "put", path: sibling, hash: blob, size: 5 },
  ], batch);
  await batch.flush();
  const files: string[] = [];
  for await (const f of t.store.walk(next.hash, [])) files.push(f.path);
  const dir = "/d".repeat(2_999);
  assert.deepEqual(files, [`${dir}/leaf.txt`, `${dir}/other.txt`]);
  assert.equal(next.size, 10);
});

Deno.test("transact() with a batch writes its objects with the transaction's, and the commit verifies", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const batch = t.store.objects.batch();
  const blob = await batch.add(new TextEncoder().encode("in the batch\n"));
  assert.equal(await t.store.objects.has(blob), false);
  await t.store.transact(async (tx) => {
    await tx.commit("r", "master", async () => {
      const tree = encodeTree([{ name: "a.txt", kind: "file", hash: blob, size: 13 }]);
      return { tree: await tx.batch.add(tree), size: 13 };
    }, { message: "", origin: "user" });
  }, { batch });
  assert.equal(await t.store.objects.has(blob), true);
  await verifyStore(t.store);
});

Deno.test("transact() with a batch that fails writes none of the batch's objects", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  const batch = t.store.objects.batch();
  const blob = await batch.add(new TextEncoder().encode("never committed\n"));
  const ledger = await Deno.readFile(t.store.layout.ledger);
  await assert.rejects(
    t.store.transact(() => Promise.reject(new Error("refused under the lock")), { batch }),
    /refused under the lock/,
  );
  assert.equal(await t.store.objects.has(blob), false);
  assert.deepEqual(await Deno.readFile(t.store.layout.ledger), ledger);
});
