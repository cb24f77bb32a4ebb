/**
 * `pull`: take what a remote has that this store lacks, checked, then move the local heads
 * in one ledger transaction.
 *
 * Nothing is written before everything is decided (`pull_plan.ts`): a pull that would drop
 * commits is refused with nothing changed. Then every object this store lacks is fetched
 * and re-hashed, written only once it matches its name (blobs first, then the commits and
 * trees above them as one pack), the jobs' records and datum index entries are added, and
 * one transaction records the new commits, moves the branches and records the pipelines. A
 * pull stopped anywhere leaves the store as it was (objects it wrote are unreferenced, and
 * kept for the next run, which fetches only the rest).
 */
import { RemoteConflictError, RemoteError } from "../errors.ts";
import { JobStore } from "../pipeline/jobs.ts";
import { PIPELINE_KIND } from "../pipeline/kind.ts";
import { writeFileAtomic } from "../store/fs_util.ts";
import type { Hash } from "../store/hash.ts";
import { LARGE_OBJECT } from "../store/objects.ts";
import type { Store } from "../store/store.ts";
import { RemoteCache, seenOf } from "./cache.ts";
import type { TransferOptions, TransferResult } from "./progress.ts";
import { isEmptyPlan, type LocalSide, planPull } from "./pull_plan.ts";
import { readRemote } from "./remote_log.ts";
import { RemoteObjects } from "./remote_objects.ts";
import { parseSelection } from "./selection.ts";

/** Small objects fetched are written to the store in packs of about this many bytes. */
const WRITE_BATCH = 32 << 20;

/** Pull from a remote into `store`; see the module's doc. */
export async function pull(store: Store, options: TransferOptions): Promise<TransferResult> {
  const { backend } = options;
  const url = backend.url;
  const sel = parseSelection(options.refs ?? []);
  const cache = new RemoteCache(store.layout, options.remote);
  const view = await readRemote(backend, cache);
  const head = view.head;
  if (!head) {
    throw new RemoteError(
      `Remote "${options.remote}" (${url}) is empty: nothing was pushed to it yet`,
      { remote: options.remote, problem: "empty" },
    );
  }
  const objects = new RemoteObjects(backend, cache, view);
  const jobStore = new JobStore(store);
  const local: LocalSide = {
    state: await store.state(),
    has: (h) => store.objects.has(h),
    read: (h) => store.objects.read(h),
    hasJob: async (pipeline, id) => {
      try {
        await Deno.lstat(store.layout.job(pipeline, id));
        return true;
      } catch {
        return false;
      }
    },
    datumIndexOf: (p) => jobStore.datumIndexOf(p),
  };
  const plan = await planPull(local, { name: options.remote, view, objects, selection: sel });
  const { moves, newRepos, pipelines: takenPipes, jobFiles, datums, meta, blobs, commits } = plan;
  const seenNow = seenOf(url, view, plan.jobs);

  if (isEmptyPlan(plan)) {
    await cache.saveSeen(seenNow);
    backend.close();
    return {
      remote: options.remote,
      url,
      upToDate: true,
      branches: [],
      pipelines: [],
      jobs: 0,
      objects: 0,
      bytes: 0,
      packs: 0,
      requests: backend.requests,
      entry: view.seq,
    };
  }

  // ---- fetch and write: blobs, then the commits and trees above them, then one transaction ----
  let total = 0;
  for (const [h, s] of blobs) {
    total += s ?? ((await objects.locate(h)) as { length?: number })?.length ?? 0;
  }
  for (const b of meta.values()) total += b.length;
  const totalObjects = blobs.size + meta.size;
  let done = 0;
  let bytes = 0;
  const report = (n: number, b: number) => {
    done += n;
    bytes += b;
    options.onProgress?.({
      direction: "pull",
      objects: done,
      totalObjects,
      bytes,
      totalBytes: total,
    });
  };
  let packsWritten = 0;
  const result = await store.withIngest(async () => {
    const packed: Hash[] = [];
    for (const [h] of blobs) {
      const at = await objects.locate(h);
      if (at === "loose") {
        let size = 0;
        await store.objects.writeStream(await objects.stream(h), (n) => (size += n), {
          expect: h,
          mismatch: () => objects.corrupt(h),
        });
        objects.bytes += size;
        report(1, size);
      } else packed.push(h);
    }
    let batch = new Map<Hash, Uint8Array>();
    let batchBytes = 0;
    const flush = async () => {
      if (batch.size === 0) return;
      if (batch.size >= 16) {
        await store.objects.writePack(batch);
        packsWritten++;
      } else for (const [h, b] of batch) await store.objects.writeLoose(b, h);
      batch = new Map();
      batchBytes = 0;
    };
    await objects.ranges(packed, async (h, b) => {
      batch.set(h, b.slice());
      batchBytes += b.length;
      report(1, b.length);
      if (batchBytes >= WRITE_BATCH || b.length >= LARGE_OBJECT) await flush();
    });
    // The commits and trees as one pack: whole or not at all, so a tree this store holds
    // always has everything under it. The last few blobs go into it too, rather than one
    // file (and fsync) each.
    if (meta.size) {
      let n = 0;
      for (const b of meta.values()) n += b.length;
      const last = new Map([...batch, ...meta]);
      batch = new Map();
      await store.objects.writePack(last);
      packsWritten++;
      report(meta.size, n);
    } else await flush();
    return await store.transact(async (tx) => {
      for (const m of moves) {
        const now = tx.state.repos[m.repo]?.branches[m.branch]?.head ?? null;
        if (now !== m.from) {
          throw new RemoteConflictError(
            `${m.repo}@${m.branch} moved here during the pull (to ${now}): nothing was changed; run the pull again`,
            { repo: m.repo, branch: m.branch },
          );
        }
      }
      // Each pipeline's job index names the pulled jobs before their records are written.
      const pulled = new Map<string, string[]>();
      for (const f of jobFiles) pulled.set(f.pipeline, [...pulled.get(f.pipeline) ?? [], f.id]);
      for (const [p, ids] of pulled) await jobStore.index(p).add(ids, { durable: true });
      for (const f of jobFiles) {
        const dir = store.layout.jobDir(f.pipeline);
        await Deno.mkdir(dir, { recursive: true });
        await writeFileAtomic(store.layout.job(f.pipeline, f.id), f.bytes, store.layout.tmp);
      }
      for (const d of datums) await jobStore.appendDatums(d.pipeline, d.entries);
      for (const r of newRepos) {
        if (!tx.state.repos[r.repo]) {
          tx.change({ type: "repo:create", repo: r.repo, description: r.description });
        }
      }
      for (const c of commits) {
        for (const id of c.ids) tx.change({ type: "commit", repo: c.repo, commit: id });
      }
      for (const m of moves) {
        tx.change({ type: "branch:move", repo: m.repo, branch: m.branch, from: m.from, to: m.to });
      }
      for (const p of takenPipes) {
        tx.change({
          type: "meta:put",
          kind: PIPELINE_KIND,
          name: p.name,
          objects: p.rec.objects,
          value: p.rec.value,
        });
      }
      return null;
    });
  });
  void result;
  await cache.saveSeen(seenNow);
  backend.close();
  return {
    remote: options.remote,
    url,
    upToDate: false,
    branches: moves,
    pipelines: takenPipes.map((p) => ({ name: p.name, version: p.value.version })),
    jobs: jobFiles.length,
    objects: totalObjects,
    bytes: objects.bytes,
    packs: packsWritten,
    requests: backend.requests,
    entry: view.seq,
  };
}
