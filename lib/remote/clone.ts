/**
 * `clone`: a new store made from a remote in one go, not an empty store and then a pull.
 *
 * The remote's log is read and checked from its first entry, and what to take is decided
 * as for a pull into an empty store (`pull_plan.ts`: every commit and tree read, checked
 * against its hash and for its repo and names, every object they need found). Then the store
 * is written straight into a staging folder beside its place (`createFolder()`): the
 * remote's packs as they are, since they are in the store's pack format (each pack's
 * header, every object's header and every object's bytes checked against its hash first),
 * its large objects, the job records and datum indexes, a ledger of one entry with its
 * state, the remote `origin` and what was seen of it. Everything in it but that cache of the
 * remote is synced at once, then the folder is renamed into place: a clone stopped anywhere
 * leaves no store, and one that has returned survives a crash (its cache may not, which costs
 * the next pull a re-read of the remote's log and indexes).
 */
import { RemoteError } from "../errors.ts";
import { isFanout } from "../store/fanout_codec.ts";
import { Layout } from "../store/layout.ts";
import { firstEntry } from "../store/ledger.ts";
import { checkNewFolder, createFolder } from "../store/folder.ts";
import type { Hash } from "../store/hash.ts";
import type { Change } from "../store/state.ts";
import { encodeStateFile } from "../store/state_file.ts";
import type { RemoteBackend } from "./backend.ts";
import { RemoteCache, seenOf } from "./cache.ts";
import { encodeRemotes } from "./config.ts";
import { encodeJobIndex } from "../pipeline/job_index.ts";
import { encodeDatums } from "./job_sync.ts";
import { PIPELINE_KIND } from "../pipeline/kind.ts";
import type { TransferProgress, TransferResult } from "./progress.ts";
import { emptySide, planPull, type PullPlan } from "./pull_plan.ts";
import { readRemote } from "./remote_log.ts";
import { RemoteObjects } from "./remote_objects.ts";

/** What `clone()` takes. */
export interface CloneOptions {
  /** The new store's folder (`…/.tusk`); it must not exist. */
  readonly root: string;
  readonly backend: RemoteBackend;
  /** The name the remote gets in the new store. */
  readonly remote: string;
  readonly clock?: () => Date;
  readonly onProgress?: (p: TransferProgress) => void;
  /** Called with the staging folder once it exists: the folder to remove if stopped. */
  readonly onStaging?: (path: string) => void;
}

/** Make the store `options.root` from the remote on `options.backend`; see the module's doc. */
export async function clone(options: CloneOptions): Promise<TransferResult> {
  const { backend, remote } = options;
  const url = backend.url;
  checkNewFolder(options.root);
  const cache = new RemoteCache(new Layout(Layout.staging(options.root, Deno.pid)), remote);
  const view = await readRemote(backend, cache, { fromStart: true });
  if (!view.head) {
    throw new RemoteError(
      `Cannot clone "${url}": the remote is empty (nothing was pushed to it yet)`,
      {
        remote: url,
        problem: "empty",
      },
    );
  }
  const objects = new RemoteObjects(backend, cache, view);
  const plan = await planPull(emptySide(), { name: remote, view, objects, selection: null });
  const time = (options.clock ?? (() => new Date()))().toISOString();
  const { ledger, state } = await firstEntry(time, changesOf(plan));

  // Everything the remote holds: each pack's objects, and the large objects the plan takes.
  const loose: Hash[] = [];
  for (const h of plan.blobs.keys()) if ((await objects.locate(h)) === "loose") loose.push(h);
  let totalObjects = loose.length;
  let totalBytes = 0;
  for (const p of view.packs) {
    for (const e of await objects.index(p.name)) {
      totalObjects++;
      totalBytes += e.length;
    }
  }
  for (const h of loose) totalBytes += plan.blobs.get(h) ?? 0;
  let done = 0;
  let bytes = 0;
  const report = (n: number, b: number) => {
    done += n;
    bytes += b;
    options.onProgress?.({ direction: "pull", objects: done, totalObjects, bytes, totalBytes });
  };

  await createFolder(options.root, await encodeStateFile(state), {
    ledger,
    ...(options.onStaging ? { onStaging: options.onStaging } : {}),
    // Every tree the clone holds was read by the plan: a fanout among them marks the store.
    chunked: [...plan.meta.values()].some(isFanout),
    fill: async (at) => {
      // Plain synchronous writes into the staging folder, which is synced as a whole.
      const written: string[] = [at.remotes, at.packs];
      Deno.writeFileSync(at.remotes, encodeRemotes([{ name: remote, url }]));
      for (const p of view.packs) {
        const got = await objects.wholePack(p.name, (n) => report(1, n));
        Deno.writeFileSync(at.pack(p.name), got.pack);
        Deno.writeFileSync(at.packIndex(p.name), got.index);
        written.push(at.pack(p.name), at.packIndex(p.name));
      }
      // Large objects are written as they arrive, each synced and checked by the store.
      const store = loose.length ? await newObjectStore(at) : null;
      for (const h of loose) {
        let size = 0;
        await store!.writeStream(await objects.stream(h), (n) => (size += n), {
          expect: h,
          mismatch: () => objects.corrupt(h),
        });
        objects.bytes += size;
        report(1, size);
      }
      const pipelines = new Set([
        ...plan.jobFiles.map((f) => f.pipeline),
        ...plan.datums.map((d) => d.pipeline),
      ]);
      if (pipelines.size) {
        Deno.mkdirSync(at.jobs);
        written.push(at.jobs);
      }
      for (const p of pipelines) {
        Deno.mkdirSync(at.jobDir(p));
        written.push(at.jobDir(p));
      }
      for (const f of plan.jobFiles) {
        Deno.writeFileSync(at.job(f.pipeline, f.id), f.bytes);
        written.push(at.job(f.pipeline, f.id));
      }
      // Each pipeline's job index, whole: the new store appears with it or not at all.
      for (const p of new Set(plan.jobFiles.map((f) => f.pipeline))) {
        const ids = plan.jobFiles.filter((f) => f.pipeline === p).map((f) => f.id);
        Deno.writeFileSync(at.jobIndex(p), encodeJobIndex(ids));
        written.push(at.jobIndex(p));
      }
      for (const d of plan.datums) {
        Deno.writeFileSync(at.datumIndex(d.pipeline), encodeDatums(d.entries));
        written.push(at.datumIndex(d.pipeline));
      }
      // The remote's cache goes in unsynced: a crash that damages it costs a re-read.
      cache.saveSeenUnsynced(seenOf(url, view, plan.jobs));
      return written;
    },
  });
  backend.close();
  return {
    remote,
    url,
    upToDate: false,
    branches: plan.moves,
    pipelines: plan.pipelines.map((p) => ({ name: p.name, version: p.value.version })),
    jobs: plan.jobFiles.length,
    objects: done,
    bytes: objects.bytes,
    packs: view.packs.length,
    requests: backend.requests,
    entry: view.seq,
  };
}

/** The objects of the store folder `at`; loaded only for a clone with large objects. */
async function newObjectStore(at: Layout) {
  const specifier = new URL("../store/objects.ts", import.meta.url).href;
  const { ObjectStore } = await import(specifier) as typeof import("../store/objects.ts");
  return new ObjectStore(at);
}

/** The ledger changes that record what `plan` takes into an empty store, as a pull's. */
function changesOf(plan: PullPlan): Change[] {
  const changes: Change[] = [];
  for (const r of plan.newRepos) {
    changes.push({ type: "repo:create", repo: r.repo, description: r.description });
  }
  for (const c of plan.commits) {
    for (const id of c.ids) changes.push({ type: "commit", repo: c.repo, commit: id });
  }
  for (const m of plan.moves) {
    changes.push({ type: "branch:move", repo: m.repo, branch: m.branch, from: m.from, to: m.to });
  }
  for (const p of plan.pipelines) {
    changes.push({
      type: "meta:put",
      kind: PIPELINE_KIND,
      name: p.name,
      objects: p.rec.objects,
      value: p.rec.value,
    });
  }
  return changes;
}
