const formats = new Map<string, Intl.DateTimeFormat>()

/** How far the wall clock of `tz` is ahead of UTC at instant `t` (ms). */
function zoneOffsetMs(t: number, tz: string): number {
  let f = formats.get(tz)
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    formats.set(tz, f)
  }
  const p = Object.fromEntries(f.formatToParts(new Date(t)).map((x) => [x.type, Number(x.value)]))
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) - Math.floor(t / 1000) * 1000
}

/**
 * A form's `datetime-local` value (no zone) read on the wall clock of `tz` → the instant, or null
 * when it is not one. The offset is taken twice so a date across a DST change from the guess gets
 * its own; a wall time skipped by a DST jump lands just after it.
 */
export function wallTimeToInstant(local: string, tz: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?$/.test(local)) return null
  const naive = Date.parse(local + 'Z')
  if (Number.isNaN(naive)) return null
  const guess = naive - zoneOffsetMs(naive, tz)
  return naive - zoneOffsetMs(guess, tz)
}
