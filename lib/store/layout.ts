/**
 * Where everything lives in a store folder: the one place that spells a path under `.tusk/`.
 * Pure: it names paths and touches no file.
 *
 * ```text
 * .tusk/
 *   STORE                          the mark: which layout this is ("tusk-store 1")
 *   ledger                         the append-only, hash-chained log of every change
 *   state.json                     the ledger's replay, cached and sealed by a checksum
 *   lock                           the store lock: one transaction at a time
 *   gc.lock                        the ingest lock: shared by writers, exclusive for gc
 *   objects/ab/cdef…               loose objects, named by their hash
 *   packs/<name>.pack, <name>.idx  small objects packed together, and their index
 *   tmp/                           temp files, named after the process that owns them
 *   scheduler.json                 the scheduler lease
 *   events.jsonl                   the event journal
 *   jobs/<pipeline>/<job>.json     a job's record, with <job>.datums (its datums' log),
 *                                  <job>.rerun, <job>.stop and <job>.attempts beside it
 *   jobs/<pipeline>/datums.jsonl   the index of datums that succeeded
 *   jobs/<pipeline>/jobs.index     the index of job ids, ascending (fixed 33-byte lines),
 *                                  with jobs.index.lock, taken by its writers
 *   work/<job>/                    a running job's workspace
 *   remotes.json                   the remotes: name → URL (never credentials)
 *   remotes/<name>/                what this store knows of a remote: the log entry it saw
 *                                  last and the remote's pack indexes, each checked by hash
 *   programs.json                  host programs checked in the sandbox (a cache)
 * ```
 *
 * @example
 * ```ts
 * const layout = new Layout("/data/.tusk");
 * layout.ledger; // "/data/.tusk/ledger"
 * layout.loose("ab12…"); // "/data/.tusk/objects/ab/12…"
 * ```
 */

/** Name of the store folder searched for upward from the working directory. */
export const STORE_DIR = ".tusk";

/**
 * What the `STORE` file holds: the mark of a store this version can read. A new store is
 * marked 1; the first large folder stored as a fanout of chunks (a tree form older versions
 * cannot read) marks it 2 (`STORE_MARK_CHUNKED`), so they refuse it rather than call it
 * damaged. This version reads both.
 */
export const STORE_MARK = "tusk-store 1\n";
/** The mark of a store holding chunked trees. */
export const STORE_MARK_CHUNKED = "tusk-store 2\n";

const LEDGER = "ledger";
const STATE = "state.json";
const JOB_RECORD = ".json";

/** One fixed entry of a store folder: where it is and whether it is a file or a folder. */
export interface LayoutEntry {
  readonly path: string;
  readonly kind: "file" | "folder";
  /**
   * What tusk does without it: `required` (the store is no store, or has lost its history),
   * or `made` (made again on demand, or rebuilt: nothing is lost when it goes).
   */
  readonly absent: "required" | "made";
}

/** The paths of one store folder. */
export class Layout {
  /** The store folder itself. */
  readonly root: string;
  /** The mark file (`STORE`), written last at init: a folder without it is no store. */
  readonly mark: string;
  /** The ledger. */
  readonly ledger: string;
  /** The state file (`state.json`). */
  readonly state: string;
  /** The store lock, held by a transaction. */
  readonly lock: string;
  /** The ingest lock: shared while objects are written outside a transaction, exclusive for gc. */
  readonly gcLock: string;
  /** The folder of loose objects. */
  readonly objects: string;
  /** The folder of packs and their indexes. */
  readonly packs: string;
  /** The folder of temp files. */
  readonly tmp: string;
  /** The folders a store may hold empty (so a copy of it may have dropped them). */
  readonly folders: readonly string[];
  /** The scheduler lease (`scheduler.json`). */
  readonly lease: string;
  /** The event journal (`events.jsonl`). */
  readonly events: string;
  /** The folder of job records, one folder per pipeline. */
  readonly jobs: string;
  /** The folder of running jobs' workspaces. */
  readonly workspaces: string;
  /** The remotes this store pushes to and pulls from (`remotes.json`). */
  readonly remotes: string;
  /** The folder of what this store knows of each remote (a cache, checked when read). */
  readonly remoteCaches: string;
  /** The host programs pipelines run, as checked in the sandbox (`programs.json`, a cache). */
  readonly programs: string;
  /** Every fixed entry of the folder, and what it must be. */
  readonly entries: readonly LayoutEntry[];

  constructor(root: string) {
    this.root = root;
    this.mark = `${root}/STORE`;
    this.ledger = `${root}/${LEDGER}`;
    this.state = `${root}/${STATE}`;
    this.lock = `${root}/lock`;
    this.gcLock = `${root}/gc.lock`;
    this.objects = `${root}/objects`;
    this.packs = `${root}/packs`;
    this.tmp = `${root}/tmp`;
    this.folders = [this.objects, this.packs, this.tmp];
    this.lease = `${root}/scheduler.json`;
    this.events = `${root}/events.jsonl`;
    this.jobs = `${root}/jobs`;
    this.workspaces = `${root}/work`;
    this.remotes = `${root}/remotes.json`;
    this.remoteCaches = `${root}/remotes`;
    this.programs = `${root}/programs.json`;
    const file = (path: string, absent: LayoutEntry["absent"] = "made") =>
      ({ path, kind: "file", absent }) as const;
    const folder = (path: string) => ({ path, kind: "folder", absent: "made" }) as const;
    this.entries = [
      file(this.mark, "required"),
      file(this.ledger, "required"),
      file(this.state),
      file(this.lock),
      file(this.gcLock),
      folder(this.objects),
      folder(this.packs),
      folder(this.tmp),
      file(this.lease),
      file(this.events),
      folder(this.jobs),
      folder(this.workspaces),
      file(this.remotes),
      folder(this.remoteCaches),
      file(this.programs),
    ];
  }

  /** The store folder under `dir` (`dir/.tusk`). */
  static under(dir: string): string {
    return `${dir === "/" ? "" : dir}/${STORE_DIR}`;
  }

  /** The folder a new store is put together in before it is renamed into place. */
  static staging(dir: string, pid: number): string {
    return `${dir}.init-${pid}`;
  }

  /**
   * True when a changed file named by a file-system event at `path` is the ledger or the
   * state file: the store's state may have moved.
   */
  static changesState(path: string): boolean {
    return path.endsWith(`/${LEDGER}`) || path.endsWith(`/${STATE}`);
  }

  /** The folder of loose objects whose hashes start with `prefix` (two hex digits). */
  looseDir(prefix: string): string {
    return `${this.objects}/${prefix}`;
  }

  /** A loose object's file. */
  loose(hash: string): string {
    return `${this.objects}/${hash.slice(0, 2)}/${hash.slice(2)}`;
  }

  /** A pack's file. */
  pack(name: string): string {
    return `${this.packs}/${name}.pack`;
  }

  /** A pack's index file. */
  packIndex(name: string): string {
    return `${this.packs}/${name}.idx`;
  }

  /** The pack a file listed in the packs folder belongs to, and which of its two files it is. */
  static packOf(fileName: string): { name: string; file: "pack" | "index" } | null {
    if (fileName.endsWith(".idx")) return { name: fileName.slice(0, -4), file: "index" };
    if (fileName.endsWith(".pack")) return { name: fileName.slice(0, -5), file: "pack" };
    return null;
  }

  /** The folder of one pipeline's job records and datum index. */
  jobDir(pipeline: string): string {
    return `${this.jobs}/${pipeline}`;
  }

  /** A job's record. */
  job(pipeline: string, id: string): string {
    return `${this.jobDir(pipeline)}/${id}${JOB_RECORD}`;
  }

  /**
   * A job's datum log (JSON lines, appended to): its datums' records, as far as its record
   * says (see `lib/pipeline/_datum_log.ts`).
   */
  datumLog(pipeline: string, id: string): string {
    return `${this.jobDir(pipeline)}/${id}.datums`;
  }

  /** The job id of a file listed in a pipeline's job folder, or null when it is no record. */
  static jobOf(fileName: string): string | null {
    return fileName.endsWith(JOB_RECORD) ? fileName.slice(0, -JOB_RECORD.length) : null;
  }

  /** A job's re-run request. */
  rerunRequest(pipeline: string, id: string): string {
    return `${this.jobDir(pipeline)}/${id}.rerun`;
  }

  /** A job's stop request. */
  stopRequest(pipeline: string, id: string): string {
    return `${this.jobDir(pipeline)}/${id}.stop`;
  }

  /** The attempts a job has made at each of its datums (and at finishing). */
  attempts(pipeline: string, id: string): string {
    return `${this.jobDir(pipeline)}/${id}.attempts`;
  }

  /** A pipeline's index of its job ids, ascending: what listings read instead of the folder. */
  jobIndex(pipeline: string): string {
    return `${this.jobDir(pipeline)}/jobs.index`;
  }

  /** The lock its writers take on a pipeline's job index. */
  jobIndexLock(pipeline: string): string {
    return `${this.jobDir(pipeline)}/jobs.index.lock`;
  }

  /** A pipeline's index of the datums that succeeded. */
  datumIndex(pipeline: string): string {
    return `${this.jobDir(pipeline)}/datums.jsonl`;
  }

  /** How far a pipeline's datum index went when its last successful job ended. */
  datumIndexMark(pipeline: string): string {
    return `${this.jobDir(pipeline)}/datums.mark`;
  }

  /** What this store knows of the remote `name`. */
  remoteCache(name: string): string {
    return `${this.remoteCaches}/${name}`;
  }

  /** A running job's workspace. */
  work(jobId: string): string {
    return `${this.workspaces}/${jobId}`;
  }
}
