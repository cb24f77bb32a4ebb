/**
 * The objects of a remote: where each lies (the pack indexes, cached by name and checked
 * against it), fetching them, and checking each against its hash before it is handed on.
 * Meta packs (commits, trees, job records) are read whole once and kept in memory; data
 * objects are read by byte ranges, neighbours together; large objects whole, as streams.
 */
import { IntegrityError } from "../errors.ts";
import { type Hash, sha256Async } from "../store/hash.ts";
import type { PackEntry } from "../store/pack_codec.ts";
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

/** The objects of one remote, as far as its log names them. */
export class RemoteObjects {
  readonly #backend: RemoteBackend;
  readonly #cache: RemoteCache;
  readonly #packs: RemotePack[];
  readonly #loose: Set<Hash>;
  readonly #addedBy: ReadonlyMap<Hash, number>;
  #where: Map<Hash, RemoteLocation> | null = null;
  readonly #pool = new Map<Hash, Uint8Array>();
  readonly #fetchedMeta = new Set<Hash>();
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
      if ((await sha256Async(bytes)) !== name) {
        throw new IntegrityError(
          `Remote "${this.url}": the index of pack ${name}${
            this.#by(name)
          } is damaged (it does not match its name); nothing was changed here`,
          { remote: this.url, pack: name, problem: "damaged-pack" },
        );
      }
      this.#cache.put("idx", name, bytes);
    }
    return await parseIndex(bytes, name);
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
      this.#fetchedMeta.add(at.pack);
      for (const e of await this.index(at.pack)) {
        if (e.offset + e.length > bytes.length) throw this.#corrupt(e.hash, at.pack);
        this.#pool.set(e.hash, bytes.subarray(e.offset, e.offset + e.length));
      }
      got = this.#pool.get(hash)!;
    }
    if (!this.#checked.has(hash)) {
      if ((await sha256Async(got)) !== hash) throw this.#corrupt(hash, at?.pack ?? null);
      this.#checked.add(hash);
    }
    return got;
  }
  readonly #checked = new Set<Hash>();

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
          if (b.length !== o.length || (await sha256Async(b)) !== o.hash) {
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
