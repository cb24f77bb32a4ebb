/**
 * Packs as a remote holds them, pure: the store's pack and index formats, named by the
 * SHA-256 of the index (which names every object in the pack and where it lies), so a pack
 * name in the log vouches for its index, and each object is checked by its own hash.
 */
import { type Hash, sha256Async } from "../store/hash.ts";
import { encodePack } from "../store/pack_codec.ts";
import { encodeIndex } from "../store/pack_index.ts";
import { concatBytes } from "../store/fs_util.ts";

/** A pack ready to upload. */
export interface BuiltPack {
  readonly name: Hash;
  readonly pack: Uint8Array;
  readonly index: Uint8Array;
  readonly objects: number;
}

/** Build one pack of `objects`. */
export async function buildPack(objects: ReadonlyMap<Hash, Uint8Array>): Promise<BuiltPack> {
  const { entries, pieces } = encodePack(objects);
  const pack = concatBytes([...pieces]);
  const index = await encodeIndex(entries);
  return { name: await sha256Async(index), pack, index, objects: objects.size };
}

/** A data pack is closed once it holds this many bytes. */
export const PACK_BYTES = 32 << 20;
