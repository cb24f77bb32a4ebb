/** `tusk doctor`: the report of `doctor()`, for people or as JSON. */
import * as lib from "../lib/mod.ts";
import { humanDuration, printable } from "../lib/format/format.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk doctor [--json]`: exits 1 (after the report) when the store fails verification. */
export async function doctor(cli: CliContext, _: [], o: JsonOption): Promise<void> {
  const store = await cli.store();
  const now = store.now();
  const report = await lib.doctor(store, { now });
  if (o.json) cli.json(report);
  else {
    cli.out(
      `Deno: ${report.deno}\nStore: ${report.store}\nHealth: ${report.health}\n` +
        `Sandbox: ${report.sandbox} (${report.sandboxReason})\n` +
        (report.programs.length === 0
          ? "Host programs: none (no pipeline runs one)\n"
          : "Host programs:\n") +
        report.programs.map((p) =>
          `  ${printable(p.name)} ${printable(p.path)}${
            p.version ? ` (${printable(p.version)})` : ""
          }: ${
            !p.present
              ? "MISSING"
              : p.changed !== undefined
              ? `present, changed since the pipelines were made (now ${
                printable(p.changed ?? "no --version")
              })`
              : "present"
          } — pipelines ${p.pipelines.join(", ")}\n`
        ).join("") +
        `Process limit of host programs: ${report.processLimit}\n` +
        `Scheduler: ${report.scheduler}\n` +
        report.cron.map((c) =>
          `Cron: ${c.pipeline} input ${c.input} (${c.spec}) ${
            c.next === null
              ? "paused"
              : `next tick in ${humanDuration(Date.parse(c.next) - now.getTime())} (${c.next})`
          }\n`
        ).join("") +
        (report.problems.length === 0
          ? "Problems: none\n"
          : `Problems:\n${report.problems.map((x) => `  - ${x}\n`).join("")}`),
    );
  }
  if (report.health !== "ok") throw new lib.IntegrityError("The store failed verification", {});
}
