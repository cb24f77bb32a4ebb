/**
 * `verify` while other processes write: what they commit, or a running job writes, after
 * verify listed the store's objects is not in that listing, and must not be called missing.
 * The writes are made from verify's extra-roots hook, which runs after the listing (another
 * `Store` on the same folder, as another process would), so the race is hit every time.
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { putFile } from "../../lib/commands/put_file.ts";
import { Store } from "../../lib/store/store.ts";
import { type ExtraRoots, verifyStore } from "../../lib/store/verify.ts";
import { putText, testStore } from "./_fixtures.ts";

const NONE: ExtraRoots = { trees: [], blobs: [] };

/** Put `text` at `target` through a second store on the same folder, as another process. */
async function putElsewhere(root: string, host: string, target: string, text: string) {
  const other = await Store.open(root);
  try {
    await Deno.writeTextFile(host, text);
    return await putFile(other, target, { sources: [host] });
  } finally {
    other.objects.close();
  }
}

Deno.test("verifyStore() does not call missing a commit made after it listed the objects", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "one\n");
  let put = false;
  const report = await verifyStore(t.store, {
    extraRoots: async () => {
      await putElsewhere(t.store.layout.root, `${t.dir}/host/b.txt`, "r@master:/b.txt", "two\n");
      put = true;
      return NONE;
    },
  });
  assert.ok(put, "the other put ran while verify did");
  // The store it verified: the ledger up to the state it read, one commit.
  assert.equal(report.entries, 2);
  assert.equal(report.commits, 1);
  // And the next verify sees both commits, whole.
  const next = await verifyStore(t.store);
  assert.equal(next.commits, 2);
});

Deno.test("verifyStore() does not call stale a job's output written after it listed the objects", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "one\n");
  await verifyStore(t.store, {
    extraRoots: async () => {
      // A job's output, written (here as a commit of another repo) after the listing and
      // named by a datum index entry.
      const other = await Store.open(t.store.layout.root);
      try {
        await createRepo(other, "out");
      } finally {
        other.objects.close();
      }
      const made = await putElsewhere(
        t.store.layout.root,
        `${t.dir}/host/c.txt`,
        "out@master:/c.txt",
        "three\n",
      );
      return {
        trees: [{
          hash: (await t.store.readCommit(made.commit.id)).tree,
          what: "the output of datum d of job j",
          cache: { repair: "run gc" },
        }],
        blobs: [],
      };
    },
  });
});

Deno.test("verifyStore() still names an extra root that is missing, listed or not", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "one\n");
  const gone = "ab".repeat(32);
  await assert.rejects(
    verifyStore(t.store, {
      extraRoots: () =>
        Promise.resolve({ trees: [{ hash: gone, what: "the output of job j" }], blobs: [] }),
    }),
    (err: unknown) => err instanceof IntegrityError && err.data.problem === "missing",
  );
  await assert.rejects(
    verifyStore(t.store, {
      extraRoots: () =>
        Promise.resolve({ trees: [], blobs: [{ hash: gone, what: "the log of job j" }] }),
    }),
    (err: unknown) => err instanceof IntegrityError && err.data.problem === "missing",
  );
});

Deno.test("verifyStore() does not call altered a ledger a put appended to while it read", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "one\n");
  // Another process's put lands between verify's read of the ledger and its read of the
  // state file (the first read of the state file, once).
  const read = t.store.stateFile.bind(t.store);
  let put = false;
  t.store.stateFile = async () => {
    if (!put) {
      put = true;
      await putElsewhere(t.store.layout.root, `${t.dir}/host/b.txt`, "r@master:/b.txt", "two\n");
    }
    return await read();
  };
  const report = await verifyStore(t.store);
  assert.ok(put, "the other put ran while verify did");
  assert.equal(report.entries, 3);
  assert.equal(report.commits, 2);
});

Deno.test("verifyStore() still names a ledger line appended by hand, read again under the lock", async () => {
  await using t = await testStore();
  await createRepo(t.store, "r");
  await putText(t, "r@master:/a.txt", "one\n");
  // A copy of the first line appended by hand: it does not chain, under the store lock as
  // without it, and that is reported.
  const ledger = `${t.store.layout.root}/ledger`;
  const lines = (await Deno.readTextFile(ledger)).trimEnd().split("\n");
  await Deno.writeTextFile(ledger, lines[0] + "\n", { append: true });
  await assert.rejects(
    verifyStore(t.store),
    (err: unknown) => err instanceof IntegrityError && /Ledger entry 3/.test(err.message),
  );
});
