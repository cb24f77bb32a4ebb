/**
 * `pull`: take what a remote has that this store lacks, checked, then move the local heads
 * in one ledger transaction.
 *
 * Nothing is written before everything is decided: each branch must move fast-forward (the
 * local head is in the remote branch's history; a local branch ahead of the remote is left
 * as it is), each pipeline forward; else the pull is refused with nothing changed. Then
 * every object this store lacks is fetched and re-hashed, written only once it matches its
 * name (blobs first, then the commits and trees above them as one pack), the jobs' records
 * and datum index entries are added, and one transaction records the new commits, moves the
 * branches and records the pipelines. A pull stopped anywhere leaves the store as it was
 * (objects it wrote are unreferenced, and kept for the next run, which fetches only the
 * rest).
 */
import {
  IntegrityError,
  NotFastForwardError,
  NotFoundError,
  RemoteConflictError,
  RemoteError,
} from "../errors.ts";
import { type DatumIndexEntry, JobStore } from "../pipeline/jobs.ts";
import type { PipelineRecord } from "../pipeline/pipelines.ts";
import { PIPELINE_KIND } from "./pipeline_kind.ts";
import { decodeCommit, decodeTree } from "../store/codec.ts";
import { writeFileAtomic } from "../store/fs_util.ts";
import type { Hash } from "../store/hash.ts";
import { LARGE_OBJECT } from "../store/objects.ts";
import type { Store } from "../store/store.ts";
import { isAncestor } from "./ancestry.ts";
import { RemoteCache } from "./cache.ts";
import { decodeDatums, decodeJob } from "./job_sync.ts";
import type { BranchMove, TransferOptions, TransferResult } from "./progress.ts";
import { decodeManifest, type RemoteRecord } from "./remote_format.ts";
import { readRemote } from "./remote_log.ts";
import { RemoteObjects } from "./remote_objects.ts";
import { branchesOf, parseSelection, takesRepo } from "./selection.ts";

const HEX64 = /^[0-9a-f]{64}$/;
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
  const local = await store.state();
  const localHas = async (h: Hash) => await store.objects.has(h);
  /** A commit or tree: from this store if it has it, else from the remote, checked. */
  const readMeta = async (h: Hash): Promise<Uint8Array | null> =>
    (await localHas(h)) ? await store.objects.read(h) : await objects.meta(h);

  // ---- decide: branches ----
  if (sel) {
    for (const [repo, branches] of sel) {
      const r = head.repos[repo];
      if (!r) {
        throw new NotFoundError(
          `Cannot pull repo "${repo}": remote "${options.remote}" has no such repo`,
          {
            repo,
            remote: options.remote,
          },
        );
      }
      for (const b of branches ?? []) {
        if (!(b in r.branches)) {
          throw new NotFoundError(
            `Cannot pull ${repo}@${b}: remote "${options.remote}" has no such branch`,
            { repo, branch: b, remote: options.remote },
          );
        }
      }
    }
  }
  const moves: BranchMove[] = [];
  const newRepos: { repo: string; description: string }[] = [];
  for (const [name, r] of Object.entries(head.repos).sort()) {
    const branches = branchesOf(sel, name, Object.keys(r.branches).sort());
    if (branches.length === 0) continue;
    const mine = local.repos[name];
    if (!mine) newRepos.push({ repo: name, description: r.description });
    for (const b of branches) {
      const theirs = r.branches[b]!;
      const here = mine?.branches[b];
      if (here && here.head === theirs) continue;
      if (here && here.head !== null) {
        if (theirs === null) continue;
        const ff = await isAncestor(readMeta, here.head, theirs);
        if (!ff) {
          // This store may be ahead: the remote's head is in the local history.
          if (await isAncestor(readMeta, theirs, here.head)) continue;
          throw new NotFastForwardError(
            `Cannot pull ${name}@${b}: this store's head ${here.head} is not in the remote's ` +
              `history (remote ${theirs}); the pull would drop commits. Keep them on a new ` +
              `branch ("tusk create branch ${name}@mine --head ${name}@${b}"), or revert, then pull`,
            { repo: name, branch: b, local: here.head, remote: theirs },
          );
        }
      }
      if (here === undefined && theirs === null) {
        moves.push({ repo: name, branch: b, from: null, to: null });
        continue;
      }
      moves.push({ repo: name, branch: b, from: here?.head ?? null, to: theirs });
    }
  }

  // ---- decide: pipelines ----
  const localPipes = local.meta[PIPELINE_KIND] ?? {};
  const takenPipes: { name: string; rec: RemoteRecord; value: PipelineRecord }[] = [];
  const jobPipes: PipelineRecord[] = [];
  for (const [name, rec] of Object.entries(head.pipelines).sort()) {
    if (!takesRepo(sel, name)) continue;
    const theirs = rec.value as PipelineRecord;
    const mine = localPipes[name]?.value as PipelineRecord | undefined;
    if (mine) {
      if (mine.createdSeq !== theirs.createdSeq) {
        throw new NotFastForwardError(
          `Cannot pull pipeline "${name}": this store has another pipeline of that name (made ` +
            "apart from the remote's); delete one of them first",
          { pipeline: name },
        );
      }
      if (mine.version === theirs.version && mine.specHash !== theirs.specHash) {
        throw new NotFastForwardError(
          `Cannot pull pipeline "${name}": both sides changed it to version ${mine.version} ` +
            `(here spec ${mine.specHash.slice(0, 12)}, remote ${theirs.specHash.slice(0, 12)})`,
          { pipeline: name, local: mine.version, remote: theirs.version },
        );
      }
      jobPipes.push(mine.version >= theirs.version ? mine : theirs);
      if (mine.version >= theirs.version) continue;
    } else {
      if (local.repos[name] && !head.repos[name]) {
        throw new NotFastForwardError(
          `Cannot pull pipeline "${name}": this store has a repo of that name`,
          { pipeline: name },
        );
      }
      jobPipes.push(theirs);
    }
    if (!isPipelineRecord(theirs, name)) {
      throw new IntegrityError(`Remote "${url}": the record of pipeline "${name}" is damaged`, {
        remote: url,
        pipeline: name,
      });
    }
    takenPipes.push({ name, rec, value: theirs });
  }

  // ---- decide: jobs ----
  const jobStore = new JobStore(store);
  const jobFiles: { pipeline: string; id: string; bytes: Uint8Array }[] = [];
  const datums: { pipeline: string; entries: DatumIndexEntry[] }[] = [];
  const merged: Record<string, Hash> = { ...(view.seen?.jobs ?? {}) };
  const needTrees: Hash[] = [];
  const needBlobs: Hash[] = [];
  for (const p of jobPipes) {
    const mh = head.jobs[p.name];
    if (!mh || merged[p.name] === mh) continue;
    const mb = await objects.meta(mh);
    if (!mb) throw missing(url, mh, `the job manifest of pipeline "${p.name}"`);
    const manifest = decodeManifest(mb, url, mh);
    for (const [id, rh] of Object.entries(manifest.jobs)) {
      try {
        await Deno.lstat(store.layout.job(p.name, id));
        continue;
      } catch {
        // Not here yet.
      }
      const bytes = await objects.meta(rh);
      if (!bytes) throw missing(url, rh, `the record of job ${id}`);
      const job = decodeJob(bytes, { remote: url, id, pipeline: p.name, hash: rh });
      for (const d of job.datums) {
        if (d.logs) needBlobs.push(d.logs);
        if (d.outputTree) needTrees.push(d.outputTree);
      }
      jobFiles.push({ pipeline: p.name, id, bytes });
    }
    if (manifest.datums) {
      const db = await objects.meta(manifest.datums);
      if (!db) throw missing(url, manifest.datums, `the datum index of pipeline "${p.name}"`);
      const have = await jobStore.datumIndexOf(p);
      const fresh = decodeDatums(db, url, manifest.datums).filter((e) =>
        e.pipelineSeq === p.createdSeq && !have.has(e.hash)
      );
      for (const e of fresh) needTrees.push(e.tree);
      if (fresh.length) datums.push({ pipeline: p.name, entries: fresh });
    }
    merged[p.name] = mh;
  }

  if (
    moves.length === 0 && takenPipes.length === 0 && jobFiles.length === 0 &&
    datums.length === 0 && newRepos.length === 0
  ) {
    await cache.saveSeen({
      url,
      seq: view.seq,
      hash: view.hash,
      packs: view.packs,
      objects: view.objects,
      jobs: merged,
    });
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

  // ---- what to fetch: from the new heads and records down to what this store holds ----
  const meta = new Map<Hash, Uint8Array>();
  const blobs = new Map<Hash, number | null>();
  const commits: { repo: string; ids: string[] }[] = [];
  const seen = new Set<Hash>();
  const take = async (h: Hash, what: string): Promise<Uint8Array> => {
    const b = await objects.meta(h);
    if (!b) throw missing(url, h, what);
    meta.set(h, b);
    return b;
  };
  const walkTree = async (root: Hash, what: string) => {
    const stack = [root];
    while (stack.length) {
      const h = stack.pop()!;
      if (seen.has(h)) continue;
      seen.add(h);
      if (await localHas(h)) continue;
      const bytes = await take(h, `tree ${h} (${what})`);
      for (const e of decodeTree(bytes, h)) {
        if (e.name === "." || e.name === ".." || e.name.includes("/") || e.name.includes("\0")) {
          throw new IntegrityError(`Remote "${url}": tree ${h} holds a bad name`, {
            remote: url,
            object: h,
          });
        }
        if (e.kind === "dir") stack.push(e.hash);
        else if (!seen.has(e.hash)) {
          seen.add(e.hash);
          if (!(await localHas(e.hash))) blobs.set(e.hash, e.size);
        }
      }
    }
  };
  for (const m of moves) {
    if (!m.to) continue;
    const ids: string[] = [];
    let at: string | null = m.to;
    while (at !== null && at !== m.from && !seen.has(at)) {
      seen.add(at);
      if (!(await localHas(at))) {
        const c = decodeCommit(await take(at, `commit ${at} of ${m.repo}@${m.branch}`), at);
        if (
          c.repo !== m.repo || !HEX64.test(c.tree) || (c.parent !== null && !HEX64.test(c.parent))
        ) {
          throw new IntegrityError(
            `Remote "${url}": commit ${at} does not belong on ${m.repo}@${m.branch}`,
            { remote: url, object: at },
          );
        }
        await walkTree(c.tree, `${m.repo}@${at.slice(0, 12)}`);
        ids.push(at);
        at = c.parent;
      } else {
        ids.push(at);
        at = decodeCommit(await store.objects.read(at), at).parent;
      }
    }
    commits.push({ repo: m.repo, ids: ids.reverse() });
  }
  for (const t of needTrees) await walkTree(t, "a job's output");
  for (const b of needBlobs) {
    if (!seen.has(b) && !(await localHas(b))) blobs.set(b, null);
    seen.add(b);
  }
  for (const p of takenPipes) {
    for (const o of p.rec.objects) {
      if (!seen.has(o) && !(await localHas(o))) blobs.set(o, null);
      seen.add(o);
    }
  }
  for (const h of blobs.keys()) {
    if ((await objects.locate(h)) === null) throw missing(url, h, `object ${h}`);
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
  await cache.saveSeen({
    url,
    seq: view.seq,
    hash: view.hash,
    packs: view.packs,
    objects: view.objects,
    jobs: merged,
  });
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

function missing(url: string, h: Hash, what: string): IntegrityError {
  return new IntegrityError(
    `Remote "${url}" lacks ${what} (${h}), which its log says it holds; nothing was changed here`,
    { remote: url, object: h, problem: "missing-object" },
  );
}

/** True when `v` has the fields a pipeline record must have to be used here. */
function isPipelineRecord(v: PipelineRecord, name: string): boolean {
  return typeof v === "object" && v !== null && v.name === name &&
    Number.isSafeInteger(v.version) && typeof v.specHash === "string" &&
    HEX64.test(v.specHash) && HEX64.test(v.codeHash) && typeof v.spec === "object";
}
