/**
 * The remote verbs: `remote add|list|remove`, `push`, `pull` and `clone`. Each returns data;
 * the work is in `lib/remote/`.
 */
import { InvalidArgumentError } from "../errors.ts";
import { addRemote, readRemotes, remoteNamed, removeRemote } from "../remote/config.ts";
import { openBackend } from "../remote/open.ts";
import type { TransferProgress, TransferResult } from "../remote/progress.ts";
import { pull } from "../remote/pull.ts";
import { push } from "../remote/push.ts";
import { defaultCloneName, parseRemoteUrl } from "../remote/url.ts";
import { RemoteCache } from "../remote/cache.ts";
import { type RemoteVerifyReport, verifyRemote } from "../remote/verify_remote.ts";
import { Layout } from "../store/layout.ts";
import { Store } from "../store/store.ts";

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
  const backend = await openBackend(parseRemoteUrl(r.url, "/"), envOf(options));
  try {
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
}

const envOf = (o: { env?: (name: string) => string | undefined }) =>
  o.env ?? ((name: string) => Deno.env.get(name));

/** `push <remote> [repo[@branch]…]`. */
export async function pushTo(store: Store, options: TransferOptions): Promise<TransferResult> {
  const r = await remoteNamed(store, options.remote);
  const backend = await openBackend(parseRemoteUrl(r.url, "/"), envOf(options));
  try {
    return await push(store, { ...options, backend });
  } finally {
    backend.close();
  }
}

/** `pull <remote> [repo[@branch]…]`. */
export async function pullFrom(store: Store, options: TransferOptions): Promise<TransferResult> {
  const r = await remoteNamed(store, options.remote);
  const backend = await openBackend(parseRemoteUrl(r.url, "/"), envOf(options));
  try {
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
 * holding everything the remote has. A clone that fails leaves nothing behind.
 */
export async function cloneFrom(options: {
  url: string;
  dir?: string;
  store?: string;
  cwd: string;
  env?: (name: string) => string | undefined;
  onProgress?: (p: TransferProgress) => void;
}): Promise<CloneResult> {
  const url = parseRemoteUrl(options.url, options.cwd);
  if (options.dir !== undefined && options.store !== undefined) {
    throw new InvalidArgumentError("Give clone a folder or --store, not both", {});
  }
  const abs = (p: string) => (p.startsWith("/") ? p : `${options.cwd}/${p}`);
  const root = options.store !== undefined
    ? abs(options.store)
    : Layout.under(abs(options.dir ?? defaultCloneName(url)));
  const store = await Store.init(root);
  try {
    await addRemote(store, { name: "origin", url: url.url, cwd: options.cwd });
    const r = await pullFrom(store, {
      remote: "origin",
      ...(options.env ? { env: options.env } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { ...r, store: root };
  } catch (err) {
    store.objects.close();
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw err;
  }
}
