/** `tusk create|list|delete branch`. */
import * as pfs from "../lib/pfs/commit.ts";
import { formatTable } from "../lib/format/format.ts";
import { afterCommit } from "./_after_commit.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk create branch <repo@branch>`, or move it with `--head`. */
export async function createBranch(
  cli: CliContext,
  [ref]: [string],
  o: { head: string | undefined; wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await pfs.createBranch(store, ref, o.head !== undefined ? { head: o.head } : {});
  await afterCommit(cli, store, o.wait);
}

/** `tusk list branch <repo>`. */
export async function listBranch(cli: CliContext, [repo]: [string], o: JsonOption): Promise<void> {
  const branches = await pfs.listBranch(await cli.store(), repo);
  if (o.json) return cli.json(branches);
  cli.out(formatTable(["BRANCH", "HEAD"], branches.map((b) => [b.name, b.head ?? "-"])));
}

/** `tusk delete branch <repo@branch>`. */
export async function deleteBranch(cli: CliContext, [ref]: [string]): Promise<void> {
  await pfs.deleteBranch(await cli.store(), ref);
}
