/** Longest window a rule, a preference or a metric may name: a year. */
export const MAX_WINDOW_DAYS = 366

export const DAY_MS = 86_400_000

/**
 * An ISO-8601 duration in whole days or weeks (`P7D`, `P30D`, `P2W`) → days; null for anything
 * else (hours, months and years have no fixed length in days, so they are refused rather than guessed).
 */
export function parseWindowDays(s: string): number | null {
  const m = /^P(\d{1,4})([DW])$/.exec(s)
  if (!m) return null
  const days = Number(m[1]) * (m[2] === 'W' ? 7 : 1)
  return days > 0 && days <= MAX_WINDOW_DAYS ? days : null
}

/** Days → the ISO-8601 duration the API answers with (`P7D`). */
export const windowName = (days: number): string => `P${days}D`
