/**
 * Cron inputs: the next tick of a spec (`@every 2s` or a cron expression through croner)
 * and the tick commit itself — a file named after the tick time committed to the cron repo,
 * replacing earlier ticks when `overwrite` is set, as Pachyderm does.
 */
import { Cron } from "croner";
import type { CommitInfo, Store } from "../store/store.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { CronInput } from "../pipeline/spec/input.ts";
import { parseCronSpec } from "../pipeline/spec/units.ts";

/** The first tick strictly after `after`. */
export function nextTick(spec: string, after: Date, start?: Date): Date {
  const s = parseCronSpec(spec, "cron.spec");
  if (s.kind === "every") {
    const origin = (start ?? new Date(0)).getTime();
    const n = Math.floor((after.getTime() - origin) / s.everyMs) + 1;
    return new Date(origin + n * s.everyMs);
  }
  const next = new Cron(s.pattern, { paused: true }).nextRun(after);
  if (!next) return new Date(8.64e15);
  return next;
}

/** Commit one tick file to the cron input's repo. */
export async function commitTick(store: Store, input: CronInput, tick: Date): Promise<CommitInfo> {
  const name = tick.toISOString().replace(/\.\d{3}Z$/, "Z");
  return await store.transact(async (tx) => {
    return await tx.commit(input.repo, "master", async (parent) => {
      const bytes = new TextEncoder().encode(`${name}\n`);
      const hash = await tx.batch.add(bytes);
      const edits = [{ op: "put" as const, path: [name], hash, size: bytes.length }];
      const base = input.overwrite || !parent ? EMPTY_TREE : parent.commit.tree;
      const r = await store.editTree(base, edits, tx.batch);
      return { tree: r.hash, size: r.size };
    }, { message: `Cron tick ${name}`, origin: "user" });
  });
}
