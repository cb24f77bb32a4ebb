/**
 * Two pushes to one remote: the one that creates the next log entry first wins; the other is
 * refused with nothing of it committed, and its retry sends nothing twice. Deterministic: the
 * second push is made to land while the first is about to commit.
 */
import assert from "node:assert/strict";
import { RemoteConflictError } from "../../lib/errors.ts";
import { remoteAdd } from "../../lib/remote.ts";
import { FolderBackend } from "../../lib/remote/folder_backend.ts";
import { push } from "../../lib/remote/push.ts";
import { verifyRemote } from "../../lib/remote/verify_remote.ts";
import { RemoteCache } from "../../lib/remote/cache.ts";
import { Store } from "../../lib/store/store.ts";
import { tempDir } from "../_helpers.ts";
import { rok } from "./_remote.ts";

/** A folder remote that runs `before` once, just before its first exclusive create. */
class RacingFolder extends FolderBackend {
  #before: (() => Promise<void>) | null;
  constructor(root: string, before: () => Promise<void>) {
    super(root);
    this.#before = before;
  }
  override async create(key: string, bytes: Uint8Array): Promise<boolean> {
    const run = this.#before;
    this.#before = null;
    await run?.();
    return await super.create(key, bytes);
  }
}

Deno.test("the push that loses the race for the next log entry is refused, commits nothing, and its retry lands", async () => {
  await using dir = await tempDir();
  const remote = `${dir.path}/remote`;
  const stores: Store[] = [];
  for (const name of ["a", "b"]) {
    const o = { store: `${dir.path}/${name}/.tusk` };
    await rok(["init"], o);
    await rok(["create", "repo", `repo-${name}`], o);
    await rok(["put", "file", `repo-${name}@master:/f`, "-f", "-"], { ...o, stdin: `${name}\n` });
    const store = await Store.open(o.store);
    await remoteAdd(store, { name: "origin", url: remote, cwd: dir.path });
    stores.push(store);
  }
  const [a, b] = stores as [Store, Store];
  const racing = new RacingFolder(remote, async () => {
    await push(b, { remote: "origin", backend: new FolderBackend(remote) });
  });
  await assert.rejects(
    push(a, { remote: "origin", backend: racing }),
    (e) => e instanceof RemoteConflictError && e.data.entry === 1,
  );
  const log = [...Deno.readDirSync(`${remote}/log`)].map((e) => e.name);
  assert.deepEqual(log, ["000000000001"], "only the winner's entry");
  const retry = await push(a, { remote: "origin", backend: new FolderBackend(remote) });
  assert.equal(retry.entry, 2);
  assert.equal(retry.objects, 0, "what the refused push uploaded was taken up, not sent again");
  const report = await verifyRemote(new FolderBackend(remote), new RemoteCache(a.layout, "check"));
  assert.equal(report.entries, 2);
  for (const s of stores) s.objects.close();
});
