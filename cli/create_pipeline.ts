/**
 * `tusk create pipeline` and `update pipeline`: their handlers apart from the other pipeline
 * commands', loading only the create verb (`lib/pps/pipeline.ts`), so a pipeline is created
 * without the library's lineage, export, metrics, remote or integrity code.
 */
import { createPipeline as create } from "../lib/pps/pipeline.ts";
import { afterCommit, sandboxAhead } from "./_after_commit.ts";
import type { CliContext } from "./context.ts";

/** `tusk create pipeline -f <spec>`. */
export async function createPipeline(
  cli: CliContext,
  _: [],
  o: { file: string; wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await sandboxAhead(cli, store, { wait: o.wait, always: true });
  await create(store, cli.absolute(o.file), {
    update: false,
    reprocess: false,
    sandbox: await cli.sandboxRequest(),
  });
  await afterCommit(cli, store, o.wait);
}

/** `tusk update pipeline -f <spec>`, re-running every datum with `--reprocess`. */
export async function updatePipeline(
  cli: CliContext,
  _: [],
  o: { file: string; reprocess: boolean; wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await sandboxAhead(cli, store, { wait: o.wait, always: true });
  await create(store, cli.absolute(o.file), {
    update: true,
    reprocess: o.reprocess,
    sandbox: await cli.sandboxRequest(),
  });
  await afterCommit(cli, store, o.wait);
}
