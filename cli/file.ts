/** `tusk get|list|glob|diff|delete file`, and `lineage`: the files of a commit (`put file` is in `put_file.ts`). */
import * as pfs from "../lib/pfs/file.ts";
import { formatSize, formatTable, printableName } from "../lib/format/format.ts";
import { programText } from "../lib/format/program.ts";
import { afterCommit } from "./_after_commit.ts";
import { count } from "./_count.ts";
import type { CliContext, JsonOption } from "./context.ts";

/** `tusk get file <repo@ref:/path>`: print a file, or write files with `-o`. */
export async function getFile(
  cli: CliContext,
  [ref]: [string],
  o: { output: string | undefined; recursive: boolean },
): Promise<void> {
  const r = await pfs.getFile(await cli.store(), ref, {
    recursive: o.recursive,
    cwd: cli.cwd,
    ...(o.output ? { output: o.output } : {}),
  });
  if (r.stream) await r.stream.pipeTo(cli.stdout.writable, { preventClose: true });
}

/** Print the files found: a table, or JSON with `json`. */
function printFiles(cli: CliContext, files: readonly pfs.FileInfo[], json: boolean): void {
  if (json) return cli.json(files);
  cli.out(formatTable(
    ["NAME", "TYPE", "SIZE"],
    files.map((f) => [printableName(f.path), f.type, formatSize(f.size)]),
  ));
}

/** `tusk list file <repo@ref[:/path]>`: the files in a folder, a page with `-n`/`--after`. */
export async function listFile(
  cli: CliContext,
  [ref]: [string],
  o: { number: string | undefined; after: string | undefined; json: boolean },
): Promise<void> {
  const limit = count(o.number);
  const store = await cli.store();
  if (limit === undefined && o.after === undefined) {
    return printFiles(cli, await pfs.listFile(store, ref), o.json);
  }
  // A page is printed as soon as it is read; a large folder's tree is checked after it, and
  // a damaged one still fails the command (exit 1), as `get file` of a large file does.
  const page = await pfs.listFilePage(store, ref, {
    ...(limit !== undefined ? { limit } : {}),
    ...(o.after !== undefined ? { after: o.after } : {}),
  });
  printFiles(cli, page.files, o.json);
  await page.check();
}

/** `tusk glob file <repo@ref:pattern>`: the files matching a pattern. */
export async function globFile(cli: CliContext, [ref]: [string], o: JsonOption): Promise<void> {
  printFiles(cli, await pfs.globFile(await cli.store(), ref), o.json);
}

/** `tusk diff file <new> [old]`: what changed, against the parent commit by default. */
export async function diffFile(
  cli: CliContext,
  [newRef, oldRef]: [string, string | undefined],
  o: JsonOption,
): Promise<void> {
  const rows = await pfs.diffFile(await cli.store(), newRef, oldRef);
  if (o.json) return cli.json(rows);
  cli.out(formatTable(
    ["CHANGE", "NAME", "SIZE"],
    rows.map((r) => [
      r.change,
      printableName(r.path),
      r.change === "removed"
        ? formatSize(r.oldSize ?? 0)
        : r.change === "added"
        ? formatSize(r.newSize ?? 0)
        : `${formatSize(r.oldSize ?? 0)} -> ${formatSize(r.newSize ?? 0)}`,
    ]),
  ));
}

/** `tusk delete file <repo@branch:/path>`: in a new commit. */
export async function deleteFile(
  cli: CliContext,
  [ref]: [string],
  o: { message: string | undefined; wait: boolean },
): Promise<void> {
  const store = await cli.store();
  await pfs.deleteFile(store, ref, o.message !== undefined ? { message: o.message } : {});
  await afterCommit(cli, store, o.wait);
}

/** `tusk lineage <repo@ref:/path>`: which input files, model and code made a file. */
export async function lineage(cli: CliContext, [ref]: [string], o: JsonOption): Promise<void> {
  const { lineage } = await cli.lib();
  const l = await lineage(await cli.store(), ref);
  if (o.json) return cli.json(l);
  const show = (x: typeof l, depth: number): string => {
    const pad = "  ".repeat(depth);
    let s = `${pad}${x.repo}@${x.commit}:${printableName(x.path)}\n`;
    if (!x.pipeline) return s + `${pad}  made by: a user commit (${x.origin})\n`;
    s += `${pad}  made by: pipeline ${x.pipeline}, job ${x.job}, datum ${x.datum ?? "?"}\n`;
    s += `${pad}  code: ${x.code ?? "-"}\n${pad}  spec: ${x.spec ?? "-"}\n`;
    if (x.program) s += `${pad}  program: ${programText(x.program)}\n`;
    for (const i of x.inputs) {
      s += `${pad}  input ${i.name}: ${i.repo}@${i.commit} ${
        i.files.map(printableName).join(", ")
      }\n`;
    }
    for (const u of x.upstream) s += show(u, depth + 1);
    return s;
  };
  cli.out(show(l, 0));
}
