/** Whether one commit is in another's history, read through any source of commits. */
import { decodeCommit } from "../store/codec.ts";

/** Reads a commit's bytes, or null when the source lacks it. */
export type CommitSource = (id: string) => Promise<Uint8Array | null>;

/**
 * True when `ancestor` is `descendant` or in its history (parents followed through `read`);
 * false when the history ends, or reaches a commit `read` lacks, without meeting it.
 */
export async function isAncestor(
  read: CommitSource,
  ancestor: string,
  descendant: string,
): Promise<boolean> {
  let id: string | null = descendant;
  const seen = new Set<string>();
  while (id !== null && !seen.has(id)) {
    if (id === ancestor) return true;
    seen.add(id);
    const bytes = await read(id);
    if (bytes === null) return false;
    id = decodeCommit(bytes, id).parent;
  }
  return false;
}
