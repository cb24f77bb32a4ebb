/**
 * `remote verify`: check a whole remote as a clone would take it, without writing anything
 * here: its log chained from the first entry, every pack and large object its log names
 * there, and every object in them re-hashed (each pack whole, its headers too, as a clone
 * copies it).
 */
import { createHasher, type Hash } from "../store/hash.ts";
import type { RemoteBackend } from "./backend.ts";
import type { RemoteCache } from "./cache.ts";
import { readRemote } from "./remote_log.ts";
import { RemoteObjects } from "./remote_objects.ts";

/** What `remote verify` checked. */
export interface RemoteVerifyReport {
  readonly url: string;
  readonly entries: number;
  readonly packs: number;
  readonly objects: number;
  readonly bytes: number;
}

/** Check every entry, pack and object of a remote; throws IntegrityError naming the first fault. */
export async function verifyRemote(
  backend: RemoteBackend,
  cache: RemoteCache,
): Promise<RemoteVerifyReport> {
  const view = await readRemote(backend, cache, { fromStart: true });
  const objects = new RemoteObjects(backend, cache, view);
  let count = 0;
  for (const p of view.packs) count += (await objects.wholePack(p.name)).objects;
  for (const h of view.objects) {
    const hasher = await createHasher();
    for await (const chunk of await objects.stream(h)) {
      hasher.update(chunk);
      objects.bytes += chunk.length;
    }
    if (hasher.hex() !== (h as Hash)) throw objects.corrupt(h);
    count++;
  }
  return {
    url: backend.url,
    entries: view.seq,
    packs: view.packs.length,
    objects: count,
    bytes: objects.bytes,
  };
}
