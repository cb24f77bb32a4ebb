/**
 * `tusk remote add|list|remove`, `push`, `pull` and `clone`: remotes, and moving a store's
 * repos, pipelines and jobs to and from them. Progress goes to stderr on a terminal.
 */
import { formatSize, formatTable } from "../lib/format/format.ts";
import { type CliContext, type JsonOption, load } from "./context.ts";
import { warnDamaged } from "./_damaged.ts";

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
      onDamaged: warnDamaged(cli),
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
  // taken for a clone, and the clone can simply be run again; the command says so.
  let made: string | null = null;
  let store: string | null = null;
  const stop = (signal: "SIGINT" | "SIGTERM") => () => {
    p.done();
    const left = made === null ? null : removeAll(made, store);
    cli.err(
      left === null
        ? `tusk: Clone interrupted (${signal}): nothing was left behind${
          store ? ` (no store at "${store}")` : ""
        }; run it again to clone\n`
        : `tusk: Clone interrupted (${signal}): could not remove "${left}" (remove it, or run ` +
          "the clone again there, which clears it)\n",
    );
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  };
  const onInt = stop("SIGINT");
  const onTerm = stop("SIGTERM");
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
      onCreated: (path, root) => {
        made = path;
        store = root;
      },
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

/**
 * Remove what an interrupted clone made: `path` (the topmost folder it made, or its staging
 * folder), and the store at `store` should it have just been renamed into place (then it is
 * not empty; an empty folder there is one that was there before, and stays). A write of the
 * clone still under way may land in a folder being removed, so each is tried again. Returns
 * what could not be removed, or null.
 */
function removeAll(path: string, store: string | null): string | null {
  const placed = store !== null && !isEmptyOrGone(store);
  for (const p of placed ? [path, store] : [path]) {
    for (let tries = 0;; tries++) {
      try {
        Deno.removeSync(p, { recursive: true });
        break;
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) break;
        if (tries >= 3) return p;
      }
    }
  }
  return null;
}

/** True when `dir` does not exist or holds nothing. */
function isEmptyOrGone(dir: string): boolean {
  try {
    for (const _ of Deno.readDirSync(dir)) return false;
  } catch {
    return true;
  }
  return true;
}
