/** `tusk list|inspect|wait commit` and `revert`: a repo's history. */
import * as pfs from "../lib/pfs/commit.ts";
import { formatAge, formatSize, formatTable, printable } from "../lib/format/format.ts";
import { programText } from "../lib/format/program.ts";
import { afterCommit } from "./_after_commit.ts";
import { jobProgress } from "./_job_progress.ts";
import { interruptible } from "./_interrupt.ts";
import { count } from "./_count.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk list commit <repo[@branch]>`: newest first. */
export async function listCommit(
  cli: CliContext,
  [ref]: [string],
  o: { number: string | undefined; json: boolean },
): Promise<void> {
  const store = await cli.store();
  const limit = count(o.number);
  const commits = await pfs.listCommit(store, ref, limit ? { limit } : {});
  if (o.json) return cli.json(commits);
  const now = store.now();
  cli.out(formatTable(
    ["REPO", "BRANCH", "COMMIT", "FINISHED", "SIZE", "ORIGIN", "DESCRIPTION"],
    commits.map((c) => [
      c.repo,
      c.branch,
      c.id,
      formatAge(c.time, now),
      formatSize(c.size),
      c.origin.toUpperCase(),
      c.message,
    ]),
  ));
}

/** `tusk inspect commit <repo@ref>`: a commit and, for a pipeline's, its provenance. */
export async function inspectCommit(
  cli: CliContext,
  [ref]: [string],
  o: JsonOption,
): Promise<void> {
  const store = await cli.store();
  const c = await pfs.inspectCommit(store, ref);
  const tree = c.provenance ? await (await cli.lib()).provenance(store, c.repo, c.id) : null;
  if (o.json) return cli.json(tree ? { ...c, upstream: tree.inputs } : c);
  let text = `Commit: ${c.repo}@${c.id}\nOriginal Branch: ${c.branch}\n`;
  if (c.heads.length) text += `Head of: ${c.heads.join(", ")}\n`;
  text += `Parent: ${c.parent ?? "-"}\nFinished: ${formatAge(c.time, store.now())} (${c.time})\n` +
    `Size: ${formatSize(c.size)}\nOrigin: ${c.origin.toUpperCase()}\nTree: ${c.tree}\n`;
  if (c.revertOf) text += `Reverts to: ${c.revertOf}\n`;
  if (c.message) text += `Description: ${printable(c.message)}\n`;
  if (tree) {
    text += `Pipeline: ${c.provenance?.pipeline ?? "-"} (job ${c.provenance?.job ?? "-"})\n` +
      `Spec: ${c.provenance?.spec ?? "-"}\nCode: ${c.provenance?.code ?? "-"}\n` +
      (c.provenance?.program ? `Program: ${programText(c.provenance.program)}\n` : "") +
      "Provenance:\n";
    const walk = (nodes: typeof tree.inputs, depth: number) => {
      for (const n of nodes) {
        text += `${"  ".repeat(depth)}${n.repo}@${n.commit}` +
          (n.pipeline
            ? ` (pipeline ${n.pipeline}, job ${n.job}, code ${n.code}${
              n.program ? `, program ${programText(n.program)}` : ""
            })`
            : "") +
          "\n";
        walk(n.inputs, depth + 1);
      }
    };
    walk(tree.inputs, 1);
  }
  cli.out(text);
}

/** `tusk revert <repo@branch> --to <commit>`: an old commit's files as a new commit. */
export async function revert(
  cli: CliContext,
  [ref]: [string],
  o: { to: string; message: string | undefined; wait: boolean },
): Promise<void> {
  const store = await cli.store();
  const c = await pfs.revert(store, ref, {
    to: o.to,
    ...(o.message !== undefined ? { message: o.message } : {}),
  });
  cli.out(`${c.commit.repo}@${c.id}\n`);
  await afterCommit(cli, store, o.wait);
}

/**
 * `tusk wait commit <repo@branch>`: until every downstream job of the branch head finished;
 * with no scheduler running, the due jobs run here, as after `put file`.
 */
export async function waitCommit(cli: CliContext, [ref]: [string], o: JsonOption): Promise<void> {
  const { waitCommit } = await cli.lib();
  const store = await cli.store();
  const { mode } = await cli.sandbox();
  const jobs = await interruptible((signal) =>
    waitCommit(store, ref, { sandbox: mode, onEvent: jobProgress(cli), signal })
  );
  if (o.json) return cli.json(jobs);
  for (const j of jobs) cli.out(`${j.pipeline} ${j.id} ${j.state}\n`);
}
