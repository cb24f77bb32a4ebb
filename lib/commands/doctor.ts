/**
 * `tusk doctor`: the machine and the store, checked — Deno's version, the sandbox stages
 * get, the scheduler holding the store (if any), the store's health, each cron input's next
 * tick — with every problem found and what to do about it. Returns the report; printing it
 * is the CLI's.
 */
import { TuskError } from "../errors.ts";
import { JobStore } from "../pipeline/jobs.ts";
import { pipelinesOf } from "../pipeline/pipelines.ts";
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
  const now = options.now ?? store.now();
  const cron: CronTick[] = [];
  try {
    for (const p of pipelinesOf(await store.state())) {
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
    scheduler: holder
      ? `${holder.mode} pid ${holder.pid} since ${holder.since}`
      : "not running (commands run their jobs in-process; start one with tusk up)",
    cron,
    problems,
  };
}
