import { eq, gt } from 'drizzle-orm'
import type { MetaStore } from './meta.js'
import { preferenceWrites, recipientPreferences } from './schema.js'

/** Bits of the bitmap (1 MiB): with 100,000 readers who chose something, ~1 % of other ids share a bit. */
const BITS = 1 << 23

interface Hint {
  /** A bit per hash of every recipient id that had a preferences row when last looked (never cleared). */
  bits: Uint8Array
  /** preference_writes.n when last looked (-1: never). */
  seen: number
}

/** One per metadata store handle, so a test's fresh store starts empty too. */
const hints = new WeakMap<MetaStore, Hint>()

/** FNV-1a over the UTF-16 code units, to a bit of the bitmap. */
function slot(id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193)
  return (h >>> 0) & (BITS - 1)
}

/**
 * The ids among these that may have stored preferences: every id that has a row is returned (a few
 * others may be, when their hash shares a bit, or their row was deleted since: reading them finds
 * nothing). Reads the counter of preference writes (migration 0410), then only the rows written since
 * this process last looked, whichever process wrote them; the first call reads every row's id.
 */
export async function mayHavePreferences(meta: MetaStore, ids: readonly string[]): Promise<string[]> {
  let hint = hints.get(meta)
  if (!hint) hints.set(meta, (hint = { bits: new Uint8Array(BITS >>> 3), seen: -1 }))
  const [counter] = await meta.db.select({ n: preferenceWrites.n }).from(preferenceWrites).where(eq(preferenceWrites.id, 1))
  const n = Number(counter?.n ?? 0)
  if (n !== hint.seen) {
    // Read after n: holds at least every row with seq <= n (committed in the counter's order).
    const rows = await meta.db
      .select({ id: recipientPreferences.recipientId })
      .from(recipientPreferences)
      .where(hint.seen < 0 ? undefined : gt(recipientPreferences.seq, hint.seen))
    for (const r of rows) {
      const s = slot(r.id)
      hint.bits[s >>> 3]! |= 1 << (s & 7)
    }
    // Two calls refreshing at once: keep the larger count (either one read every row up to its own).
    hint.seen = Math.max(hint.seen, n)
  }
  const bits = hint.bits
  return ids.filter((id) => {
    const s = slot(id)
    return (bits[s >>> 3]! & (1 << (s & 7))) !== 0
  })
}
