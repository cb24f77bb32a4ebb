/** `tusk init`, `verify` and `gc`: the store as a whole. */
import { BadSourceError, Store, STORE_DIR } from "../lib/pfs/store.ts";
import { formatSize } from "../lib/format/format.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk init`: a new store, in `.tusk` here or where `--store` says. */
export async function init(cli: CliContext): Promise<void> {
  const dir = cli.storeFolder ?? cli.absolute(STORE_DIR);
  await Store.init(dir).catch((err) => {
    if (!(err instanceof Deno.errors.NotCapable)) throw err;
    throw new BadSourceError(
      `Cannot make a store in "${dir}": tusk does not write under /proc, /sys or /dev (its ` +
        "Deno permissions exclude them); give --store a folder elsewhere",
      { path: dir },
    );
  });
  cli.out(`Initialised an empty tusk store in ${dir}\n`);
}

/** `tusk verify`: check every hash, chain and link. */
export async function verify(cli: CliContext, _: [], o: JsonOption): Promise<void> {
  const { verify } = await cli.lib();
  const r = await verify(await cli.store());
  if (o.json) return cli.json({ ok: true, ...r });
  cli.out(
    `ok: ${r.entries} ledger entries, ${r.commits} commits, ${r.trees} trees, ${r.files} files, ${r.objects} objects verified\n`,
  );
}

/** `tusk gc`: free the objects nothing keeps. */
export async function gc(
  cli: CliContext,
  _: [],
  o: { dryRun: boolean; json: boolean },
): Promise<void> {
  const { gc } = await cli.lib();
  const r = await gc(await cli.store(), { dryRun: o.dryRun });
  if (o.json) return cli.json(r);
  cli.out(`${r.dryRun ? "would free" : "freed"} ${r.objects} objects (${formatSize(r.bytes)})\n`);
  if (r.kept) {
    cli.out(
      `kept ${r.kept} unreachable objects written while a job runs (it may still need them): ` +
        `run gc again once it has finished\n`,
    );
  }
  if (r.stale) {
    cli.out(
      `${r.dryRun ? "would drop" : "dropped"} ${r.stale} stale datum index entries whose ` +
        `output was gone (those datums run again)\n`,
    );
  }
}
