/** `tusk logs`: datum logs, and with `--follow` the lines that come after. */
import * as lib from "../lib/mod.ts";
import type { CliContext } from "./context.ts";

/** `tusk logs [--job id] [--pipeline name] [--datum id] [--follow] [--raw] [--json]`. */
export async function logs(
  cli: CliContext,
  _: [],
  o: {
    job: string | undefined;
    pipeline: string | undefined;
    datum: string | undefined;
    follow: boolean;
    raw: boolean;
    json: boolean;
  },
): Promise<void> {
  const store = await cli.store();
  const filter = {
    ...(o.job ? { job: o.job } : {}),
    ...(o.pipeline ? { pipeline: o.pipeline } : {}),
    ...(o.datum ? { datum: o.datum } : {}),
  };
  // Stage output is escaped like everything else printed, unless --raw asks for it as it was.
  const print = (line: string) => (o.raw ? cli.outExact : cli.out)(`${line}\n`);
  for (const l of await lib.logs(store, filter)) {
    o.json ? cli.outExact(JSON.stringify(l) + "\n") : print(l.line);
  }
  if (!o.follow) return;
  for await (const e of await lib.followLogs(store, filter)) {
    o.json ? cli.outExact(JSON.stringify(e) + "\n") : print(e.line);
  }
}
