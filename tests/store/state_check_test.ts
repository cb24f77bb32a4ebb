/**
 * `state.json` is a cache of replaying the ledger, sealed with a checksum and tied to the
 * ledger's last entry. An edited state file, or a ledger whose end no longer matches it, is
 * refused by every command before anything is written, so the ledger never gets an entry
 * that cannot be replayed; removing the state file rebuilds it from the ledger.
 */
import assert from "node:assert/strict";
import { IntegrityError, type TuskError } from "../../lib/errors.ts";
import { listRepos } from "../../lib/commands/repo.ts";
import { createRepo } from "../../lib/commands/repo.ts";
import { Store } from "../../lib/store/store.ts";
import { verifyStore } from "../../lib/store/verify.ts";
import { putText, testStore } from "./_fixtures.ts";

/** A store with repo "r" whose master has two commits; returns both ids, oldest first. */
async function storeWithTwoCommits() {
  const t = await testStore();
  await createRepo(t.store, "r");
  const first = (await putText(t, "r@master:/a.txt", "one\n")).commit.id;
  const second = (await putText(t, "r@master:/a.txt", "two\n")).commit.id;
  return Object.assign(t, { first, second });
}

/** Rewrite state.json through JSON, as an editor or a script would, changing what `edit` does. */
async function editStateFile(root: string, edit: (state: Record<string, unknown>) => void) {
  const path = `${root}/state.json`;
  const state = JSON.parse(await Deno.readTextFile(path)) as Record<string, unknown>;
  edit(state);
  await Deno.writeTextFile(path, JSON.stringify(state));
}

/** Point master of repo "r" at `head` in state.json. */
function moveHead(head: string) {
  return (state: Record<string, unknown>) => {
    const repos = state.repos as Record<string, { branches: Record<string, { head: string }> }>;
    repos.r!.branches.master!.head = head;
  };
}

/** Assert that `promise` rejects with an IntegrityError whose message holds `text`. */
async function rejectsIntegrity(promise: Promise<unknown>, text: RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof IntegrityError, `expected IntegrityError, got ${String(err)}`);
    assert.equal((err as TuskError).code, "INTEGRITY");
    assert.match((err as Error).message, text);
    return true;
  });
}

Deno.test("a put after a branch head was edited in state.json is refused and appends nothing", async () => {
  await using t = await storeWithTwoCommits();
  await editStateFile(t.store.root, moveHead(t.first));
  const ledger = await Deno.readFile(`${t.store.root}/ledger`);
  const store = await Store.open(t.store.root);
  try {
    await rejectsIntegrity(putText({ ...t, store }, "r@master:/b.txt", "three\n"), /state file/);
  } finally {
    store.objects.close();
  }
  assert.deepEqual(await Deno.readFile(`${t.store.root}/ledger`), ledger);
});

Deno.test("reading the state after a branch head was edited in state.json is refused naming the fix", async () => {
  await using t = await storeWithTwoCommits();
  await editStateFile(t.store.root, moveHead(t.first));
  await rejectsIntegrity(listRepos(t.store), /state\.json.*rebuild/);
});

Deno.test("verifyStore() reports a branch head edited in state.json", async () => {
  await using t = await storeWithTwoCommits();
  await editStateFile(t.store.root, moveHead(t.first));
  await rejectsIntegrity(verifyStore(t.store), /state file/);
});

Deno.test("removing an edited state.json rebuilds it from the ledger, and puts go on", async () => {
  await using t = await storeWithTwoCommits();
  await editStateFile(t.store.root, moveHead(t.first));
  await Deno.remove(`${t.store.root}/state.json`);
  assert.equal((await t.store.state()).repos.r!.branches.master!.head, t.second);
  const third = (await putText(t, "r@master:/b.txt", "three\n")).commit;
  assert.equal(third.commit.parent, t.second);
  await verifyStore(t.store);
});

Deno.test("a state.json without a checksum, as older versions wrote, is rebuilt from the ledger", async () => {
  await using t = await storeWithTwoCommits();
  await editStateFile(t.store.root, (state) => {
    delete state.checksum;
    moveHead(t.first)(state);
  });
  assert.equal((await t.store.state()).repos.r!.branches.master!.head, t.second);
  const rewritten = JSON.parse(await Deno.readTextFile(`${t.store.root}/state.json`));
  assert.match(rewritten.checksum, /^[0-9a-f]{64}$/);
  await verifyStore(t.store);
});

Deno.test("a put after the last ledger entry was altered is refused and appends nothing", async () => {
  await using t = await storeWithTwoCommits();
  const path = `${t.store.root}/ledger`;
  const text = await Deno.readTextFile(path);
  const last = text.lastIndexOf("\n", text.length - 2) + 1;
  // The time of the last entry moves by a second: still a valid entry, no longer the one recorded.
  const at = text.indexOf('"time":"', last) + '"time":"2024-01-01T00:00:0'.length;
  assert.match(text[at]!, /[0-8]/);
  const altered = text.slice(0, at) + String(Number(text[at]) + 1) + text.slice(at + 1);
  await Deno.writeTextFile(path, altered);
  const store = await Store.open(t.store.root);
  try {
    await rejectsIntegrity(putText({ ...t, store }, "r@master:/b.txt", "three\n"), /[Ll]edger/);
  } finally {
    store.objects.close();
  }
  assert.equal(await Deno.readTextFile(path), altered);
});

Deno.test("a put after the whole last ledger entry was removed is refused and appends nothing", async () => {
  await using t = await storeWithTwoCommits();
  const path = `${t.store.root}/ledger`;
  const text = await Deno.readTextFile(path);
  const cut = text.slice(0, text.lastIndexOf("\n", text.length - 2) + 1);
  await Deno.writeTextFile(path, cut);
  await rejectsIntegrity(putText(t, "r@master:/b.txt", "three\n"), /[Ll]edger/);
  assert.equal(await Deno.readTextFile(path), cut);
});
