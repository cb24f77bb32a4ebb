/** `tusk list|inspect|restart datum`. */
import * as lib from "../lib/mod.ts";
import { formatSize, formatTable, humanDuration, printableName } from "../lib/format/format.ts";
import { afterCommit } from "./_after_commit.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk list datum <job>`. */
export async function listDatum(cli: CliContext, [job]: [string], o: JsonOption): Promise<void> {
  const datums = await lib.listDatums(await cli.store(), job);
  if (o.json) return cli.json(datums);
  cli.out(formatTable(
    ["ID", "FILES", "STATUS", "TIME"],
    datums.map((d) => [
      d.id,
      d.inputs.map((i) => `${i.repo}@${i.commit.slice(0, 12)}:${printableName(i.path)}`).join(", "),
      d.state.toLowerCase(),
      d.state === "SKIPPED" ? "-" : humanDuration(d.durationMs),
    ]),
  ));
}

/** `tusk inspect datum <job> <datum>`. */
export async function inspectDatum(
  cli: CliContext,
  [job, datum]: [string, string],
  o: JsonOption,
): Promise<void> {
  const d = await lib.inspectDatum(await cli.store(), job, datum);
  if (o.json) return cli.json(d);
  cli.out(
    `ID: ${d.id}\nJob: ${d.job} (pipeline ${d.pipeline})\nState: ${d.state}\nHash: ${d.hash}\n` +
      `Inputs:\n` +
      d.inputs.map((i) => `  ${i.name}: ${i.repo}@${i.commit}:${i.path}\n`).join("") +
      `Tries: ${d.tries}\n` +
      (d.state === "SKIPPED" ? "" : `Duration: ${humanDuration(d.durationMs)}\n`) +
      `Exit code: ${d.exitCode ?? "-"}\n` +
      (d.message ? `Message: ${d.message}\n` : "") +
      (d.reusedFrom ? `Output reused from job: ${d.reusedFrom}\n` : "") +
      (d.outputTree ? `Output: ${d.outputTree} (${formatSize(d.outputSize ?? 0)})\n` : "") +
      `Logs: tusk logs --job ${d.job} --datum ${d.id}\n`,
  );
}

/** `tusk restart datum <job> [datum]`: re-run a job's failed datums (or one). */
export async function restartDatum(
  cli: CliContext,
  [job, datum]: [string, string | undefined],
  o: { wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await lib.restartDatum(store, job, datum);
  await afterCommit(cli, store, o.wait);
}
