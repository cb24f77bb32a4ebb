/** `tusk export pachyderm`: pipelines as Pachyderm specs, stage bundles and a README. */
import * as lib from "../lib/mod.ts";
import type { CliContext } from "./context.ts";

/** `tusk export pachyderm [pipeline...] -o <dir> [--force]`. */
export async function exportPachyderm(
  cli: CliContext,
  [names]: [string[]],
  o: { output: string; force: boolean; json: boolean },
): Promise<void> {
  const r = await lib.exportPachyderm(await cli.store(), names, {
    output: cli.absolute(o.output),
    force: o.force,
  });
  if (o.json) return cli.json(r);
  for (const p of r.pipelines) {
    if (p.dockerfile !== undefined) {
      cli.out(
        `${p.specFile} (image ${p.image}: build it from ${p.dockerfile}, code in ${p.codeDir})\n`,
      );
    } else cli.out(`${p.specFile} (stage ${p.stageFile}, code repo ${p.codeRepo})\n`);
    for (const d of p.dropped) cli.err(`tusk: ${p.name}: left out ${d}\n`);
  }
  cli.out(`${r.readme}: the pachctl commands that create the repos and pipelines, in order\n`);
}
