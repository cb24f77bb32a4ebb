/** `tusk list|inspect|stop|wait job`. */
import * as lib from "../lib/mod.ts";
import {
  formatAge,
  formatTable,
  humanDuration,
  printable,
  TableStream,
} from "../lib/format/format.ts";
import { jobProgress } from "./_job_progress.ts";
import { interruptible } from "./_interrupt.ts";
import { count } from "./_count.ts";
import { warnDamaged } from "./_damaged.ts";
import { programText } from "../lib/format/program.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `3 + 1 / 4 (1 failed)`: processed + skipped / total, and the failed if any. */
function progressText(p: { processed: number; skipped: number; total: number; failed: number }) {
  return `${p.processed} + ${p.skipped} / ${p.total}${p.failed ? ` (${p.failed} failed)` : ""}`;
}

/** Rows of `list job` printed at once when it streams (without `-n`). */
const STREAM_ROWS = 1000;

const JOB_HEADER = [
  "ID",
  "PIPELINE",
  "OUTPUT COMMIT",
  "STARTED",
  "DURATION",
  "RESTART",
  "PROGRESS",
  "STATE",
];

/** One row of `list job`. */
function jobRow(j: lib.JobRecord, now: Date): string[] {
  return [
    j.id,
    j.pipeline,
    j.outputCommit ? `${j.pipeline}@${j.outputCommit.slice(0, 32)}` : "-",
    formatAge(j.started ?? j.created, now),
    j.finished && j.started ? humanDuration(Date.parse(j.finished) - Date.parse(j.started)) : "-",
    String(j.restart),
    progressText(j.progress),
    j.state.toLowerCase(),
  ];
}

/**
 * `tusk list job`: newest first. Without `-n` it prints as it reads, a piece of rows at a
 * time (the JSON array too), so memory stays bounded however many jobs there are.
 */
export async function listJob(
  cli: CliContext,
  _: [],
  o: { pipeline: string | undefined; number: string | undefined; json: boolean },
): Promise<void> {
  const store = await cli.store();
  const limit = count(o.number);
  const which = {
    ...(o.pipeline ? { pipeline: o.pipeline } : {}),
    onDamaged: warnDamaged(cli),
  };
  const now = store.now();
  if (limit !== undefined) {
    const jobs = await lib.listJobs(store, { ...which, limit });
    if (o.json) return cli.json(jobs);
    cli.out(formatTable(JOB_HEADER, jobs.map((j) => jobRow(j, now))));
    return;
  }
  const jobs = await lib.streamJobs(store, which);
  if (o.json) {
    // As `cli.json()` prints an array, an element at a time.
    let first = true;
    for await (const j of jobs) {
      const item = JSON.stringify(j, null, 2).replaceAll("\n", "\n  ");
      cli.outExact(`${first ? "[\n" : ",\n"}  ${item}`);
      first = false;
    }
    cli.outExact(first ? "[]\n" : "\n]\n");
    return;
  }
  const table = new TableStream(JOB_HEADER);
  let rows: string[][] = [];
  for await (const j of jobs) {
    rows.push(jobRow(j, now));
    if (rows.length < STREAM_ROWS) continue;
    cli.out(table.piece(rows));
    rows = [];
  }
  cli.out(table.piece(rows));
}

/** `tusk inspect job <job>`. */
export async function inspectJob(cli: CliContext, [id]: [string], o: JsonOption): Promise<void> {
  const store = await cli.store();
  const j = await lib.inspectJob(store, id);
  if (o.json) return cli.json(j);
  cli.out(
    `ID: ${j.id}\nPipeline: ${j.pipeline} (version ${j.version})\nState: ${j.state}\n` +
      (j.reason ? `Reason: ${printable(j.reason)}\n` : "") +
      (j.rerunOf ? `Re-run of: ${j.rerunOf}${j.reprocess ? " (every datum again)" : ""}\n` : "") +
      `Started: ${formatAge(j.started ?? j.created, store.now())}\nProgress: ${
        progressText(j.progress)
      }\n` +
      `Output commit: ${j.outputCommit ?? "-"}\nInputs:\n` +
      j.inputs.map((i) => `  ${i.name}: ${i.repo}@${i.commit ?? "-"} (${i.branch})\n`).join("") +
      `Spec: ${j.specHash}\nCode: ${j.codeHash}\n` +
      (j.program ? `Program: ${programText(j.program)}\n` : ""),
  );
}

/** `tusk stop job <job>`. */
export async function stopJob(cli: CliContext, [id]: [string]): Promise<void> {
  const j = await lib.stopJob(await cli.store(), id);
  cli.out(`${j.id}\n`);
}

/** `tusk wait job <job>`: until it finished; with no scheduler running, it runs here. */
export async function waitJob(cli: CliContext, [id]: [string], o: JsonOption): Promise<void> {
  const store = await cli.store();
  const { mode } = await cli.sandbox();
  const j = await interruptible((signal) =>
    lib.waitJob(store, id, { sandbox: mode, onEvent: jobProgress(cli), signal })
  );
  if (o.json) return cli.json(j);
  cli.out(`${j.id} ${j.state}\n`);
}
