/**
 * `tusk doctor`: the machine and the store, checked — Deno's version, the sandbox stages
 * get, the host programs pipelines run and whether each is there, the scheduler holding the
 * store (if any), the store's health, each cron input's next tick — with every problem
 * found and what to do about it. Returns the report; printing it is the CLI's.
 */
import { TuskError } from "../errors.ts";
import { JobStore } from "../pipeline/jobs.ts";
import { type Pipeline, pipelinesOf } from "../pipeline/pipelines.ts";
import type { HostProgram } from "../pipeline/program.ts";
import { currentProgram } from "../runner/host_program.ts";
import { hostSystem, taskLimitText } from "../runner/host_stage.ts";
import { inputLeaves } from "../pipeline/spec/input.ts";
import { detectSandbox, type SandboxMode } from "../runner/detect.ts";
import { nextTick } from "../scheduler/cron.ts";
import { leaseHolder } from "../scheduler/lease.ts";
import type { Store } from "../store/store.ts";
import { verify } from "./integrity.ts";

/** One cron input and when it ticks next. */
export interface CronTick {
  readonly pipeline: string;
  readonly input: string;
  /** The cron expression. */
  readonly spec: string;
  /** The next tick (ISO time); null while the pipeline is stopped. */
  readonly next: string | null;
}

/** A host program pipelines run, as recorded, and whether it is there now. */
export interface ProgramCheck {
  /** `cmd[0]` as the specs name it. */
  readonly name: string;
  /** Where it was found when the pipelines were made. */
  readonly path: string;
  /** Its version line then, or null. */
  readonly version: string | null;
  /** The pipelines that run it (as their stage or errCmd). */
  readonly pipelines: readonly string[];
  /** It is there and starts in the sandbox. */
  readonly present: boolean;
  /** Present, but another file than when the pipelines were made (its version line now). */
  readonly changed?: string | null;
  /** Not present: why. */
  readonly problem?: string;
}

/** What `doctor()` found, as `tusk doctor --json` prints it. */
export interface DoctorReport {
  /** Deno's version. */
  readonly deno: string;
  /** The store folder. */
  readonly store: string;
  /** `"ok"`, or why verification failed and what to do about it. */
  readonly health: "ok" | `BROKEN: ${string}`;
  /** The sandbox stages get here, as `--sandbox auto` chooses it, and why. */
  readonly sandbox: SandboxMode;
  readonly sandboxReason: string;
  /** What caps a host-program stage's processes here, in words. */
  readonly processLimit: string;
  /** The host programs pipelines run, each checked. */
  readonly programs: readonly ProgramCheck[];
  /** Which scheduler holds the store, or that none does. */
  readonly scheduler: string;
  readonly cron: readonly CronTick[];
  /** Each problem found, with what to do about it. */
  readonly problems: readonly string[];
}

/** Options of `doctor()`. */
export interface DoctorOptions {
  /** The time the next cron ticks are counted from (default: the store's clock). */
  readonly now?: Date;
}

/** Check the machine and `store`; a store that fails verification is reported, not thrown. */
export async function doctor(store: Store, options: DoctorOptions = {}): Promise<DoctorReport> {
  const sandbox = await detectSandbox("auto");
  const holder = await leaseHolder(store);
  const problems: string[] = [];
  let health: DoctorReport["health"] = "ok";
  try {
    // A damaged job record is a problem of its own, with its remedy: the rest is verified.
    for (const d of (await new JobStore(store).scan()).damaged) problems.push(d.error.message);
    await verify(store, { skipDamagedJobs: true });
  } catch (e) {
    // A problem with a repair of its own (a stale cache entry, a state file to rebuild, an
    // entry of the wrong kind) says what to do in its message: no backup is needed.
    const repair = e instanceof TuskError && typeof e.data.repair === "string";
    const why = repair
      ? (e as Error).message
      : `${
        (e as Error).message
      } — restore the store from a backup, or run "tusk verify" for details`;
    health = `BROKEN: ${why}`;
    problems.push(`the store failed verification: ${why}`);
  }
  if (sandbox.mode === "deno") {
    problems.push(
      `stages run under Deno permissions only (${sandbox.reason}) — install bubblewrap ` +
        `("apt-get install bubblewrap") and allow unprivileged user namespaces for the OS sandbox`,
    );
  }
  const programs = await checkPrograms(store);
  for (const p of programs) {
    if (!p.present) {
      problems.push(
        `host program "${p.path}" (${p.name}) of pipeline${p.pipelines.length === 1 ? "" : "s"} ${
          p.pipelines.join(", ")
        }: ${p.problem}`,
      );
    }
  }
  if (programs.length > 0 && sandbox.mode !== "bwrap") {
    problems.push(
      `pipelines ${
        [...new Set(programs.flatMap((p) => p.pipelines))].join(", ")
      } run host programs, which run only inside bwrap: their jobs end UNRUNNABLE here — install bubblewrap and allow unprivileged user namespaces`,
    );
  }
  const now = options.now ?? store.now();
  const cron: CronTick[] = [];
  try {
    for (const p of await pipelinesOf(await store.state())) {
      for (const c of inputLeaves(p.parsed.input, "cron")) {
        const start = c.start ? new Date(c.start) : undefined;
        const next = p.stopped ? null : nextTick(c.spec, now, start).toISOString();
        cron.push({ pipeline: p.name, input: c.name, spec: c.spec, next });
      }
    }
  } catch { /* an unreadable store is reported by verify above */ }
  if (cron.some((c) => c.next !== null) && holder?.mode !== "daemon") {
    problems.push(
      'cron pipelines tick only while a scheduler runs — start one with "tusk up --headless"' +
        ' (or tick once with "tusk run cron <pipeline>")',
    );
  }
  return {
    deno: Deno.version.deno,
    store: store.root,
    health,
    sandbox: sandbox.mode,
    sandboxReason: sandbox.reason,
    processLimit: taskLimitText(await hostSystem()),
    programs,
    scheduler: holder
      ? `${holder.mode} pid ${holder.pid} since ${holder.since}`
      : "not running (commands run their jobs in-process; start one with tusk up)",
    cron,
    problems,
  };
}

/** The host programs of `store`'s pipelines, each checked once (by its recorded path). */
async function checkPrograms(store: Store): Promise<ProgramCheck[]> {
  let pipelines: Pipeline[];
  try {
    pipelines = await pipelinesOf(await store.state());
  } catch {
    return []; // an unreadable store is reported by verify
  }
  const byPath = new Map<string, { program: HostProgram; pipelines: string[] }>();
  for (const p of pipelines) {
    for (const program of [p.program, p.errProgram]) {
      if (!program) continue;
      const seen = byPath.get(program.path) ?? { program, pipelines: [] };
      if (!seen.pipelines.includes(p.name)) seen.pipelines.push(p.name);
      byPath.set(program.path, seen);
    }
  }
  const out: ProgramCheck[] = [];
  for (const { program, pipelines: names } of byPath.values()) {
    const base = {
      name: program.name,
      path: program.path,
      version: program.version,
      pipelines: names,
    };
    try {
      const now = await currentProgram(program);
      out.push({
        ...base,
        present: true,
        ...(now.sha256 !== program.sha256 ? { changed: now.version } : {}),
      });
    } catch (err) {
      if (!(err instanceof TuskError)) throw err;
      out.push({ ...base, present: false, problem: err.message });
    }
  }
  return out.sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}
