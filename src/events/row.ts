/** `YYYY-MM-DD hh:mm:ss.mmm` in UTC: what DateTime64(3) parses on every ClickHouse version. */
export function chDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23).replace('T', ' ')
}
