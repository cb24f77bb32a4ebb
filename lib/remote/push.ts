/**
 * `push`: send what a remote lacks, then move its heads by writing its next log entry.
 *
 * Everything is decided before anything is sent: each branch must move fast-forward (the
 * remote's head is in the local branch's history), each pipeline forward (same pipeline, a
 * newer version), or the push is refused with nothing sent. Then the objects the remote
 * lacks are found by walking from the new heads down to what the remote holds (its pack
 * indexes, cached here), packed and uploaded; last, the next log entry is created, which
 * only one writer can do: a push that loses that race is refused and can be run again,
 * finding what it uploaded already there (packs a stopped push left are taken up, not sent
 * again).
 */
import { NotFastForwardError, NotFoundError, RemoteConflictError, RemoteError } from "../errors.ts";
import type { PipelineRecord } from "../pipeline/pipelines.ts";
import { PIPELINE_KIND } from "../pipeline/kind.ts";
import { decodeCommit } from "../store/codec.ts";
import { treeLinks } from "../store/fanout_codec.ts";
import { type Hash, sha256 } from "../store/hash.ts";
import { LARGE_OBJECT } from "../store/objects.ts";
import type { Store } from "../store/store.ts";
import { historyOf } from "./ancestry.ts";
import { divergence, freeBranch, reconcileSteps } from "./diverged.ts";
import type { RemoteBackend } from "./backend.ts";
import { RemoteCache } from "./cache.ts";
import { decodeDatums, encodeDatums } from "./job_sync.ts";
import { datumEntries, finishedJobs } from "./local_jobs.ts";
import { buildPack, PACK_BYTES } from "./packing.ts";
import type { BranchMove, TransferOptions, TransferProgress, TransferResult } from "./progress.ts";
import {
  decodeManifest,
  encodeEntry,
  encodeManifest,
  type JobManifest,
  KEYS,
  REMOTE_MARK,
  type RemoteEntry,
  type RemotePack,
  type RemoteRecord,
  type RemoteRepo,
} from "./remote_format.ts";
import { readRemote } from "./remote_log.ts";
import { RemoteObjects } from "./remote_objects.ts";
import { branchesOf, parseSelection, takesRepo } from "./selection.ts";

/** Uploads at once. */
const PARALLEL = 4;

/** Push `store` to a remote; see the module's doc. */
export async function push(store: Store, options: TransferOptions): Promise<TransferResult> {
  const { backend } = options;
  const url = backend.url;
  const sel = parseSelection(options.refs ?? []);
  const local = await store.state();
  const cache = new RemoteCache(store.layout, options.remote);
  const view = await readRemote(backend, cache);
  const head = view.head;
  const objects = new RemoteObjects(backend, cache, view);
  const readLocal = async (id: string) =>
    (await store.objects.has(id)) ? await store.objects.read(id) : null;
  /** A commit from this store if it has it, else from the remote, checked. */
  const readEither = async (id: string) => (await readLocal(id)) ?? await objects.meta(id);

  // ---- decide: branches ----
  if (sel) {
    for (const [repo, branches] of sel) {
      const r = local.repos[repo];
      if (!r) {
        throw new NotFoundError(`Cannot push repo "${repo}": it does not exist here`, { repo });
      }
      for (const b of branches ?? []) {
        if (!r.branches[b]) {
          throw new NotFoundError(`Cannot push ${repo}@${b}: no such branch here`, {
            repo,
            branch: b,
          });
        }
      }
    }
  }
  const repos: Record<string, RemoteRepo> = structuredClone({ ...(head?.repos ?? {}) });
  const moves: BranchMove[] = [];
  for (const [name, r] of Object.entries(local.repos).sort()) {
    const branches = branchesOf(sel, name, Object.keys(r.branches).sort());
    if (branches.length === 0) continue;
    const rrepo = repos[name] ?? { description: r.description, branches: {} };
    const heads: Record<string, string | null> = { ...rrepo.branches };
    for (const b of branches) {
      const mine = r.branches[b]!.head;
      const theirs = b in heads ? heads[b]! : undefined;
      if (theirs === mine) continue;
      if (theirs !== undefined && theirs !== null) {
        const own = mine === null ? null : await historyOf(readLocal, mine, theirs);
        if (own === null || own.at(-1) !== theirs) {
          // Behind the remote (a pull fast-forwards), or both sides committed: say which.
          const d = own === null ? null : divergence(own, await historyOf(readEither, theirs));
          const steps = d === null || d.base === mine
            ? `Pull first ("tusk pull ${options.remote} ${name}@${b}"), then push`
            : reconcileSteps({
              repo: name,
              branch: b,
              remote: options.remote,
              divergence: d,
              keep: freeBranch(Object.keys(r.branches)),
            });
          throw new NotFastForwardError(
            `Cannot push ${name}@${b}: the remote's head ${theirs} is not in this branch's ` +
              `history (here ${mine ?? "no commit"}); the push would drop commits. ${steps}`,
            { repo: name, branch: b, local: mine, remote: theirs, base: d?.base ?? null },
          );
        }
      }
      heads[b] = mine;
      moves.push({ repo: name, branch: b, from: theirs ?? null, to: mine });
    }
    repos[name] = { description: rrepo.description, branches: heads };
  }

  // ---- decide: pipelines ----
  const pipelines: Record<string, RemoteRecord> = { ...(head?.pipelines ?? {}) };
  const sentPipelines: { name: string; version: number }[] = [];
  const localPipes = local.meta[PIPELINE_KIND] ?? {};
  const pushedPipes: PipelineRecord[] = [];
  for (const [name, rec] of Object.entries(localPipes).sort()) {
    if (!takesRepo(sel, name)) continue;
    const mine = rec.value as PipelineRecord;
    const theirs = pipelines[name]?.value as PipelineRecord | undefined;
    if (theirs) {
      if (theirs.createdSeq !== mine.createdSeq) {
        throw new NotFastForwardError(
          `Cannot push pipeline "${name}": the remote holds another pipeline of that name ` +
            "(made apart from this one); delete one of them, or push to another remote",
          { pipeline: name },
        );
      }
      if (
        theirs.version > mine.version ||
        (theirs.version === mine.version && theirs.specHash !== mine.specHash)
      ) {
        throw new NotFastForwardError(
          `Cannot push pipeline "${name}": the remote has version ${theirs.version} ` +
            `(spec ${theirs.specHash.slice(0, 12)}), this store version ${mine.version} ` +
            `(spec ${mine.specHash.slice(0, 12)}); pull first`,
          { pipeline: name, local: mine.version, remote: theirs.version },
        );
      }
      pushedPipes.push(mine);
      if (theirs.version === mine.version) continue;
    } else pushedPipes.push(mine);
    for (const input of inputRepos(mine)) {
      // An input this store lacks too (an optional one never made) is lacked alike there.
      if (!repos[input] && local.repos[input]) {
        throw new NotFoundError(
          `Cannot push pipeline "${name}": it reads repo "${input}", which the remote does ` +
            `not have: push it too ("tusk push ${options.remote} ${input}")`,
          { pipeline: name, repo: input },
        );
      }
    }
    pipelines[name] = { value: rec.value, objects: rec.objects };
    sentPipelines.push({ name, version: mine.version });
  }

  // ---- decide: jobs (finished jobs and datum index entries the remote lacks) ----
  const jobs: Record<string, Hash> = { ...(head?.jobs ?? {}) };
  const jobDeltas: JobDelta[] = [];
  for (const p of pushedPipes) {
    const d = await jobDelta(store, p, jobs[p.name], { objects, url, ...damagedOf(options) });
    if (d) jobDeltas.push(d);
  }
  if (moves.length === 0 && sentPipelines.length === 0 && jobDeltas.length === 0) {
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

  // ---- what to send: walked from the new heads and records down to what the remote holds ----
  const mark = new TextEncoder().encode(REMOTE_MARK);
  if (view.unmarked) await backend.put(KEYS.mark, mark);
  // The one write that decides between two pushes is a create that fails when its key
  // exists. A server that ignores the condition would let a second push overwrite the
  // first's log entry: the mark, which exists, tells such a server apart before anything
  // is sent.
  if (await backend.create(KEYS.mark, mark)) {
    backend.close();
    throw new RemoteError(
      `Cannot push to remote "${options.remote}" (${url}): it ignored a conditional write ` +
        "(If-None-Match: *), so two pushes at once could overwrite each other; use a server " +
        "that honours conditional writes (AWS S3 and current S3-compatible servers do)",
      { remote: options.remote, problem: "no-conditional-writes" },
    );
  }
  const adopted = await adoptLeftovers(backend, objects, view);
  const send = new Sender(store, objects);
  for (const m of moves) if (m.to) await send.history(m.to);
  for (const { name } of sentPipelines) {
    for (const o of pipelines[name]!.objects) await send.blob(o, null);
  }
  let jobCount = 0;
  for (const d of jobDeltas) {
    jobs[d.pipeline] = await d.apply(send);
    jobCount += d.jobs;
  }
  const added = await send.upload(backend, options.onProgress);
  const entry: RemoteEntry = {
    format: 1,
    seq: view.seq + 1,
    prev: view.hash,
    time: store.now().toISOString(),
    repos,
    pipelines,
    jobs,
    packs: [...adopted.packs, ...added.packs],
    objects: [...adopted.objects, ...added.objects],
  };
  const bytes = encodeEntry(entry);
  if (!(await backend.create(KEYS.entry(entry.seq), bytes))) {
    backend.close();
    throw new RemoteConflictError(
      `Another push reached remote "${options.remote}" first (it wrote log entry ${entry.seq}): ` +
        "nothing of this push was committed; run the push again (what it uploaded is kept and " +
        "not sent twice)",
      { remote: options.remote, entry: entry.seq },
    );
  }
  const hash = sha256(bytes);
  await backend.put(KEYS.head, new TextEncoder().encode(JSON.stringify({ seq: entry.seq, hash })))
    .catch(() => {});
  await cache.saveSeen({
    url,
    seq: entry.seq,
    hash,
    packs: [...view.packs, ...entry.packs],
    objects: [...view.objects, ...entry.objects],
    jobs: view.seen?.jobs ?? {},
  });
  backend.close();
  return {
    remote: options.remote,
    url,
    upToDate: false,
    branches: moves,
    pipelines: sentPipelines,
    jobs: jobCount,
    objects: added.count,
    bytes: added.bytes,
    packs: added.packs.length,
    requests: backend.requests,
    entry: entry.seq,
  };
}

/** The repos a pipeline reads (not its cron inputs, which it makes). */
function inputRepos(p: PipelineRecord): string[] {
  const out: string[] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== "object" || node === null) return;
    const n = node as Record<string, unknown>;
    const pfs = n.pfs as { repo?: unknown } | undefined;
    if (pfs && typeof pfs.repo === "string") out.push(pfs.repo);
    for (const k of ["cross", "union", "join", "group"]) if (k in n) walk(n[k]);
  };
  walk((p.spec as { input?: unknown }).input);
  return out;
}

/**
 * Packs and large objects a stopped push uploaded but never committed: their indexes are
 * read (and checked against their names) so that this push sends none of it again.
 */
async function adoptLeftovers(
  backend: RemoteBackend,
  objects: RemoteObjects,
  view: { packs: readonly RemotePack[]; objects: readonly Hash[] },
): Promise<{ packs: RemotePack[]; objects: Hash[] }> {
  const known = new Set(view.packs.map((p) => p.name));
  const keys = await backend.list(KEYS.packs);
  const names = new Set(keys.map((k) => k.key));
  const packs: RemotePack[] = [];
  for (const k of keys) {
    const m = /^packs\/([0-9a-f]{64})\.idx$/.exec(k.key);
    if (!m || known.has(m[1]!) || !names.has(KEYS.pack(m[1]!))) continue;
    try {
      const entries = await objects.index(m[1]!);
      // A leftover's kind is not recorded: a meta pack is known by being read whole later,
      // so it is taken as data (read by ranges), which works for either.
      const pack = { name: m[1]!, meta: false };
      if (entries.length) {
        await objects.adopt(pack);
        packs.push(pack);
      }
    } catch {
      // A damaged leftover is simply not used.
    }
  }
  const knownLoose = new Set(view.objects);
  const loose: Hash[] = [];
  for (const k of await backend.list(KEYS.objects)) {
    const m = /^objects\/([0-9a-f]{64})$/.exec(k.key);
    if (m && !knownLoose.has(m[1]!)) {
      objects.adoptLoose(m[1]!);
      loose.push(m[1]!);
    }
  }
  return { packs, objects: loose };
}

/** What a push adds to one pipeline's jobs on the remote. */
interface JobDelta {
  readonly pipeline: string;
  readonly jobs: number;
  /** Queue what it needs and give the new manifest's hash. */
  apply(send: Sender): Promise<Hash>;
}

/** The jobs and datum index entries of `p` the remote lacks, or null when it lacks none. */
async function jobDelta(
  store: Store,
  p: PipelineRecord,
  current: Hash | undefined,
  { objects, url, onDamaged }: {
    objects: RemoteObjects;
    url: string;
    onDamaged?: TransferOptions["onDamaged"];
  },
): Promise<JobDelta | null> {
  const mine = await finishedJobs(store, p, onDamaged);
  const entries = await datumEntries(store, p);
  if (mine.length === 0 && entries.length === 0) return null;
  let old: JobManifest = { format: 1, jobs: {}, datums: null };
  let oldDatums: ReturnType<typeof decodeDatums> = [];
  if (current) {
    const bytes = await objects.meta(current);
    if (bytes) old = decodeManifest(bytes, url, current);
    if (old.datums) {
      const d = await objects.meta(old.datums);
      if (d) oldDatums = decodeDatums(d, url, old.datums);
    }
  }
  const fresh = mine.filter((j) => !(j.id in old.jobs));
  const have = new Set(oldDatums.map((e) => e.hash));
  const newDatums = entries.filter((e) => !have.has(e.hash));
  if (fresh.length === 0 && newDatums.length === 0) return null;
  return {
    pipeline: p.name,
    jobs: fresh.length,
    async apply(send) {
      const jobs: Record<string, Hash> = { ...old.jobs };
      for (const j of fresh) {
        jobs[j.id] = send.metaBytes(j.bytes);
        for (const d of j.record.datums) {
          if (d.logs) await send.blob(d.logs, null);
          if (d.outputTree) await send.tree(d.outputTree);
        }
      }
      for (const e of newDatums) await send.tree(e.tree);
      const all = [...oldDatums, ...newDatums];
      const manifest: JobManifest = {
        format: 1,
        jobs,
        datums: all.length ? send.metaBytes(encodeDatums(all)) : null,
      };
      return send.metaBytes(encodeManifest(manifest));
    },
  };
}

/**
 * What a push sends, found by walking from new heads and records down to what the remote
 * holds, then packed and uploaded.
 */
class Sender {
  readonly #store: Store;
  readonly #remote: RemoteObjects;
  readonly #seen = new Set<Hash>();
  /** Commits, trees and job records, in memory: they go to meta packs. */
  readonly #meta = new Map<Hash, Uint8Array>();
  /** Blobs to send, with their size when known. */
  readonly #data = new Map<Hash, number | null>();

  constructor(store: Store, remote: RemoteObjects) {
    this.#store = store;
    this.#remote = remote;
  }

  /** Send bytes made for the push (a job record, a manifest) in a meta pack; their hash. */
  metaBytes(bytes: Uint8Array): Hash {
    const h = sha256(bytes);
    this.#meta.set(h, bytes);
    return h;
  }

  /** A commit and its history, down to what the remote holds. */
  async history(id: string): Promise<void> {
    let at: string | null = id;
    while (at !== null && !this.#seen.has(at)) {
      this.#seen.add(at);
      if (await this.#remote.has(at)) return;
      const bytes = await this.#store.objects.read(at);
      this.#meta.set(at, bytes);
      const c = decodeCommit(bytes, at);
      await this.tree(c.tree);
      at = c.parent;
    }
  }

  /** A tree and everything under it the remote lacks. */
  async tree(hash: Hash): Promise<void> {
    const stack = [hash];
    while (stack.length) {
      const h = stack.pop()!;
      if (this.#seen.has(h)) continue;
      this.#seen.add(h);
      if (await this.#remote.has(h)) continue;
      const bytes = await this.#store.objects.read(h);
      this.#meta.set(h, bytes);
      const links = treeLinks(bytes, h);
      for (const c of links.chunks) stack.push(c);
      for (const e of links.entries) {
        if (e.kind === "dir") stack.push(e.hash);
        else await this.blob(e.hash, e.size);
      }
    }
  }

  /** A blob, unless the remote holds it. */
  async blob(hash: Hash, size: number | null): Promise<void> {
    if (this.#seen.has(hash)) return;
    this.#seen.add(hash);
    if (await this.#remote.has(hash)) return;
    this.#data.set(hash, size);
  }

  /**
   * Upload everything found: blobs of 1 MiB or more whole, the rest in packs of about
   * 32 MiB, and the commits, trees and records in meta packs; several at a time.
   */
  async upload(
    backend: RemoteBackend,
    onProgress?: (p: TransferProgress) => void,
  ): Promise<{ packs: RemotePack[]; objects: Hash[]; count: number; bytes: number }> {
    const store = this.#store;
    // Sizes unknown so far (pipeline objects, logs) are read from the files.
    const sizes = new Map<Hash, number>();
    for (const [h, s] of this.#data) sizes.set(h, s ?? (await store.objects.read(h)).length);
    let totalBytes = 0;
    for (const s of sizes.values()) totalBytes += s;
    for (const b of this.#meta.values()) totalBytes += b.length;
    const totalObjects = sizes.size + this.#meta.size;
    let done = 0;
    let bytes = 0;
    const report = (objects: number, b: number) => {
      done += objects;
      bytes += b;
      onProgress?.({ direction: "push", objects: done, totalObjects, bytes, totalBytes });
    };
    const jobs: (() => Promise<void>)[] = [];
    const packs: RemotePack[] = [];
    const loose: Hash[] = [];
    const putPack = (objects: Map<Hash, Uint8Array>, meta: boolean) => async () => {
      const p = await buildPack(objects);
      await backend.put(KEYS.pack(p.name), p.pack);
      await backend.put(KEYS.index(p.name), p.index);
      packs.push({ name: p.name, meta });
      let n = 0;
      for (const b of objects.values()) n += b.length;
      report(objects.size, n);
    };
    let batch = new Map<Hash, Uint8Array>();
    let batchBytes = 0;
    const small: Hash[] = [];
    for (const [h, size] of sizes) {
      if (size >= LARGE_OBJECT) {
        jobs.push(async () => {
          const path = store.objects.loosePath(h);
          let onDisk = true;
          try {
            await Deno.lstat(path);
          } catch {
            onDisk = false;
          }
          if (onDisk) await backend.putFile(KEYS.object(h), path, size);
          else await backend.put(KEYS.object(h), await store.objects.read(h));
          loose.push(h);
          report(1, size);
        });
      } else small.push(h);
    }
    // Small blobs are read as their pack is built, so memory holds one pack at a time.
    const flushData = (hashes: Hash[]) => async () => {
      const objects = new Map<Hash, Uint8Array>();
      for (const h of hashes) objects.set(h, await store.objects.read(h));
      await putPack(objects, false)();
    };
    let group: Hash[] = [];
    let groupBytes = 0;
    for (const h of small) {
      group.push(h);
      groupBytes += sizes.get(h)!;
      if (groupBytes >= PACK_BYTES) {
        jobs.push(flushData(group));
        group = [];
        groupBytes = 0;
      }
    }
    if (group.length) jobs.push(flushData(group));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(PARALLEL, jobs.length) }, async () => {
        while (next < jobs.length) await jobs[next++]!();
      }),
    );
    // Meta packs go last, one at a time, children before parents (the walk met parents
    // first): whatever part of them a stopped push left on the remote holds everything below
    // it, so a later push may take it up and stop its own walk there.
    for (const [h, b] of [...this.#meta].reverse()) {
      batch.set(h, b);
      batchBytes += b.length;
      if (batchBytes >= PACK_BYTES) {
        await putPack(batch, true)();
        batch = new Map();
        batchBytes = 0;
      }
    }
    if (batch.size) await putPack(batch, true)();
    return { packs, objects: loose, count: totalObjects, bytes };
  }
}

/** `{ onDamaged }` of `options`, when given. */
function damagedOf(options: TransferOptions): Pick<TransferOptions, "onDamaged"> {
  return options.onDamaged ? { onDamaged: options.onDamaged } : {};
}
