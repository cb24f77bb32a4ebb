/**
 * An immutable map from strings that shares structure between versions: `with()` returns a
 * new version and copies only the buckets it changes (and one small array of buckets), so
 * a reducer can change a few of 10,000 jobs per batch without copying them all.
 */

const BUCKETS = 256;

function bucketOf(key: string): number {
  // FNV-1a over the whole key: job ids share long prefixes (time) or suffixes (tests).
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % BUCKETS;
}

/** An immutable `ReadonlyMap` whose versions share their unchanged buckets. */
export class PersistentMap<V> implements ReadonlyMap<string, V> {
  readonly #buckets: readonly (ReadonlyMap<string, V> | undefined)[];
  readonly size: number;

  private constructor(buckets: readonly (ReadonlyMap<string, V> | undefined)[], size: number) {
    this.#buckets = buckets;
    this.size = size;
  }

  /** The empty map. */
  static empty<V>(): PersistentMap<V> {
    return new PersistentMap<V>(new Array(BUCKETS).fill(undefined), 0);
  }

  /** A map of `entries` (a later entry for the same key wins). */
  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    return PersistentMap.empty<V>().with(entries);
  }

  /** A new version with `set` entries set and `remove` keys removed (removals go last). */
  with(set: Iterable<readonly [string, V]>, remove: Iterable<string> = []): PersistentMap<V> {
    const buckets = [...this.#buckets];
    const copied = new Uint8Array(BUCKETS);
    let changed = false;
    let size = this.size;
    const own = (b: number): Map<string, V> => {
      if (copied[b] === 0) {
        copied[b] = 1;
        changed = true;
        buckets[b] = new Map(buckets[b]);
      }
      return buckets[b] as Map<string, V>;
    };
    for (const [key, value] of set) {
      const bucket = own(bucketOf(key));
      if (!bucket.has(key)) size++;
      bucket.set(key, value);
    }
    for (const key of remove) {
      const b = bucketOf(key);
      if (!buckets[b]?.has(key)) continue;
      own(b).delete(key);
      size--;
    }
    return changed ? new PersistentMap(buckets, size) : this;
  }

  get(key: string): V | undefined {
    return this.#buckets[bucketOf(key)]?.get(key);
  }

  has(key: string): boolean {
    return this.#buckets[bucketOf(key)]?.has(key) ?? false;
  }

  *entries(): MapIterator<[string, V]> {
    for (const b of this.#buckets) if (b) yield* b.entries();
  }

  *keys(): MapIterator<string> {
    for (const b of this.#buckets) if (b) yield* b.keys();
  }

  *values(): MapIterator<V> {
    for (const b of this.#buckets) if (b) yield* b.values();
  }

  forEach(fn: (value: V, key: string, map: ReadonlyMap<string, V>) => void, thisArg?: unknown) {
    for (const [k, v] of this.entries()) fn.call(thisArg, v, k, this);
  }

  [Symbol.iterator](): MapIterator<[string, V]> {
    return this.entries();
  }
}
