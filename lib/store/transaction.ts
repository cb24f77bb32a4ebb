/**
 * A transaction in progress: it sees the state as of the store lock, records changes (each
 * applied to its state at once) and collects the objects it writes; the store appends its
 * changes to the ledger as one entry when it ends.
 */
import type { ObjectBatch } from "./batch.ts";
import { type Commit, encodeCommit } from "./codec.ts";
import type { Hash } from "./hash.ts";
import type { CommitInfo } from "./reader.ts";
import { repoOf } from "./refs.ts";
import { applyEntry, type Change, type StoreState } from "./state.ts";

/** A transaction in progress: the state as of the lock, pending objects and changes. */
export class Transaction {
  readonly state: StoreState;
  /** ISO time of the transaction (all its commits and its ledger entry). */
  readonly time: string;
  readonly batch: ObjectBatch;
  readonly changes: Change[] = [];
  readonly #readCommit: (id: string) => Promise<Commit>;

  constructor(
    state: StoreState,
    time: string,
    parts: { batch: ObjectBatch; readCommit: (id: string) => Promise<Commit> },
  ) {
    this.state = state;
    this.time = time;
    this.batch = parts.batch;
    this.#readCommit = parts.readCommit;
  }

  /** Record a change and apply it to this transaction's state. */
  change(c: Change): void {
    this.changes.push(c);
    applyEntry(this.state, {
      seq: this.state.ledger.seq + 1,
      prev: this.state.ledger.hash,
      time: this.time,
      changes: [c],
    });
  }

  /** Write a commit object and move `branch` to it (creating the branch if needed). */
  async commit(
    repoName: string,
    branch: string,
    make: (parent: CommitInfo | null) => Promise<{ tree: Hash; size: number }>,
    meta: Pick<Commit, "message" | "origin"> & Partial<Pick<Commit, "revertOf" | "provenance">>,
  ): Promise<CommitInfo> {
    const repo = repoOf(this.state, repoName);
    const head = repo.branches[branch]?.head ?? null;
    const parent = head === null ? null : { id: head, commit: await this.#readCommit(head) };
    const { tree, size } = await make(parent);
    const commit: Commit = {
      repo: repoName,
      parent: head,
      tree,
      size,
      time: this.time,
      message: meta.message,
      branch,
      origin: meta.origin,
      ...(meta.revertOf ? { revertOf: meta.revertOf } : {}),
      ...(meta.provenance ? { provenance: meta.provenance } : {}),
    };
    const id = await this.batch.add(encodeCommit(commit));
    this.change({ type: "commit", repo: repoName, commit: id });
    this.change({ type: "branch:move", repo: repoName, branch, from: head, to: id });
    return { id, commit };
  }
}
