/**
 * The remote verbs: `remote add|list|remove`, `push`, `pull` and `clone`. Each returns data;
 * the work is in `lib/remote/`.
 */
import { InvalidArgumentError } from "../errors.ts";
import type { DamagedJob } from "../pipeline/jobs.ts";
import type { RemoteBackend } from "../remote/backend.ts";
import { addRemote, readRemotes, remoteNamed, removeRemote } from "../remote/config.ts";
import type { TransferProgress, TransferResult } from "../remote/progress.ts";
import { defaultCloneName, parseRemoteUrl, type RemoteUrl } from "../remote/url.ts";
import type { RemoteVerifyReport } from "../remote/verify_remote.ts";
import { missingFolders, parentOf } from "../store/fs_util.ts";
import { Layout } from "../store/layout.ts";
import type { Store } from "../store/store.ts";

/**
 * Load a module of one verb when it runs. The URL keeps Deno from loading it ahead with this
 * file, as it does a literal `import("./x.ts")`: a clone does not load push, pull or the
 * store's transaction code, nor `remote list` any of them.
 */
function load<T>(path: string): Promise<T> {
  return import(new URL(path, import.meta.url).href);
}

/**
 * The backend of `url`: a folder, or S3 (whose module loads the AWS SDK when used). `said`
 * names the remote for a command that reads it: a folder that does not exist is refused.
 */
async function openBackend(
  url: RemoteUrl,
  env: (name: string) => string | undefined,
  said?: string,
): Promise<RemoteBackend> {
  const open = await load<typeof import("../remote/open.ts")>("../remote/open.ts");
  if (said === undefined) return await open.openBackend(url, env);
  return await open.openBackend(url, env, { missing: () => open.missingRemote(said, url.url) });
}

/** How a named remote is named in a message: `Remote "origin" (/mnt/backup)`. */
const named = (r: { name: string; url: string }) => `Remote "${r.name}" (${r.url})`;

export type { RemoteVerifyReport, TransferProgress, TransferResult };

/** A remote as `remote list` shows it. */
export interface RemoteInfo {
  readonly name: string;
  readonly url: string;
  readonly kind: "folder" | "s3";
}

/** `remote add <name> <url>`. */
export async function remoteAdd(
  store: Store,
  options: { name: string; url: string; cwd: string },
): Promise<RemoteInfo> {
  const r = await addRemote(store, options);
  return { name: r.name, url: r.url, kind: r.parsed.kind };
}

/** `remote list`. */
export async function remoteList(store: Store): Promise<RemoteInfo[]> {
  return (await readRemotes(store)).map((r) => ({
    ...r,
    kind: parseRemoteUrl(r.url, "/").kind,
  }));
}

/** `remote remove <name>`. */
export async function remoteRemove(store: Store, name: string): Promise<RemoteInfo> {
  const r = await removeRemote(store, name);
  return { ...r, kind: parseRemoteUrl(r.url, "/").kind };
}

/** `remote verify <name>`: check the whole remote, writing nothing here. */
export async function remoteVerify(
  store: Store,
  options: { remote: string; env?: (name: string) => string | undefined },
): Promise<RemoteVerifyReport> {
  const r = await remoteNamed(store, options.remote);
  const backend = await openBackend(parseRemoteUrl(r.url, "/"), envOf(options), named(r));
  try {
    const [{ verifyRemote }, { RemoteCache }] = await Promise.all([
      load<typeof import("../remote/verify_remote.ts")>("../remote/verify_remote.ts"),
      load<typeof import("../remote/cache.ts")>("../remote/cache.ts"),
    ]);
    return await verifyRemote(backend, new RemoteCache(store.layout, options.remote));
  } finally {
    backend.close();
  }
}

/** What push and pull take besides the store. */
export interface TransferOptions {
  readonly remote: string;
  readonly refs?: readonly string[];
  readonly env?: (name: string) => string | undefined;
  readonly onProgress?: (p: TransferProgress) => void;
  /** Told of each job record a push leaves behind because it is damaged. */
  readonly onDamaged?: (d: DamagedJob) => void;
}

const envOf = (o: { env?: (name: string) => string | undefined }) =>
  o.env ?? ((name: string) => Deno.env.get(name));

/** `push <remote> [repo[@branch]…]`. */
export async function pushTo(store: Store, options: TransferOptions): Promise<TransferResult> {
  const r = await remoteNamed(store, options.remote);
  const backend = await openBackend(parseRemoteUrl(r.url, "/"), envOf(options));
  try {
    const { push } = await load<typeof import("../remote/push.ts")>("../remote/push.ts");
    return await push(store, { ...options, backend });
  } finally {
    backend.close();
  }
}

/** `pull <remote> [repo[@branch]…]`. */
export async function pullFrom(store: Store, options: TransferOptions): Promise<TransferResult> {
  const r = await remoteNamed(store, options.remote);
  const backend = await openBackend(parseRemoteUrl(r.url, "/"), envOf(options), named(r));
  try {
    const { pull } = await load<typeof import("../remote/pull.ts")>("../remote/pull.ts");
    return await pull(store, { ...options, backend });
  } finally {
    backend.close();
  }
}

/** What `clone` made and moved. */
export interface CloneResult extends TransferResult {
  /** The new store folder. */
  readonly store: string;
}

/**
 * `clone <url> [dir]`: a new store in `dir/.tusk` (or at `store`), with the remote `origin`,
 * holding everything the remote has (see `lib/remote/clone.ts`). A clone that fails leaves
 * nothing behind: no store, and none of the folders it made for it.
 */
export async function cloneFrom(options: {
  url: string;
  dir?: string;
  store?: string;
  cwd: string;
  env?: (name: string) => string | undefined;
  onProgress?: (p: TransferProgress) => void;
  /**
   * Called once the clone starts writing, with the folder to remove should it be stopped
   * (the topmost folder it made for the store, or else its staging folder) and the store
   * folder it is made into.
   */
  onCreated?: (path: string, store: string) => void;
}): Promise<CloneResult> {
  const url = parseRemoteUrl(options.url, options.cwd);
  if (options.dir !== undefined && options.store !== undefined) {
    throw new InvalidArgumentError("Give clone a folder or --store, not both", {});
  }
  if (options.dir === "") {
    throw new InvalidArgumentError(
      `Invalid folder "": give the folder to clone into, or leave it out for ` +
        `"${defaultCloneName(url)}"`,
      { dir: "" },
    );
  }
  const root = options.store !== undefined
    ? absolute(options.store, options.cwd)
    : Layout.under(absolute(options.dir ?? defaultCloneName(url), options.cwd));
  const made = missingFolders(parentOf(root));
  const backend = await openBackend(url, envOf(options), `Cannot clone "${url.url}"`);
  try {
    if (url.kind === "folder" && within(realFolder(root), realFolder(url.path))) {
      throw new InvalidArgumentError(
        `Cannot clone "${url.url}" into "${root}": that is inside the remote's own folder; ` +
          "give a folder outside it",
        { dir: options.dir ?? options.store ?? root },
      );
    }
    const { clone } = await load<typeof import("../remote/clone.ts")>("../remote/clone.ts");
    const r = await clone({
      root,
      backend,
      remote: "origin",
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      onStaging: (staging) => options.onCreated?.(made[0] ?? staging, root),
    });
    return { ...r, store: root };
  } catch (err) {
    // The store's staging folder is gone already; the folders made for it go too, if empty.
    for (const dir of made.toReversed()) await Deno.remove(dir).catch(() => {});
    throw err;
  } finally {
    backend.close();
  }
}

/**
 * `path` made absolute from `cwd`, its `.` and `..` segments resolved as written (as a shell's
 * `cd` does), without repeated or trailing slashes: `x/../..` names the folder above `cwd`, and
 * no `x` is made on the way.
 */
function absolute(path: string, cwd: string): string {
  const out: string[] = [];
  for (const seg of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

/** `path` with its nearest existing folder's links resolved (the rest as written). */
function realFolder(path: string): string {
  let head = path;
  let tail = "";
  while (head !== "" && head !== "/") {
    try {
      return Deno.realPathSync(head) + tail;
    } catch {
      tail = head.slice(head.lastIndexOf("/")) + tail;
      head = head.slice(0, head.lastIndexOf("/"));
    }
  }
  return path;
}

/** True when `path` is `folder` or below it. */
function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(folder === "/" ? "/" : `${folder}/`);
}
