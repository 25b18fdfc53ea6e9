/**
 * ISO-8601 durations of fixed length: weeks, days, hours, minutes, seconds (`P3D`, `PT12H`,
 * `P1W`, `P1DT6H30M`). Years and months are refused: their length depends on the date, and an
 * offset must mean the same for every recipient. A day is 24 hours (UTC, no daylight saving).
 */
const DURATION = /^P(?:(\d{1,5})W)?(?:(\d{1,5})D)?(?:T(?:(\d{1,6})H)?(?:(\d{1,7})M)?(?:(\d{1,9}(?:\.\d{1,3})?)S)?)?$/

/** The duration in milliseconds, or null when the text is not one of the accepted forms. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text)
  if (!m || text === 'P' || text.endsWith('T')) return null
  const [, w, d, h, min, s] = m
  if (w === undefined && d === undefined && h === undefined && min === undefined && s === undefined) return null
  const ms = ((Number(w ?? 0) * 7 + Number(d ?? 0)) * 24 * 3600 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60) * 1000 + Math.round(Number(s ?? 0) * 1000)
  return Number.isSafeInteger(ms) ? ms : null
}
