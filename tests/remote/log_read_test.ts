/**
 * Reading a remote's log while another push appends to it: the listing and the HEAD hint are
 * read one after the other, so a HEAD naming an entry the listing lacked is either a log that
 * grew meanwhile (read again) or a truncated one (refused).
 */
import assert from "node:assert/strict";
import { IntegrityError } from "../../lib/errors.ts";
import { RemoteCache } from "../../lib/remote/cache.ts";
import { FolderBackend } from "../../lib/remote/folder_backend.ts";
import { readRemote } from "../../lib/remote/remote_log.ts";
import { KEYS } from "../../lib/remote/remote_format.ts";
import type { RemoteKey } from "../../lib/remote/backend.ts";
import { Layout } from "../../lib/store/layout.ts";
import { tempDir } from "../_helpers.ts";
import { rok } from "./_remote.ts";

/** A folder backend whose first listing of the log misses its last `hide` entries. */
class StaleListing extends FolderBackend {
  #hide: number;
  constructor(root: string, hide: number) {
    super(root);
    this.#hide = hide;
  }
  override async list(prefix: string): Promise<RemoteKey[]> {
    const keys = await super.list(prefix);
    if (prefix !== KEYS.log || this.#hide === 0) return keys;
    const stale = keys.slice(0, keys.length - this.#hide);
    this.#hide = 0;
    return stale;
  }
}

/** A store pushed twice to a folder remote: a log of 2 entries, HEAD naming entry 2. */
async function remoteOfTwo(dir: string): Promise<{ remote: string; cache: RemoteCache }> {
  const o = { store: `${dir}/a/.tusk` };
  await rok(["init"], o);
  await rok(["remote", "add", "origin", `${dir}/remote`], o);
  await rok(["create", "repo", "one"], o);
  await rok(["push", "origin"], o);
  await rok(["create", "repo", "two"], o);
  await rok(["push", "origin"], o);
  // A store that saw nothing of the remote yet reads it from the start.
  await rok(["init"], { store: `${dir}/b/.tusk` });
  return {
    remote: `${dir}/remote`,
    cache: new RemoteCache(new Layout(`${dir}/b/.tusk`), "origin"),
  };
}

Deno.test("a log that grew between its listing and its HEAD is read again, not called truncated", async () => {
  await using dir = await tempDir();
  const { remote, cache } = await remoteOfTwo(dir.path);
  const backend = new StaleListing(remote, 1);
  const view = await readRemote(backend, cache);
  assert.equal(view.head?.seq, 2);
  backend.close();
});

Deno.test("a HEAD naming an entry the log does not hold is refused as a truncated log", async () => {
  await using dir = await tempDir();
  const { remote, cache } = await remoteOfTwo(dir.path);
  await Deno.remove(`${remote}/${KEYS.entry(2)}`);
  const backend = new FolderBackend(remote);
  await assert.rejects(readRemote(backend, cache), (err) => {
    assert.ok(err instanceof IntegrityError, String(err));
    assert.equal((err.data as { problem?: string }).problem, "truncated");
    assert.match(err.message, /log entry 2 is missing \(its HEAD names it/);
    return true;
  });
  backend.close();
});
