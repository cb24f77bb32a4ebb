/**
 * The pipeline registry: each pipeline is a ledger record (kind "pipeline") holding its
 * current version — the spec (as a blob), the stage code snapshot (a Deno bundle as a blob,
 * or for a host program its code folder as a tree) and their hashes, the host program it
 * runs (if any) as found then, and the spec as parsed when it was created, so that reading
 * a record validates nothing. Creating one also creates its output repo and any cron
 * repos; updating one makes a new version; its history stays in the ledger.
 */
import { AlreadyExistsError, InvalidArgumentError, NotFoundError, TuskError } from "../errors.ts";
import { validateStageEnv } from "./env.ts";
import { canonicalJson } from "../store/codec.ts";
import { type Hash, sha256 } from "../store/hash.ts";
import { didYouMean } from "../store/names.ts";
import type { StoreState } from "../store/state.ts";
import type { Store, Transaction } from "../store/store.ts";
import { snapshotStage, type StageSnapshot } from "./code.ts";
import { type CodeSnapshot, snapshotCodeFolder } from "./code_folder.ts";
import type { HostProgram, ProgramResolver } from "./program.ts";
import { JobStore } from "./jobs.ts";
import { CRON_BRANCH, inputLeaves } from "./spec/input.ts";
import type { PipelineSpec } from "./spec/parse_spec.ts";
import { SpecError } from "./spec/spec_error.ts";

import { PIPELINE_KIND } from "./kind.ts";

export { PIPELINE_KIND };

/** One pipeline's current version, as kept in the ledger. */
export interface PipelineRecord {
  readonly name: string;
  /**
   * Ledger sequence number that created this pipeline: one deleted and created again under
   * the same name is another pipeline, whose jobs start afresh. (Absent in records made
   * before it was kept.)
   */
  readonly createdSeq?: number;
  readonly version: number;
  /** SHA-256 of the canonical spec JSON (a blob in the store). */
  readonly specHash: Hash;
  /**
   * SHA-256 of the stage bundle (a blob in the store), or for a stage that is a host
   * program the hash of its code folder's tree.
   */
  readonly codeHash: Hash;
  /** For a code folder: every other object of its tree (subtrees and files), kept alive. */
  readonly codeObjects?: readonly Hash[];
  /** For a stage that is a host program: the program, as found when this version was made. */
  readonly program?: HostProgram;
  /** For an `errCmd` that is a host program: its program. */
  readonly errProgram?: HostProgram;
  /** SHA-256 of the `errCmd` stage bundle, when the spec has one. */
  readonly errCodeHash?: Hash;
  /** The spec, camelCase, as given. */
  readonly spec: Readonly<Record<string, unknown>>;
  /**
   * The spec as `parseSpec()` gave it when the version was made, defaults filled in, so
   * that reading the record validates nothing. (Absent in records made before it was
   * kept: those are parsed when read.)
   */
  readonly parsedSpec?: StoredSpec;
  /** Host path of the spec file the version came from. */
  readonly specFile: string;
  /**
   * Local modules of the stage (relative to its folder) and npm packages; for a code folder,
   * its files (`/`-rooted) and no packages.
   */
  readonly modules: readonly string[];
  readonly packages: readonly string[];
  readonly created: string;
  readonly updated: string;
  readonly stopped: boolean;
  /** Datums recorded by versions before this one must re-run (`update --reprocess`). */
  readonly reprocessSince: number;
}

/**
 * A parsed spec as a pipeline record keeps it: without `raw`, which is the record's `spec`,
 * and with the version of this shape, `STORED_SPEC_FORMAT`.
 */
export interface StoredSpec {
  readonly format: number;
  readonly spec: Omit<PipelineSpec, "raw">;
}

/**
 * The shape of `StoredSpec.spec`: a record keeping another (written by another version of
 * tusk) has its spec parsed when read, as one that keeps none. Bump it whenever
 * `parseSpec()` would give another spec for a stored one (a new field, another default).
 */
export const STORED_SPEC_FORMAT = 1;

/** A pipeline record with its parsed spec. */
export interface Pipeline extends PipelineRecord {
  readonly parsed: PipelineSpec;
}

function storedSpec(spec: PipelineSpec): StoredSpec {
  const { raw: _, ...parsed } = spec;
  return { format: STORED_SPEC_FORMAT, spec: parsed };
}

let parsing: Promise<typeof import("./spec/quick_parse_spec.ts")> | null = null;

/**
 * The spec parser, loaded on first use: reading records that keep their parsed spec needs
 * none, so neither does a reader of pipelines such as the dashboard. It loads zod only to
 * word the refusal of a spec.
 */
function parser(): Promise<typeof import("./spec/quick_parse_spec.ts")> {
  const specifier = new URL("./spec/quick_parse_spec.ts", import.meta.url).href;
  return parsing ??= import(specifier) as Promise<typeof import("./spec/quick_parse_spec.ts")>;
}

/** The parsed spec of a record: the one it keeps, or its spec parsed again. */
async function specOf(rec: PipelineRecord): Promise<PipelineSpec> {
  const stored = rec.parsedSpec;
  if (stored?.format === STORED_SPEC_FORMAT) return { ...stored.spec, raw: rec.spec };
  return await (await parser()).quickParseSpec(rec.spec);
}

async function loaded(rec: PipelineRecord): Promise<Pipeline> {
  return { ...rec, parsed: await specOf(rec) };
}

/** All pipelines in a state snapshot, by name. */
export async function pipelinesOf(state: StoreState): Promise<Pipeline[]> {
  const recs = state.meta[PIPELINE_KIND] ?? {};
  const names = Object.keys(recs).sort();
  return await Promise.all(names.map((name) => loaded(recs[name]!.value as PipelineRecord)));
}

/** `pipelines` in dependency order: each after those of them whose output it reads. */
export function dependencyOrder(pipelines: readonly Pipeline[]): Pipeline[] {
  const byName = new Map(pipelines.map((p) => [p.name, p]));
  const out: Pipeline[] = [];
  const seen = new Set<string>();
  const visit = (p: Pipeline) => {
    if (seen.has(p.name)) return;
    seen.add(p.name);
    for (const i of inputLeaves(p.parsed.input)) {
      const up = byName.get(i.repo);
      if (up) visit(up);
    }
    out.push(p);
  };
  for (const p of pipelines) visit(p);
  return out;
}

/** One pipeline, or NotFoundError with a suggestion. */
export async function pipelineOf(state: StoreState, name: string): Promise<Pipeline> {
  const recs = state.meta[PIPELINE_KIND] ?? {};
  const rec = recs[name];
  if (!rec) {
    throw new NotFoundError(
      `Cannot find pipeline "${name}"${didYouMean(name, Object.keys(recs))}`,
      { pipeline: name },
    );
  }
  return await loaded(rec.value as PipelineRecord);
}

/** Options of `create pipeline` / `update pipeline`. */
export interface CreatePipelineOptions {
  readonly update?: boolean;
  readonly reprocess?: boolean;
  /**
   * Finds and checks a host program the spec's stage runs (`cmd[0]` not `deno`); without
   * it such a spec is refused.
   */
  readonly resolveProgram?: ProgramResolver;
  /**
   * Called before the spec is parsed with the host program its `transform.cmd` seems to name
   * (`namedProgram()`), unchecked: to start checking it while the parser loads.
   */
  readonly prepareProgram?: (name: string) => void;
}

/**
 * The host program spec text `text` seems to name — `transform.cmd[0]` when the text is
 * JSON and that is a string other than `deno` — without checking the spec; else null.
 */
export function namedProgram(text: string): string | null {
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch {
    return null;
  }
  const cmd = (spec as { transform?: { cmd?: unknown } } | null)?.transform?.cmd;
  const name = Array.isArray(cmd) ? cmd[0] : undefined;
  if (typeof name !== "string" || name === "" || name.split("/").pop() === "deno") return null;
  return name;
}

/** The objects a pipeline record keeps alive: its spec, its code, and its code's parts. */
export function recordObjects(
  p: Pick<PipelineRecord, "specHash" | "codeHash" | "errCodeHash" | "codeObjects">,
): Hash[] {
  return [
    p.specHash,
    p.codeHash,
    ...(p.errCodeHash ? [p.errCodeHash] : []),
    ...(p.codeObjects ?? []),
  ];
}

/** Does pipeline `p` run a host program (not a Deno stage)? */
export function runsHostProgram(p: Pick<Pipeline, "parsed">): boolean {
  return p.parsed.program !== undefined;
}

async function upstreamPipelines(
  state: StoreState,
  repo: string,
  seen = new Set<string>(),
): Promise<Set<string>> {
  const recs = state.meta[PIPELINE_KIND] ?? {};
  const rec = recs[repo];
  if (!rec || seen.has(repo)) return seen;
  seen.add(repo);
  const spec = await specOf(rec.value as PipelineRecord);
  for (const i of inputLeaves(spec.input)) await upstreamPipelines(state, i.repo, seen);
  return seen;
}

/**
 * Create (or with `update`, replace) a pipeline from a spec file: parse and validate it,
 * check and bundle the stage, then in one transaction store spec and code, record the
 * pipeline and create its output and cron repos. Nothing changes when any check fails.
 */
export async function createPipeline(
  store: Store,
  specFile: string,
  options: CreatePipelineOptions = {},
): Promise<Pipeline> {
  let text: string;
  try {
    text = await Deno.readTextFile(specFile);
  } catch {
    throw new InvalidArgumentError(`Cannot read pipeline spec "${specFile}"`, { file: specFile });
  }
  if (options.prepareProgram) {
    const name = namedProgram(text);
    if (name !== null) options.prepareProgram(name);
  }
  const spec = await (await parser()).quickParseSpecText(text, { file: specFile });
  try {
    validateStageEnv(spec.transform.env);
  } catch (err) {
    if (err instanceof TuskError) {
      throw new SpecError(`${err.message} (transform.env)`, {
        rule: "REFUSED_ENV",
        path: "transform.env",
        file: specFile,
      });
    }
    throw err;
  }
  const dir = specFile.slice(0, specFile.lastIndexOf("/")) || "/";
  const errCmd = spec.transform.errCmd;
  let program: HostProgram | undefined;
  let errProgram: HostProgram | undefined;
  // A host program's code is the spec's folder; a Deno stage's, its bundle (and its
  // errCmd's, one of its own). The parser made both commands the same kind.
  let folder: CodeSnapshot | undefined;
  let snapshot: StageSnapshot | undefined;
  let errSnapshot: StageSnapshot | undefined;
  if (spec.program !== undefined) {
    if (!options.resolveProgram) {
      throw new TypeError("createPipeline() needs resolveProgram for a host-program stage");
    }
    program = await options.resolveProgram(spec.program, { specFile, field: "transform.cmd" });
    if (errCmd !== undefined) {
      errProgram = await options.resolveProgram(errCmd[0]!, {
        specFile,
        field: "transform.errCmd",
      });
    }
    folder = await snapshotCodeFolder(dir, { specFile, skip: [store.root] });
  } else {
    snapshot = await snapshotStage(`${dir}/${spec.stage}`, { specFile, root: dir });
    errSnapshot = errCmd?.[2]
      ? await snapshotStage(`${dir}/${errCmd[2]}`, {
        specFile,
        field: "transform.errCmd[2]",
        root: dir,
      })
      : undefined;
  }
  const specBytes = new TextEncoder().encode(canonicalJson(spec.raw));
  const specHash = sha256(specBytes);
  const codeHash = snapshot ? sha256(snapshot.bundle) : folder!.hash;
  const codeObjects = folder ? [...folder.objects.keys()].filter((h) => h !== codeHash) : [];
  return await store.transact(async (tx) => {
    const existing = (tx.state.meta[PIPELINE_KIND] ?? {})[spec.name];
    if (options.update && !existing) {
      throw new NotFoundError(
        `Cannot update pipeline "${spec.name}": it does not exist (use create pipeline)`,
        { pipeline: spec.name },
      );
    }
    if (!options.update && existing) {
      throw new AlreadyExistsError(
        `Pipeline "${spec.name}" already exists: use update pipeline to change it`,
        { pipeline: spec.name },
      );
    }
    if (!existing && tx.state.repos[spec.name]) {
      throw new AlreadyExistsError(
        `Cannot create pipeline "${spec.name}": a repo with that name exists and would be its output repo`,
        { pipeline: spec.name },
      );
    }
    await checkInputs(tx, spec, specFile);
    await tx.batch.add(specBytes);
    if (snapshot) await tx.batch.add(snapshot.bundle);
    for (const [hash, bytes] of folder?.objects ?? []) await tx.batch.add(bytes, hash);
    const errCodeHash = errSnapshot ? await tx.batch.add(errSnapshot.bundle) : undefined;
    const prev = existing?.value as PipelineRecord | undefined;
    const version = (prev?.version ?? 0) + 1;
    const createdSeq = prev ? prev.createdSeq : tx.state.ledger.seq + 1;
    const record: PipelineRecord = {
      name: spec.name,
      ...(createdSeq !== undefined ? { createdSeq } : {}),
      version,
      specHash,
      codeHash,
      ...(errCodeHash ? { errCodeHash } : {}),
      ...(codeObjects.length > 0 ? { codeObjects } : {}),
      ...(program ? { program } : {}),
      ...(errProgram ? { errProgram } : {}),
      spec: spec.raw,
      parsedSpec: storedSpec(spec),
      specFile,
      modules: snapshot ? snapshot.modules : [...folder!.files],
      packages: snapshot ? snapshot.packages : [],
      created: prev?.created ?? tx.time,
      updated: tx.time,
      stopped: prev?.stopped ?? false,
      reprocessSince: options.reprocess ? version : (prev?.reprocessSince ?? 0),
    };
    if (!existing) {
      tx.change({
        type: "repo:create",
        repo: spec.name,
        description: `Output repo for pipeline ${spec.name}`,
      });
    }
    if (!tx.state.repos[spec.name]!.branches[spec.outputBranch]) {
      tx.change({
        type: "branch:move",
        repo: spec.name,
        branch: spec.outputBranch,
        from: null,
        to: null,
      });
    }
    for (const i of inputLeaves(spec.input, "cron")) {
      if (!tx.state.repos[i.repo]) {
        tx.change({
          type: "repo:create",
          repo: i.repo,
          description: `Cron ticks for ${spec.name}`,
        });
        tx.change({ type: "branch:move", repo: i.repo, branch: CRON_BRANCH, from: null, to: null });
      }
    }
    tx.change({
      type: "meta:put",
      kind: PIPELINE_KIND,
      name: spec.name,
      objects: recordObjects(record),
      value: record,
    });
    return { ...record, parsed: spec };
  });
}

async function checkInputs(tx: Transaction, spec: PipelineSpec, specFile: string): Promise<void> {
  for (const [idx, i] of inputLeaves(spec.input).entries()) {
    if (i.kind === "cron") continue;
    if (i.repo === spec.name) {
      throw new SpecError(
        `Pipeline "${spec.name}" cannot read its own output repo: that is a cycle`,
        {
          rule: "CYCLE",
          path: `input (input #${idx + 1})`,
          file: specFile,
        },
      );
    }
    // An optional input may read a repo made later: until then it gives an empty folder.
    if (!tx.state.repos[i.repo] && !i.optional) {
      throw new SpecError(
        `Unknown input repo "${i.repo}"${
          didYouMean(i.repo, Object.keys(tx.state.repos))
        }: create it first`,
        { rule: "UNKNOWN_REPO", path: `input (repo "${i.repo}")`, file: specFile },
      );
    }
    if ((await upstreamPipelines(tx.state, i.repo)).has(spec.name)) {
      throw new SpecError(
        `Input repo "${i.repo}" depends on pipeline "${spec.name}" itself: that is a cycle`,
        { rule: "CYCLE", path: `input (repo "${i.repo}")`, file: specFile },
      );
    }
  }
}

/** Pause or resume a pipeline (`stop pipeline` / `start pipeline`). */
export async function setPipelineStopped(
  store: Store,
  name: string,
  stopped: boolean,
): Promise<Pipeline> {
  return await store.transact(async (tx) => {
    const p = await pipelineOf(tx.state, name);
    const { parsed, ...rec } = p;
    const record: PipelineRecord = { ...rec, stopped, updated: tx.time };
    tx.change({
      type: "meta:put",
      kind: PIPELINE_KIND,
      name,
      objects: recordObjects(record),
      value: record,
    });
    return await Promise.resolve({ ...record, parsed });
  });
}

/**
 * Delete a pipeline, its output repo (and its cron repos) and its jobs. Refused while
 * another pipeline reads its output.
 */
export async function deletePipeline(store: Store, name: string): Promise<void> {
  await store.transact(async (tx) => {
    const p = await pipelineOf(tx.state, name);
    for (const other of await pipelinesOf(tx.state)) {
      if (other.name === name) continue;
      if (inputLeaves(other.parsed.input).some((i) => i.repo === name)) {
        throw new InvalidArgumentError(
          `Cannot delete pipeline "${name}": pipeline "${other.name}" reads its output; delete that first`,
          { pipeline: name, dependent: other.name },
        );
      }
    }
    tx.change({ type: "meta:delete", kind: PIPELINE_KIND, name });
    if (tx.state.repos[name]) tx.change({ type: "repo:delete", repo: name });
    for (const i of inputLeaves(p.parsed.input, "cron")) {
      if (tx.state.repos[i.repo]) {
        tx.change({ type: "repo:delete", repo: i.repo });
      }
    }
    await Promise.resolve();
  });
  // After the ledger says so: a crash in between leaves records that no pipeline owns,
  // which a pipeline created later under the name ignores and `gc` removes.
  await new JobStore(store).removePipeline(name);
}

/** The stage bundle of a pipeline version. */
export async function readBundle(
  store: Store,
  p: Pick<PipelineRecord, "codeHash">,
): Promise<Uint8Array> {
  return await store.objects.readVerified(p.codeHash);
}
