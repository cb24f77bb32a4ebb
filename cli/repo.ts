/** `tusk create|list|inspect|delete repo`. */
import * as pfs from "../lib/pfs/repo.ts";
import { IntegrityError } from "../lib/pfs/store.ts";
import { formatAge, formatSize, formatTable, printable } from "../lib/format/format.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk create repo <repo>`. */
export async function createRepo(
  cli: CliContext,
  [name]: [string],
  o: { description: string | undefined },
): Promise<void> {
  await pfs.createRepo(
    await cli.store(),
    name,
    o.description ? { description: o.description } : {},
  );
}

/**
 * `tusk list repo`: every repo; one whose head commit cannot be read is listed as
 * "damaged", and the command then exits 1 naming it.
 */
export async function listRepo(cli: CliContext, _: [], o: JsonOption): Promise<void> {
  const store = await cli.store();
  const repos = await pfs.listRepos(store);
  if (o.json) cli.json(repos);
  else {
    const now = store.now();
    cli.out(formatTable(
      ["NAME", "CREATED", "SIZE"],
      repos.map((r) => [
        r.name,
        formatAge(r.created, now),
        r.size === null ? "damaged" : formatSize(r.size),
      ]),
    ));
  }
  const damaged = repos.filter((r) => r.damaged !== undefined);
  if (damaged.length === 0) return;
  throw new IntegrityError(
    `Cannot read the head commit of ${damaged.map((r) => `repo "${r.name}"`).join(", ")}: ` +
      `${damaged.map((r) => r.damaged).join("; ")} (every other repo is listed; "tusk verify" ` +
      "checks the whole store)",
    { repos: damaged.map((r) => r.name) },
  );
}

/** `tusk inspect repo <repo>`. */
export async function inspectRepo(cli: CliContext, [name]: [string], o: JsonOption): Promise<void> {
  const store = await cli.store();
  const r = await pfs.inspectRepo(store, name);
  if (o.json) return cli.json(r);
  cli.out(
    `Name: ${r.name}\nDescription: ${printable(r.description)}\nCreated: ${
      formatAge(r.created, store.now())
    }\n` +
      `Size of HEAD on master: ${formatSize(r.size ?? 0)}\nBranches: ${
        r.branches.map((b) => b.name).join(", ")
      }\n`,
  );
}

/** `tusk delete repo <repo>`. */
export async function deleteRepo(cli: CliContext, [name]: [string]): Promise<void> {
  await pfs.deleteRepo(await cli.store(), name);
}
