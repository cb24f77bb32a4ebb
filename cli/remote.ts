/**
 * `tusk remote add|list|remove`, `push`, `pull` and `clone`: remotes, and moving a store's
 * repos, pipelines and jobs to and from them. Progress goes to stderr on a terminal.
 */
import { formatSize, formatTable } from "../lib/format/format.ts";
import { type CliContext, type JsonOption, load } from "./context.ts";

type Remote = typeof import("../lib/remote.ts");
type Result = import("../lib/remote.ts").TransferResult;
type Progress = import("../lib/remote.ts").TransferProgress;

/** The remote verbs: their lean surface, not the whole library (see lib/remote.ts). */
const verbs = () => load<Remote>("../lib/remote.ts");

/** A progress line on stderr when it is a terminal: objects, bytes and rate, ten times a second. */
function progress(cli: CliContext): { on?: (p: Progress) => void; done: () => void } {
  if (!cli.stderr.isTerminal()) return { done: () => {} };
  const start = performance.now();
  let last = 0;
  let shown = false;
  return {
    on: (p) => {
      const now = performance.now();
      if (now - last < 100 && p.objects < p.totalObjects) return;
      last = now;
      shown = true;
      const rate = p.bytes / Math.max((now - start) / 1000, 0.001);
      cli.errExact("\r\x1b[2K");
      cli.err(
        `${p.direction === "push" ? "sending" : "receiving"}: ${p.objects}/${p.totalObjects} ` +
          `objects, ${formatSize(p.bytes)} of ${formatSize(p.totalBytes)}, ${formatSize(rate)}/s`,
      );
    },
    done: () => {
      if (shown) cli.err("\n");
    },
  };
}

const short = (id: string | null) => (id === null ? "(none)" : id.slice(0, 12));

function report(cli: CliContext, r: Result, verb: "push" | "pull"): void {
  const where = `${r.remote} (${r.url})`;
  if (r.upToDate) {
    cli.out(`Everything up to date with ${where}, log entry ${r.entry}\n`);
    return;
  }
  cli.out(`${verb === "push" ? "To" : "From"} ${where}, log entry ${r.entry}:\n`);
  for (const b of r.branches) {
    cli.out(
      `  ${b.repo}@${b.branch}  ${b.from === null ? "(new)" : short(b.from)} -> ${short(b.to)}\n`,
    );
  }
  for (const p of r.pipelines) cli.out(`  pipeline ${p.name}  version ${p.version}\n`);
  if (r.jobs) cli.out(`  ${r.jobs} job${r.jobs === 1 ? "" : "s"}\n`);
  cli.out(
    `${verb === "push" ? "sent" : "received"} ${r.objects} objects (${formatSize(r.bytes)})\n`,
  );
}

/** `tusk remote add <name> <url>`. */
export async function remoteAdd(
  cli: CliContext,
  [name, url]: [string, string],
  o: JsonOption,
): Promise<void> {
  const r = await (await verbs()).remoteAdd(await cli.store(), { name, url, cwd: cli.cwd });
  if (o.json) return cli.json(r);
  cli.out(`Added remote ${r.name}: ${r.url}\n`);
}

/** `tusk remote list`. */
export async function remoteList(cli: CliContext, _: [], o: JsonOption): Promise<void> {
  const rows = await (await verbs()).remoteList(await cli.store());
  if (o.json) return cli.json(rows);
  cli.out(formatTable(["NAME", "URL"], rows.map((r) => [r.name, r.url])));
}

/** `tusk remote remove <name>`. */
export async function remoteRemove(
  cli: CliContext,
  [name]: [string],
  o: JsonOption,
): Promise<void> {
  const r = await (await verbs()).remoteRemove(await cli.store(), name);
  if (o.json) return cli.json(r);
  cli.out(`Removed remote ${r.name} (${r.url}); the remote itself is untouched\n`);
}

/** `tusk remote verify <name>`. */
export async function remoteVerify(
  cli: CliContext,
  [name]: [string],
  o: JsonOption,
): Promise<void> {
  const r = await (await verbs()).remoteVerify(await cli.store(), { remote: name });
  if (o.json) return cli.json({ ok: true, ...r });
  cli.out(
    `ok: ${r.entries} log entries, ${r.packs} packs, ${r.objects} objects (${
      formatSize(r.bytes)
    }) verified\n`,
  );
}

/** `tusk push <remote> [repo[@branch]…]`. */
export async function push(
  cli: CliContext,
  [remote, refs]: [string, string[]],
  o: JsonOption,
): Promise<void> {
  const p = progress(cli);
  let r: Result;
  try {
    r = await (await verbs()).pushTo(await cli.store(), {
      remote,
      refs,
      ...(p.on ? { onProgress: p.on } : {}),
    });
  } finally {
    p.done();
  }
  if (o.json) return cli.json(r);
  report(cli, r, "push");
}

/** `tusk pull <remote> [repo[@branch]…]`: then the jobs the new commits trigger run. */
export async function pull(
  cli: CliContext,
  [remote, refs]: [string, string[]],
  o: JsonOption & { wait: boolean },
): Promise<void> {
  const p = progress(cli);
  const store = await cli.store();
  let r: Result;
  try {
    r = await (await verbs()).pullFrom(store, {
      remote,
      refs,
      ...(p.on ? { onProgress: p.on } : {}),
    });
  } finally {
    p.done();
  }
  if (o.json) cli.json(r);
  else report(cli, r, "pull");
  if (!r.upToDate) {
    const { afterCommit } = await load<typeof import("./_after_commit.ts")>("./_after_commit.ts");
    await afterCommit(cli, store, o.wait);
  }
}

/** `tusk clone <url> [dir]`. */
export async function clone(
  cli: CliContext,
  [url, dir]: [string, string | undefined],
  o: JsonOption,
): Promise<void> {
  const p = progress(cli);
  // Ctrl-C (or SIGTERM) during a clone: the half-made store is removed, so that it is never
  // taken for a clone, and the clone can simply be run again.
  let made: string | null = null;
  const stop = (code: number) => () => {
    if (made) {
      try {
        Deno.removeSync(made, { recursive: true });
      } catch {
        // Gone already.
      }
    }
    Deno.exit(code);
  };
  const onInt = stop(130);
  const onTerm = stop(143);
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  let r;
  try {
    r = await (await verbs()).cloneFrom({
      url,
      cwd: cli.cwd,
      ...(dir !== undefined ? { dir } : {}),
      // A folder named here wins over $TUSK_STORE (set for the store the user works in).
      ...(dir === undefined && cli.storeFolder !== undefined
        ? { store: cli.storeFolder }
        : cli.storeFlag !== undefined
        ? { store: cli.storeFlag }
        : {}),
      ...(p.on ? { onProgress: p.on } : {}),
      onCreated: (root) => (made = root),
    });
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
    p.done();
  }
  if (o.json) return cli.json(r);
  cli.out(`Cloned ${r.url} into ${r.store}, log entry ${r.entry}\n`);
  cli.out(
    `  ${r.branches.length} branches, ${r.pipelines.length} pipelines, ${r.jobs} jobs, ` +
      `${r.objects} objects (${formatSize(r.bytes)})\n`,
  );
}
