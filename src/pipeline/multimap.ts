/** A map from a key to a set of values, with empty sets removed: the engine's indexes. */
export class SetMultimap<K, V> {
  private readonly map = new Map<K, Set<V>>();

  add(key: K, value: V): void {
    const s = this.map.get(key);
    if (s) s.add(value);
    else this.map.set(key, new Set([value]));
  }

  delete(key: K, value: V): void {
    const s = this.map.get(key);
    if (!s) return;
    s.delete(value);
    if (s.size === 0) this.map.delete(key);
  }

  get(key: K): ReadonlySet<V> {
    return this.map.get(key) ?? EMPTY;
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  entries(): IterableIterator<[K, Set<V>]> {
    return this.map.entries();
  }
}

const EMPTY: ReadonlySet<never> = new Set();
