/**
 * A bounded least-recently-used cache on a Map: Map keeps insertion order, so a hit
 * is moved to the end by delete + set and the oldest entry is the first key.
 */
export class LruCache<K, V> {
  readonly #map = new Map<K, V>()

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new RangeError('LruCache capacity must be at least 1')
  }

  get size(): number {
    return this.#map.size
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key)
    if (v === undefined) return undefined
    this.#map.delete(key)
    this.#map.set(key, v)
    return v
  }

  set(key: K, value: V): void {
    if (this.#map.has(key)) this.#map.delete(key)
    else if (this.#map.size >= this.capacity) this.#map.delete(this.#map.keys().next().value as K)
    this.#map.set(key, value)
  }

  clear(): void {
    this.#map.clear()
  }
}
