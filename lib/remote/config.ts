/**
 * The remotes a store knows, by name: `remotes.json` in the store, `{"remotes": {name: {url}}}`.
 * Only names and URLs are kept: credentials stay where the AWS tools keep them (the
 * environment, profiles), never in the store. Changes are made under the store lock.
 */
import {
  AlreadyExistsError,
  IntegrityError,
  InvalidArgumentError,
  NotFoundError,
} from "../errors.ts";
import { writeFileAtomic } from "../store/fs_util.ts";
import { didYouMean } from "../store/names.ts";
import type { Store } from "../store/store.ts";
import { parseRemoteUrl, type RemoteUrl } from "./url.ts";

/** One remote as `remote list` shows it. */
export interface RemoteConfig {
  readonly name: string;
  readonly url: string;
}

const NAME = /^[a-zA-Z0-9_-]{1,63}$/;

/** Check a remote's name: letters, digits, `_` and `-`, at most 63 (as a repo's). */
export function checkRemoteName(name: string): string {
  if (!NAME.test(name)) {
    throw new InvalidArgumentError(
      `Invalid remote name "${name}": use letters, digits, _ and -, at most 63`,
      { remote: name },
    );
  }
  return name;
}

/** Every remote of the store, by name. */
export async function readRemotes(store: Store): Promise<RemoteConfig[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(store.layout.remotes);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    v = null;
  }
  const remotes = (v as { remotes?: unknown } | null)?.remotes;
  if (typeof remotes !== "object" || remotes === null) {
    throw new IntegrityError(
      `The remotes file "${store.layout.remotes}" is damaged: remove it and add the remotes again`,
      { path: store.layout.remotes },
    );
  }
  return Object.entries(remotes as Record<string, { url?: unknown }>)
    .filter(([name, r]) => NAME.test(name) && typeof r?.url === "string")
    .map(([name, r]) => ({ name, url: r.url as string }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** The bytes of `remotes.json` holding `remotes`. */
export function encodeRemotes(remotes: readonly RemoteConfig[]): Uint8Array {
  const body = { remotes: Object.fromEntries(remotes.map((r) => [r.name, { url: r.url }])) };
  return new TextEncoder().encode(JSON.stringify(body, null, 2) + "\n");
}

async function write(store: Store, remotes: readonly RemoteConfig[]): Promise<void> {
  await writeFileAtomic(store.layout.remotes, encodeRemotes(remotes), store.layout.tmp);
}

/** The remote `name`, or NotFoundError with a suggestion. */
export async function remoteNamed(store: Store, name: string): Promise<RemoteConfig> {
  if (!NAME.test(name)) {
    // A URL where a name goes: say how to name it.
    const url = /[/:]/.test(name)
      ? ` (a remote's name goes here, not its URL: name it first with "tusk remote add ` +
        `<name> ${name}")`
      : ": use letters, digits, _ and -, at most 63";
    throw new InvalidArgumentError(`Invalid remote name "${name}"${url}`, { remote: name });
  }
  const all = await readRemotes(store);
  const r = all.find((r) => r.name === name);
  if (!r) {
    throw new NotFoundError(
      `Cannot find remote "${name}"${didYouMean(name, all.map((r) => r.name))}${
        all.length ? "" : ': add one with "tusk remote add <name> <url>"'
      }`,
      { remote: name },
    );
  }
  return r;
}

/** Add the remote `name` at `url` (`cwd` resolves a relative folder). Returns it. */
export async function addRemote(
  store: Store,
  options: { name: string; url: string; cwd: string },
): Promise<RemoteConfig & { parsed: RemoteUrl }> {
  const name = checkRemoteName(options.name);
  const parsed = parseRemoteUrl(options.url, options.cwd);
  if (parsed.kind === "folder") await refuseInsideStore(store, parsed.path);
  return await store.transact(async () => {
    const all = await readRemotes(store);
    if (all.some((r) => r.name === name)) {
      throw new AlreadyExistsError(
        `Remote "${name}" already exists: remove it first to change its URL`,
        { remote: name },
      );
    }
    await write(store, [...all, { name, url: parsed.url }]);
    // What a remote of this name was is forgotten: the new one is read afresh.
    await Deno.remove(store.layout.remoteCache(name), { recursive: true }).catch(() => {});
    return { name, url: parsed.url, parsed };
  });
}

/** `path` with links resolved as far as it exists (the rest as given). */
async function resolved(path: string): Promise<string> {
  let head = path;
  let tail = "";
  for (;;) {
    try {
      return (await Deno.realPath(head)) + tail;
    } catch {
      const i = head.lastIndexOf("/");
      if (i <= 0) return path;
      tail = head.slice(i) + tail;
      head = head.slice(0, i);
    }
  }
}

/**
 * A folder remote may not be the store's own folder or lie inside it: a backup there dies
 * with the store, and the store's own files (its caches of remotes, say) would be removed
 * from under it.
 */
async function refuseInsideStore(store: Store, path: string): Promise<void> {
  const root = await resolved(store.layout.root);
  const p = await resolved(path);
  if (p === root || p.startsWith(`${root}/`)) {
    throw new InvalidArgumentError(
      `Invalid remote URL "${path}": it is inside this store ("${store.layout.root}"); give a ` +
        "folder outside it",
      { url: path },
    );
  }
}

/** Remove the remote `name` and what this store knew of it; the remote itself is untouched. */
export async function removeRemote(store: Store, name: string): Promise<RemoteConfig> {
  return await store.transact(async () => {
    const r = await remoteNamed(store, name);
    await write(store, (await readRemotes(store)).filter((x) => x.name !== name));
    await Deno.remove(store.layout.remoteCache(name), { recursive: true }).catch(() => {});
    return r;
  });
}
