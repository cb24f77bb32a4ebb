/**
 * Planning a job from what changed since the job before it: when the pipeline's previous job
 * succeeded with the same version over an earlier commit of the same single pfs input, the
 * datums come from the diff of the two input trees (`diffDatums()`: nothing is read below a
 * subtree whose hash is unchanged), and the output commit is that job's, spliced: the outputs
 * of the datums that changed or went leave it, those of the datums that run (or reuse another
 * output) join it. Every datum's record is the one `planJob()` would give, made by the same
 * `datumRecord()` from the same datum index (or, for a datum the job before skipped reusing the
 * output this job reuses, that job's record made this one's in place: the same JSON); whenever that cannot be shown (another input
 * type, a datum of the earlier job that did not simply succeed or skip, an unchanged datum
 * the index would run again, an earlier output tree gone or damaged), `planFromDiff()` says
 * null and the job is planned in full.
 */
import { IntegrityError, NotFoundError } from "../errors.ts";
import { diffDatums, type DiffedDatum } from "../pipeline/datums.ts";
import type { DatumIndexEntry, DatumRecord, JobRecord, JobStore } from "../pipeline/jobs.ts";
import type { Pipeline } from "../pipeline/pipelines.ts";
import { EMPTY_TREE } from "../store/codec.ts";
import type { Hash } from "../store/hash.ts";
import type { Store } from "../store/store.ts";
import {
  datumNames,
  datumRecord,
  type JobPlan,
  type PlannedDatum,
  reprocesses,
} from "./plan_job.ts";

/** A plan made from the diff against the job before. */
export interface DiffPlan extends JobPlan {
  /** The earlier job's output tree, which this job's output is made from. */
  readonly baseTree: Hash;
  /** Its size. */
  readonly baseSize: number;
  /** The earlier job's records of the datums whose output leaves (changed, or gone). */
  readonly leaving: readonly DatumRecord[];
  /** This job's records of the datums whose output joins (they run, or reuse another). */
  readonly arriving: readonly DatumRecord[];
}

/** The most datums met afresh that are looked up in the datum index's text, not parsed. */
const LOOKUPS_MOST = 64;

/** How far back from the newest job `planFromDiff()` looks for the job it plans. */
const NEWEST_LOOKED_AT = 16;

/**
 * The plan of `job` from the diff against the job before it, or null when the job must be
 * planned in full (see the module comment).
 */
export async function planFromDiff(
  store: Store,
  jobs: JobStore,
  p: Pipeline,
  job: JobRecord,
  attempts: ReadonlyMap<string, number>,
): Promise<DiffPlan | null> {
  const input = p.parsed.input;
  const now = job.inputs[0];
  if (
    input.kind !== "pfs" || reprocesses(p, job) || job.inputs.length !== 1 || !now ||
    now.commit === null || now.name !== input.name
  ) return null;
  const earlier = await jobBefore(jobs, p, job);
  if (!earlier) return null;
  const was = earlier.inputs[0]!;
  const out = await store.readCommit(earlier.outputCommit!).catch(() => null);
  if (!out) return null;
  const diffed = await diffDatums(
    store,
    input,
    { repo: now.repo, commit: now.commit, earlier: was.commit! },
    {
      salt: p.parsed.salt,
      codeHash: p.codeHash,
      earlierPaths: earlier.datums.map((d) => d.inputs[0]!.path),
    },
    // A tree that cannot be read: the full plan says so.
  ).catch(() => null);
  if (!diffed) return null;

  const index = await indexFor(jobs, p, earlier, diffed) ?? await jobs.datumIndexOf(p);
  // As `reusableEntries()`: an entry whose output tree is gone is a cache miss. And as
  // `mergeOutputs()`: a reused output missing a file's object runs again. The files of the
  // outputs that stay are those of the earlier output commit: one of them gone, and the job
  // is planned in full, which runs its datum again. (One look for all of them, whose cost is
  // a pass over the pack indexes: what a skip at scale still pays for every datum.)
  // A tree of it that cannot be read (gone, damaged): the full plan never reads it.
  const blobs = await treeBlobs(store, out.tree).catch(unreadable);
  if (!blobs) return null;
  const checked: Hash[] = blobs;
  const files = checked.length;
  for (const d of diffed) {
    const e = index.get("earlier" in d ? earlier.datums[d.earlier]!.hash : d.datum.hash);
    if (e && e.tree !== EMPTY_TREE) checked.push(e.tree);
  }
  const gone = await store.objects.missing(checked);
  for (let i = 0; i < files && gone.size > 0; i++) if (gone.has(checked[i]!)) return null;
  if (gone.size > 0) { for (const [hash, e] of index) if (gone.has(e.tree)) index.delete(hash); }

  const plan = { index, attempts, reprocess: false };
  const records: DatumRecord[] = [];
  const toRun: PlannedDatum[] = [];
  const interrupted: PlannedDatum[] = [];
  const arriving: DatumRecord[] = [];
  /** 1 for each earlier datum whose output stays as it is in the earlier output. */
  const stays = new Uint8Array(earlier.datums.length);
  let skipped = 0;
  for (const d of diffed) {
    if ("earlier" in d) {
      const before = earlier.datums[d.earlier]!;
      // Its record from the job before, made this job's where it is the one `datumRecord()`
      // gives: no new record (nor its inputs) per datum that stays.
      if (reusedInPlace(p, before, plan, { repo: now.repo, commit: now.commit })) {
        skipped++;
        stays[d.earlier] = 1;
        records.push(before);
        continue;
      }
      const { name, path } = before.inputs[0]!;
      const rec = datumRecord(p, {
        id: before.id,
        hash: before.hash,
        inputs: [{ name, repo: now.repo, commit: now.commit, path }],
      }, plan);
      // It would run: its files were not read, so plan in full.
      if (rec.state !== "SKIPPED") return null;
      skipped++;
      if (rec.outputTree === before.outputTree) stays[d.earlier] = 1;
      else arriving.push(rec);
      records.push(rec);
      continue;
    }
    const rec = datumRecord(p, datumNames(d.datum), plan);
    if (rec.state === "SKIPPED") skipped++;
    else if (rec.tries > 0) interrupted.push({ datum: d.datum, rec });
    else toRun.push({ datum: d.datum, rec });
    arriving.push(rec);
    records.push(rec);
  }
  // An optional input that matches nothing gives one datum of its own: planned in full.
  if (records.length === 0 && input.optional) return null;
  const leaving = earlier.datums.filter((_, i) => stays[i] === 0);
  return {
    records,
    toRun,
    interrupted,
    skipped,
    baseTree: out.tree,
    baseSize: out.size,
    leaving,
    arriving,
  };
}

/**
 * The job of `p` just before `job`, when this job can be planned from it: it succeeded, with
 * the version `p` runs now (the same spec, code and salt), on a commit of the same one input,
 * and its every datum succeeded or reused an output. Null otherwise.
 */
async function jobBefore(
  jobs: JobStore,
  p: Pipeline,
  job: JobRecord,
): Promise<JobRecord | null> {
  let before: string | null = null;
  let seen = 0;
  let found = false;
  for await (const id of jobs.index(p.name).newestFirst()) {
    if (found) {
      before = id;
      break;
    }
    if (id === job.id) found = true;
    else if (++seen >= NEWEST_LOOKED_AT) break;
  }
  if (before === null) return null;
  const earlier = await jobs.load(before, p.name).catch(() => null);
  const now = job.inputs[0]!;
  const was = earlier?.inputs[0];
  if (
    !earlier || !was || earlier.state !== "SUCCESS" || !earlier.outputCommit ||
    earlier.pipelineSeq !== job.pipelineSeq || earlier.pipelineSeq !== p.createdSeq ||
    earlier.version !== p.version || earlier.specHash !== p.specHash ||
    earlier.codeHash !== p.codeHash || earlier.inputs.length !== 1 ||
    was.name !== now.name || was.repo !== now.repo || was.commit === null
  ) return null;
  for (const d of earlier.datums) {
    if (d.state !== "SUCCESS" && d.state !== "SKIPPED") return null;
    if (d.inputs.length !== 1 || d.inputs[0]!.name !== now.name) return null;
  }
  return earlier;
}

/**
 * The datum index entries of the datums `diffed`, without reading the whole index when it
 * has only been appended to since `earlier` ended (`JobStore.datumIndexAfter()`): an
 * unchanged datum's entry is then the one `earlier`'s record names (the entry that job
 * appended as it ran the datum, or the one it reused), unless a later one was appended; a
 * datum met afresh is looked up. Null when the index must be read whole.
 */
async function indexFor(
  jobs: JobStore,
  p: Pipeline,
  earlier: JobRecord,
  diffed: readonly DiffedDatum[],
): Promise<Map<Hash, DatumIndexEntry> | null> {
  // Each datum met afresh is a search of the index's text: past a few, one parse is cheaper.
  let afresh = 0;
  for (const d of diffed) if ("datum" in d && ++afresh > LOOKUPS_MOST) return null;
  const after = await jobs.datumIndexAfter(p, earlier.id);
  if (!after) return null;
  const seq = earlier.pipelineSeq;
  const index = new Map<Hash, DatumIndexEntry>();
  // The datums met afresh are looked up together: one pass over the index.
  const fresh = diffed.flatMap((d) =>
    "datum" in d && !after.since.has(d.datum.hash) ? [d.datum.hash] : []
  );
  const found = await after.find(fresh);
  for (const d of diffed) {
    let e: DatumIndexEntry | null | undefined;
    const hash = "earlier" in d ? earlier.datums[d.earlier]!.hash : d.datum.hash;
    if (after.since.has(hash)) e = after.since.get(hash);
    else if ("datum" in d) e = found.get(hash);
    else {
      const before = earlier.datums[d.earlier]!;
      if (before.outputTree === undefined) return null;
      const job = before.state === "SKIPPED" ? before.reusedFrom ?? "" : earlier.id;
      if (!job) return null;
      const tree = before.outputTree;
      const size = before.outputSize ?? 0;
      const version = earlier.version;
      // No spread of `seq` here: 100,000 entries are made so for a skip.
      e = seq === undefined
        ? { hash, tree, size, job, version }
        : { hash, tree, size, job, version, pipelineSeq: seq };
    }
    if (e) index.set(hash, e);
  }
  return index;
}

/** The keys of a skipped datum's record, in the order `datumRecord()` gives them. */
const SKIPPED_KEYS = [
  "id",
  "hash",
  "state",
  "inputs",
  "tries",
  "durationMs",
  "exitCode",
  "outputTree",
  "outputSize",
  "reusedFrom",
] as const satisfies readonly (keyof DatumRecord)[];

/** The keys of a datum record's input, in the order `datumNames()` gives them. */
const INPUT_KEYS = ["name", "repo", "commit", "path"] as const;

/** True when the keys of `o` are `keys`, in that order. */
function keysAre(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) if (k !== keys[i++]) return false;
  return i === keys.length;
}

/**
 * When the job before skipped the datum of `before` reusing the output this job reuses too,
 * make `before` the record `datumRecord()` gives this job for it (its input's commit now
 * `now`'s, its tries those of `plan`), in place, and say true: the record then holds the same
 * keys in the same order as `datumRecord()`'s, with the same values. False, `before` as it
 * was, otherwise (it ran, or reuses another output, or its record was written otherwise).
 */
function reusedInPlace(
  p: Pipeline,
  before: DatumRecord,
  plan: { index: ReadonlyMap<Hash, DatumIndexEntry>; attempts: ReadonlyMap<string, number> },
  now: { repo: string; commit: string },
): boolean {
  const prev = plan.index.get(before.hash);
  const input = before.inputs[0];
  if (
    !prev || prev.version < p.reprocessSince || before.state !== "SKIPPED" ||
    prev.tree !== before.outputTree || before.inputs.length !== 1 || !input ||
    !keysAre(before, SKIPPED_KEYS) || !keysAre(input, INPUT_KEYS)
  ) return false;
  before.tries = plan.attempts.get(before.id) ?? 0;
  before.durationMs = 0;
  before.exitCode = null;
  before.outputSize = prev.size;
  before.reusedFrom = prev.job;
  input.repo = now.repo;
  input.commit = now.commit;
  return true;
}

/** Null for an object that is gone or damaged; any other error is thrown. */
function unreadable(err: unknown): null {
  if (err instanceof NotFoundError || err instanceof IntegrityError) return null;
  throw err;
}

/** The object of every file under the tree `root`. */
async function treeBlobs(store: Store, root: Hash): Promise<Hash[]> {
  const out: Hash[] = [];
  const visit = async (tree: Hash): Promise<void> => {
    for (const e of await store.readTree(tree)) {
      if (e.kind === "dir") await visit(e.hash);
      else out.push(e.hash);
    }
  };
  await visit(root);
  return out;
}
