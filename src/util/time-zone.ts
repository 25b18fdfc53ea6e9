/**
 * An IANA time zone as ClickHouse spells it, or null when Intl does not know it. Intl accepts
 * any case (`europe/paris`) while ClickHouse's names are case-sensitive: the canonical name
 * Intl resolves to is what the queries get. Checked once per string.
 */
const knownZones = new Map<string, string | null>()
export function canonicalTimeZone(tz: string): string | null {
  let zone = knownZones.get(tz)
  if (zone === undefined) {
    zone = null
    if (/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) {
      try {
        zone = new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone
      } catch {
        /* unknown */
      }
    }
    if (knownZones.size < 1000) knownZones.set(tz, zone)
  }
  return zone
}
