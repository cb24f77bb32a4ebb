/**
 * The objects of a remote: where each lies (the pack indexes, cached by name and checked
 * against it), fetching them, and checking each against its hash before it is handed on.
 * Meta packs (commits, trees, job records) are read whole once and kept in memory; data
 * objects are read by byte ranges, neighbours together; large objects whole, as streams.
 */
import { IntegrityError } from "../errors.ts";
import { type Hash, sha256Native } from "../store/hash.ts";
import { hasPackMagic, type PackEntry, recordAt } from "../store/pack_codec.ts";
import { parseIndex } from "../store/pack_index.ts";
import type { RemoteBackend } from "./backend.ts";
import type { RemoteCache } from "./cache.ts";
import { KEYS, type RemotePack } from "./remote_format.ts";

/** Where one object of a remote lies. */
export interface RemoteLocation {
  readonly pack: Hash;
  readonly meta: boolean;
  readonly offset: number;
  readonly length: number;
}

/** Neighbouring objects are fetched in one range when the gap between them is this small. */
const RANGE_GAP = 64 << 10;
/** A range fetched at once holds at most this many bytes. */
const RANGE_MAX = 8 << 20;
const HEX64 = /^[0-9a-f]{64}$/;

/** The objects of one remote, as far as its log names them. */
export class RemoteObjects {
  readonly #backend: RemoteBackend;
  readonly #cache: RemoteCache;
  readonly #packs: RemotePack[];
  readonly #loose: Set<Hash>;
  readonly #addedBy: ReadonlyMap<Hash, number>;
  #where: Map<Hash, RemoteLocation> | null = null;
  readonly #pool = new Map<Hash, Uint8Array>();
  /** Meta packs read whole, by name. */
  readonly #fetchedMeta = new Map<Hash, Uint8Array>();
  /** The bytes of every index read, and its checked entries, by pack. */
  readonly #indexBytes = new Map<Hash, Uint8Array>();
  readonly #entries = new Map<Hash, PackEntry[]>();
  /** Bytes fetched so far. */
  bytes = 0;

  constructor(
    backend: RemoteBackend,
    cache: RemoteCache,
    log: {
      packs: readonly RemotePack[];
      objects: readonly Hash[];
      addedBy: ReadonlyMap<Hash, number>;
    },
  ) {
    this.#backend = backend;
    this.#cache = cache;
    this.#packs = [...log.packs];
    this.#loose = new Set(log.objects);
    this.#addedBy = log.addedBy;
  }

  get url(): string {
    return this.#backend.url;
  }

  /** " (added by log entry N)" for a pack or object, when known. */
  #by(name: Hash): string {
    const seq = this.#addedBy.get(name);
    return seq ? ` (added by log entry ${seq})` : "";
  }

  /** The checked entries of pack `name`'s index, from the cache or the remote. */
  async index(name: Hash): Promise<PackEntry[]> {
    const known = this.#entries.get(name);
    if (known) return known;
    let bytes = await this.#cache.get("idx", name);
    if (!bytes) {
      bytes = await this.#backend.get(KEYS.index(name));
      if (bytes === null) {
        throw new IntegrityError(
          `Remote "${this.url}": the index of pack ${name}${
            this.#by(name)
          } is missing; nothing was changed here`,
          { remote: this.url, pack: name, problem: "missing-pack" },
        );
      }
      if ((await sha256Native(bytes)) !== name) {
        throw new IntegrityError(
          `Remote "${this.url}": the index of pack ${name}${
            this.#by(name)
          } is damaged (it does not match its name); nothing was changed here`,
          { remote: this.url, pack: name, problem: "damaged-pack" },
        );
      }
      this.#cache.put("idx", name, bytes);
    }
    this.#indexBytes.set(name, bytes);
    const entries = await parseIndex(bytes, name);
    // The index is named by its hash, so a remote can still craft one that lies about where
    // its objects are: a length of a terabyte, a negative or fractional offset.
    for (const e of entries) {
      if (
        !HEX64.test(e.hash) || !Number.isSafeInteger(e.offset) || e.offset < 0 ||
        !Number.isSafeInteger(e.length) || e.length < 0
      ) {
        throw new IntegrityError(
          `Remote "${this.url}": the index of pack ${name}${
            this.#by(name)
          } is damaged (its entry for ${e.hash.slice(0, 64)} is not a place in a pack); ` +
            "nothing was changed here",
          { remote: this.url, pack: name, problem: "damaged-pack" },
        );
      }
    }
    this.#entries.set(name, entries);
    return entries;
  }

  /** Where every packed object lies, loaded on first use. */
  async #locations(): Promise<Map<Hash, RemoteLocation>> {
    if (this.#where) return this.#where;
    const where = new Map<Hash, RemoteLocation>();
    for (const p of this.#packs) {
      for (const e of await this.index(p.name)) {
        where.set(e.hash, { pack: p.name, meta: p.meta, offset: e.offset, length: e.length });
      }
    }
    return this.#where = where;
  }

  /** Add a pack the log does not name yet (one a push uploaded, then stopped). */
  async adopt(pack: RemotePack): Promise<PackEntry[]> {
    const entries = await this.index(pack.name);
    const where = await this.#locations();
    this.#packs.push(pack);
    for (const e of entries) {
      if (!where.has(e.hash)) {
        where.set(e.hash, { pack: pack.name, meta: pack.meta, offset: e.offset, length: e.length });
      }
    }
    return entries;
  }

  /** Add a large object the log does not name yet. */
  adoptLoose(hash: Hash): void {
    this.#loose.add(hash);
  }

  /** True when the remote holds `hash`. */
  async has(hash: Hash): Promise<boolean> {
    return this.#loose.has(hash) || (await this.#locations()).has(hash);
  }

  /** Where `hash` lies: a pack location, "loose", or null when the remote lacks it. */
  async locate(hash: Hash): Promise<RemoteLocation | "loose" | null> {
    const at = (await this.#locations()).get(hash);
    if (at) return at;
    return this.#loose.has(hash) ? "loose" : null;
  }

  #missingPack(pack: Hash): IntegrityError {
    return new IntegrityError(
      `Remote "${this.url}": pack ${pack}${this.#by(pack)} is missing; nothing was changed here`,
      { remote: this.url, pack, problem: "missing-pack" },
    );
  }

  #corrupt(hash: Hash, pack: Hash | null): IntegrityError {
    return new IntegrityError(
      `Remote "${this.url}": object ${hash}${pack ? ` in pack ${pack}` : ""}${
        this.#by(pack ?? hash)
      } is damaged (its content does not match its hash); nothing was changed here`,
      { remote: this.url, object: hash, ...(pack ? { pack } : {}), problem: "damaged-object" },
    );
  }

  /**
   * An object of a meta pack (a commit, tree, job record or manifest), checked against its
   * hash when first taken: its pack is read whole the first time. Null when the remote does
   * not hold it.
   */
  async meta(hash: Hash): Promise<Uint8Array | null> {
    let got = this.#pool.get(hash);
    const at = (await this.#locations()).get(hash);
    if (!got) {
      if (!at) return null;
      if (!at.meta || this.#fetchedMeta.has(at.pack)) {
        return (await this.ranges([hash], () => {})).get(hash) ?? null;
      }
      const bytes = await this.#backend.get(KEYS.pack(at.pack));
      if (bytes === null) throw this.#missingPack(at.pack);
      this.bytes += bytes.length;
      this.#fetchedMeta.set(at.pack, bytes);
      const fresh: [Hash, Uint8Array][] = [];
      for (const e of await this.index(at.pack)) {
        if (e.offset + e.length > bytes.length) throw this.#corrupt(e.hash, at.pack);
        if (this.#pool.has(e.hash)) continue;
        const b = bytes.subarray(e.offset, e.offset + e.length);
        this.#pool.set(e.hash, b);
        fresh.push([e.hash, b]);
      }
      // Checked all at once (a native digest each, side by side): most will be taken. One
      // that does not match is refused when it is taken.
      const sums = await hashAll(fresh.map(([, b]) => b));
      fresh.forEach(([h], i) => {
        if (sums[i] === h) this.#checked.add(h);
      });
      got = this.#pool.get(hash)!;
    }
    if (!this.#checked.has(hash)) {
      if ((await sha256Native(got)) !== hash) throw this.#corrupt(hash, at?.pack ?? null);
      this.#checked.add(hash);
    }
    return got;
  }
  readonly #checked = new Set<Hash>();

  /** True when `meta()` checked `hash` in these very bytes (the same place in one pack). */
  #checkedAt(hash: Hash, bytes: Uint8Array): boolean {
    const p = this.#pool.get(hash);
    return p !== undefined && this.#checked.has(hash) && p.buffer === bytes.buffer &&
      p.byteOffset === bytes.byteOffset && p.length === bytes.length;
  }

  /**
   * Fetch packed objects by byte ranges (neighbours in one request), each checked against
   * its hash; `onObject` is called with each as it arrives. Returns them all when asked
   * for few (the meta path), else an empty map.
   */
  async ranges(
    hashes: readonly Hash[],
    onObject: (hash: Hash, bytes: Uint8Array) => void | Promise<void>,
  ): Promise<Map<Hash, Uint8Array>> {
    const where = await this.#locations();
    const byPack = new Map<Hash, { hash: Hash; offset: number; length: number }[]>();
    for (const h of hashes) {
      const at = where.get(h);
      if (!at) continue;
      let list = byPack.get(at.pack);
      if (!list) byPack.set(at.pack, list = []);
      list.push({ hash: h, offset: at.offset, length: at.length });
    }
    const keep = hashes.length <= 1;
    const out = new Map<Hash, Uint8Array>();
    for (const [pack, list] of byPack) {
      list.sort((a, b) => a.offset - b.offset);
      let i = 0;
      while (i < list.length) {
        const start = list[i]!.offset;
        let end = start + list[i]!.length;
        let j = i + 1;
        while (
          j < list.length && list[j]!.offset - end <= RANGE_GAP &&
          list[j]!.offset + list[j]!.length - start <= RANGE_MAX
        ) {
          end = Math.max(end, list[j]!.offset + list[j]!.length);
          j++;
        }
        const bytes = await this.#backend.getRange(KEYS.pack(pack), start, end - start);
        if (bytes === null) throw this.#missingPack(pack);
        this.bytes += bytes.length;
        for (const o of list.slice(i, j)) {
          const b = bytes.subarray(o.offset - start, o.offset - start + o.length);
          if (b.length !== o.length || (await sha256Native(b)) !== o.hash) {
            throw this.#corrupt(o.hash, pack);
          }
          if (keep) out.set(o.hash, b);
          await onObject(o.hash, b);
        }
        i = j;
      }
    }
    return out;
  }

  /**
   * Pack `name` whole, with its index, as a store holds a pack: its first line, each
   * object's header and each object's bytes checked (against its hash) before it is handed
   * on; `onObject` is called with each object's length as it is checked.
   */
  async wholePack(
    name: Hash,
    onObject?: (length: number) => void,
  ): Promise<{ pack: Uint8Array; index: Uint8Array; objects: number }> {
    const entries = await this.index(name);
    let pack = this.#fetchedMeta.get(name);
    if (!pack) {
      const got = await this.#backend.get(KEYS.pack(name));
      if (got === null) throw this.#missingPack(name);
      this.bytes += got.length;
      pack = got;
    }
    if (!hasPackMagic(pack)) {
      throw new IntegrityError(
        `Remote "${this.url}": pack ${name}${this.#by(name)} is damaged (it does not start ` +
          "as a pack does); nothing was changed here",
        { remote: this.url, pack: name, problem: "damaged-pack" },
      );
    }
    const records = entries.map((e) => recordAt(pack, e));
    const unchecked = entries.map((e, i) =>
      records[i] !== null && !this.#checkedAt(e.hash, records[i]!)
    );
    const sums = await hashAll(records.filter((_, i) => unchecked[i]) as Uint8Array[]);
    let next = 0;
    for (const [i, e] of entries.entries()) {
      if (records[i] === null || (unchecked[i] && sums[next++] !== e.hash)) {
        throw this.#corrupt(e.hash, name);
      }
      onObject?.(e.length);
    }
    return { pack, index: this.#indexBytes.get(name)!, objects: entries.length };
  }

  /** A large object's bytes as a stream (checked by whoever consumes it), or a named error. */
  async stream(hash: Hash): Promise<ReadableStream<Uint8Array>> {
    const s = await this.#backend.stream(KEYS.object(hash));
    if (s === null) {
      throw new IntegrityError(
        `Remote "${this.url}": object ${hash}${
          this.#by(hash)
        } is missing; nothing was changed here`,
        { remote: this.url, object: hash, problem: "missing-object" },
      );
    }
    return s;
  }

  /** The damaged-object error for `hash` (a large object that did not match). */
  corrupt(hash: Hash): IntegrityError {
    return this.#corrupt(hash, null);
  }
}

/** Native digests are taken this many at a time. */
const HASH_WIDTH = 16;

/** The SHA-256 of each of `items`, several taken side by side. */
async function hashAll(items: readonly Uint8Array[]): Promise<Hash[]> {
  const out: Hash[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(HASH_WIDTH, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await sha256Native(items[i]!);
      }
    }),
  );
  return out;
}
