/**
 * `tusk list|inspect|delete|start|stop pipeline`, `draw pipeline`, `plan` and `run cron`
 * (`create` and `update pipeline` are in `create_pipeline.ts`).
 */
import * as lib from "../lib/mod.ts";
import { formatAge, formatTable, printable, printableName } from "../lib/format/format.ts";
import { programText } from "../lib/format/program.ts";
import { afterCommit } from "./_after_commit.ts";
import { warnDamaged } from "./_damaged.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk list pipeline`. */
export async function listPipeline(cli: CliContext, _: [], o: JsonOption): Promise<void> {
  const store = await cli.store();
  const ps = await lib.listPipelines(store, { onDamaged: warnDamaged(cli) });
  if (o.json) return cli.json(ps);
  const now = store.now();
  cli.out(formatTable(
    ["NAME", "VERSION", "INPUT", "CREATED", "STATE / LAST JOB", "DESCRIPTION"],
    ps.map((p) => [
      p.name,
      String(p.version),
      p.input,
      formatAge(p.created, now),
      `${p.state} / ${(p.lastJobState ?? "-").toLowerCase()}`,
      p.description,
    ]),
  ));
}

/** `tusk inspect pipeline <name>`: a pipeline and its spec. */
export async function inspectPipeline(
  cli: CliContext,
  [name]: [string],
  o: JsonOption,
): Promise<void> {
  const store = await cli.store();
  const p = await lib.inspectPipeline(store, name, { onDamaged: warnDamaged(cli) });
  if (o.json) return cli.json(p);
  const host = p.program
    ? `Program: ${printable(p.program.name)} → ${programText(p.program)}\n` +
      (p.errProgram
        ? `errCmd program: ${printable(p.errProgram.name)} → ${programText(p.errProgram)}\n`
        : "") +
      `Working dir: ${printable(p.workingDir ?? "/code")}\n` +
      `Code files: ${p.modules.map(printableName).join(", ")}\n`
    : `Stage modules: ${p.modules.map(printableName).join(", ")}\n`;
  cli.out(
    `Name: ${p.name}\nVersion: ${p.version}\nState: ${p.state}\nCreated: ${
      formatAge(p.created, store.now())
    }\n` +
      `Input: ${p.input}\nOutput Branch: ${p.outputBranch}\nSpec: ${p.specHash}\nCode: ${p.codeHash}\n` +
      (p.image !== undefined
        ? `Image: ${printable(p.image)} (recorded, not pulled: the stage runs on this host)\n`
        : "") +
      host +
      `Last job: ${p.lastJob ?? "-"} ${p.lastJobState ?? ""}\n` +
      (p.description ? `Description: ${printable(p.description)}\n` : "") +
      `Spec JSON:\n${JSON.stringify(p.spec, null, 2)}\n`,
  );
}

/** `tusk delete pipeline <name>`: the pipeline and its output repo. */
export async function deletePipeline(cli: CliContext, [name]: [string]): Promise<void> {
  await lib.deletePipeline(await cli.store(), name);
}

/** `tusk start pipeline <name>`: resume it, and run the jobs now due. */
export async function startPipeline(
  cli: CliContext,
  [name]: [string],
  o: { wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await lib.setPipelineStopped(store, name, false);
  await afterCommit(cli, store, o.wait);
}

/** `tusk stop pipeline <name>`: start no new jobs of it until it is started again. */
export async function stopPipeline(cli: CliContext, [name]: [string]): Promise<void> {
  await lib.setPipelineStopped(await cli.store(), name, true);
}

/** `tusk draw pipeline`: the pipeline DAG as text. */
export async function drawPipeline(cli: CliContext): Promise<void> {
  for (const l of await lib.drawPipelines(await cli.store())) cli.out(l + "\n");
}

/** `tusk plan <pipeline>`: which datums the next job would run or skip, and why. */
export async function plan(cli: CliContext, [name]: [string], o: JsonOption): Promise<void> {
  const r = await lib.plan(await cli.store(), name);
  if (o.json) return cli.json(r);
  if (!r.trigger) return cli.out("nothing to run: an input branch has no commits yet\n");
  cli.out(
    formatTable(
      ["DATUM", "ACTION", "WHY", "INPUTS"],
      r.rows.map((x) => [x.datum, x.action, x.why, x.inputs.join(", ")]),
    ),
  );
}

/** `tusk run cron <pipeline>`: commit a tick to its cron inputs now, and run its job. */
export async function runCron(
  cli: CliContext,
  [name]: [string],
  o: { wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await lib.runCron(store, name, { sandbox: (await cli.sandbox()).mode });
  await afterCommit(cli, store, o.wait);
}
