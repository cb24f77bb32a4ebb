/** A commit's history, read through any source of commits: whether one commit is in another's. */
import { decodeCommit } from "../store/codec.ts";

/** Reads a commit's bytes, or null when the source lacks it. */
export type CommitSource = (id: string) => Promise<Uint8Array | null>;

/**
 * The history of `head`, newest first: its id, then its parents' (followed through `read`),
 * ending at `stop` when it is met (so `stop` is in `head`'s history exactly when it is the
 * last id), else at the first commit or at the first one `read` lacks. Each commit is read
 * once, so a caller that needs both answers, whether `stop` is an ancestor and where two
 * histories meet (`divergence()`), walks once.
 */
export async function historyOf(
  read: CommitSource,
  head: string,
  stop?: string,
): Promise<string[]> {
  const out: string[] = [];
  const seen = new Set<string>();
  for (let id: string | null = head; id !== null && !seen.has(id);) {
    seen.add(id);
    out.push(id);
    if (id === stop) break;
    const bytes = await read(id);
    if (bytes === null) break;
    id = decodeCommit(bytes, id).parent;
  }
  return out;
}
