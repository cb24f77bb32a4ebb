/**
 * Big stores for the scale benchmarks, built through the store's own library in seconds rather
 * than through a million CLI calls:
 *
 * - `commitsStore(dir, n)`: repo `data` whose `master` has `n` commits, each its own ledger
 *   entry (a `commit` and a `branch:move`), each putting one small file, as `n` runs of
 *   `put file` leave them: three loose objects per commit (blob, tree, commit), the ledger
 *   chained line by line. The lines and objects are encoded by the store's codecs
 *   (`canonicalJson`, `encodeTree`, `encodeCommit`, `sha256`) and written in one go without
 *   an fsync each; the state file is then rebuilt by the store's own replay of the ledger.
 * - `filesStore(dir, n, layout)`: repo `data` with one commit of `n` small files, written as
 *   `put file -r` writes them (an `ObjectBatch`, so packs, in one transaction): `flat` puts
 *   them all in the folder `/flat`, `nested` in √n folders `/d0000/…` of √n files each.
 */
import { canonicalJson, encodeCommit, encodeTree, type TreeEntry } from "../../lib/store/codec.ts";
import { encodeFolder } from "../../lib/store/fanout_codec.ts";
import { writeAll } from "../../lib/store/fs_util.ts";
import type { ObjectBatch } from "../../lib/store/batch.ts";
import { sha256, sha256Async } from "../../lib/store/hash.ts";
import { GENESIS, type LedgerEntry } from "../../lib/store/state.ts";
import { Store } from "../../lib/store/store.ts";

/** The repo every scale fixture holds. */
export const REPO = "data";

const encoder = new TextEncoder();

/** A store at `dir` (created) holding repo `data` whose master has `n` commits; returns its path. */
export async function commitsStore(dir: string, n: number): Promise<string> {
  const root = `${dir}/.tusk`;
  await Deno.mkdir(dir, { recursive: true });
  const store = await Store.init(root);
  await store.transact((tx) => {
    tx.change({ type: "repo:create", repo: REPO, description: "" });
    return Promise.resolve();
  });
  const state = await store.state();
  let { seq, hash: prev } = state.ledger;
  const lines: string[] = [];
  const made = new Set<string>();
  const writeLoose = (bytes: Uint8Array): string => {
    const hash = sha256(bytes);
    const prefix = `${root}/objects/${hash.slice(0, 2)}`;
    if (!made.has(prefix)) {
      Deno.mkdirSync(prefix, { recursive: true });
      made.add(prefix);
    }
    Deno.writeFileSync(`${prefix}/${hash.slice(2)}`, bytes);
    return hash;
  };
  let parent: string | null = null;
  const start = Date.parse("2024-01-01T00:00:00Z");
  for (let i = 0; i < n; i++) {
    const content = encoder.encode(`run ${i}: accuracy ${(0.9 + (i % 97) / 1000).toFixed(3)}\n`);
    const blob = writeLoose(content);
    const entries: TreeEntry[] = [
      { name: "metrics.txt", kind: "file", hash: blob, size: content.length },
    ];
    const tree = writeLoose(encodeTree(entries));
    const time = new Date(start + i * 60_000).toISOString();
    const commit = writeLoose(encodeCommit({
      repo: REPO,
      parent,
      tree,
      size: content.length,
      time,
      message: "",
      branch: "master",
      origin: "user",
    }));
    const entry: LedgerEntry = {
      seq: ++seq,
      prev,
      time,
      changes: [
        { type: "commit", repo: REPO, commit },
        { type: "branch:move", repo: REPO, branch: "master", from: parent, to: commit },
      ],
    };
    const line = canonicalJson(entry);
    lines.push(line);
    prev = sha256(line);
    parent = commit;
  }
  if (prev === GENESIS) throw new TypeError("A commits fixture needs at least one commit");
  const ledger = await Deno.open(`${root}/ledger`, { append: true });
  try {
    await writeAll(ledger, encoder.encode(lines.join("\n") + "\n"));
    await ledger.syncData();
  } finally {
    ledger.close();
  }
  // The state file no longer covers the ledger's end: the store replays the new lines.
  await Deno.remove(`${root}/state.json`);
  const reopened = await Store.open(root);
  const replayed = await reopened.state();
  if (replayed.repos[REPO]?.branches.master?.head !== parent) {
    throw new Error("The commits fixture's replayed head is not its last commit");
  }
  return root;
}

/** How a files fixture lays its files out. */
export type FilesLayout = "flat" | "nested";

/** The folder of a flat fixture, and a folder of a nested one. */
export const FLAT_FOLDER = "flat";

/** The file names of a folder of `count` files: `f0000000.txt` … */
function fileName(i: number): string {
  return `f${String(i).padStart(7, "0")}.txt`;
}

/**
 * A store at `dir` (created) holding repo `data` with one commit of `n` small files laid out
 * as `layout` says; returns its path and the folders made.
 */
export async function filesStore(
  dir: string,
  n: number,
  layout: FilesLayout,
): Promise<{ store: string; folders: number }> {
  const root = `${dir}/.tusk`;
  await Deno.mkdir(dir, { recursive: true });
  const store = await Store.init(root);
  await store.transact((tx) => {
    tx.change({ type: "repo:create", repo: REPO, description: "" });
    return Promise.resolve();
  });
  const per = layout === "flat" ? n : Math.ceil(Math.sqrt(n));
  const folderCount = Math.ceil(n / per);
  let made = 0;
  await store.withIngest(async () => {
    await store.transact(async (tx) => {
      await tx.commit(REPO, "master", async () => {
        const top: TreeEntry[] = [];
        let total = 0;
        for (let d = 0; d < folderCount; d++) {
          const entries: TreeEntry[] = [];
          let size = 0;
          for (let i = 0; i < per && made < n; i++, made++) {
            const bytes = encoder.encode(`file ${made} of ${n}: ${sha256(String(made))}\n`);
            entries.push({
              name: fileName(i),
              kind: "file",
              hash: await tx.batch.add(bytes),
              size: bytes.length,
            });
            size += bytes.length;
          }
          const name = layout === "flat" ? FLAT_FOLDER : `d${String(d).padStart(4, "0")}`;
          top.push({ name, kind: "dir", hash: await addFolder(tx.batch, entries), size });
          total += size;
        }
        return { tree: await addFolder(tx.batch, top), size: total };
      }, { message: `${n} files, ${layout}`, origin: "user" });
    });
  });
  return { store: root, folders: folderCount };
}

/** Add a folder's tree (a large one's fanout and chunks) to `batch`; returns its hash. */
async function addFolder(batch: ObjectBatch, entries: readonly TreeEntry[]): Promise<string> {
  const folder = await encodeFolder(entries, sha256Async);
  for (const c of folder.chunks) await batch.add(c.bytes, c.hash);
  return await batch.add(folder.bytes, folder.hash);
}

/**
 * A store at `dir` (created) holding repo `data` with one commit of `n` folders `/p00000…`
 * of 16 small files each, every folder's files in a pack of their own: the `n` packs as many
 * small puts leave when nothing merges them (written straight through the object store, so
 * no merge runs). The commit and its trees go first, in one transaction (one more pack).
 */
export async function packsStore(dir: string, n: number): Promise<string> {
  const root = `${dir}/.tusk`;
  await Deno.mkdir(dir, { recursive: true });
  const store = await Store.init(root);
  await store.transact((tx) => {
    tx.change({ type: "repo:create", repo: REPO, description: "" });
    return Promise.resolve();
  });
  const packs: Map<string, Uint8Array>[] = [];
  const trees: Uint8Array[] = [];
  const top: TreeEntry[] = [];
  let total = 0;
  for (let p = 0; p < n; p++) {
    const objects = new Map<string, Uint8Array>();
    const entries: TreeEntry[] = [];
    let size = 0;
    for (let i = 0; i < 16; i++) {
      const bytes = encoder.encode(`pack ${p}, file ${i}: ${sha256(`${p}/${i}`)}\n`);
      const hash = sha256(bytes);
      objects.set(hash, bytes);
      entries.push({
        name: `f${String(i).padStart(2, "0")}.txt`,
        kind: "file",
        hash,
        size: bytes.length,
      });
      size += bytes.length;
    }
    packs.push(objects);
    trees.push(encodeTree(entries));
    top.push({ name: packFolder(p), kind: "dir", hash: sha256(trees[p]!), size });
    total += size;
  }
  await store.transact(async (tx) => {
    for (const tree of trees) await tx.batch.add(tree);
    await tx.commit(REPO, "master", async () => ({
      tree: await tx.batch.add(encodeTree(top)),
      size: total,
    }), { message: `${n} packs`, origin: "user" });
  });
  for (const objects of packs) await store.objects.writePack(objects);
  store.objects.close();
  return root;
}

/** The folder of the `p`th pack's files in a packs fixture. */
export function packFolder(p: number): string {
  return `p${String(p).padStart(5, "0")}`;
}

/**
 * A ledger file alone at `dir/ledger` of `n` entries shaped as a `put file` leaves them (a
 * `commit` and a `branch:move`, chained), for timing reads of the ledger; returns the
 * commit ids, oldest first.
 */
export async function ledgerFile(dir: string, n: number): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const lines: string[] = [];
  const ids: string[] = [];
  let prev = GENESIS;
  let parent: string | null = null;
  const start = Date.parse("2024-01-01T00:00:00Z");
  for (let seq = 1; seq <= n; seq++) {
    const commit = sha256(`commit ${seq}`);
    const line = canonicalJson({
      seq,
      prev,
      time: new Date(start + seq * 60_000).toISOString(),
      changes: [
        { type: "commit", repo: REPO, commit },
        { type: "branch:move", repo: REPO, branch: "master", from: parent, to: commit },
      ],
    });
    lines.push(line);
    ids.push(commit);
    prev = sha256(line);
    parent = commit;
  }
  await Deno.writeTextFile(`${dir}/ledger`, lines.join("\n") + "\n");
  return ids;
}
