export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** Characters kept of one string field (an error can quote a whole failed insert: megabytes). */
export const MAX_LOG_FIELD = 4096
/** Characters of a whole line past which its fields are dropped but for the message and a note. */
export const MAX_LOG_LINE = 16_384

function clip(v: unknown): unknown {
  return typeof v === 'string' && v.length > MAX_LOG_FIELD ? `${v.slice(0, MAX_LOG_FIELD)}… (${v.length - MAX_LOG_FIELD} more characters)` : v
}

/** One JSON line of bounded size: long strings clipped, and a line still too long (many fields) cut down. */
export function logLine(level: LogLevel, msg: string, fields?: Record<string, unknown>): string {
  const bounded: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields ?? {})) bounded[k] = clip(v)
  let line = JSON.stringify({ time: new Date().toISOString(), level, msg: clip(msg), ...bounded })
  if (line.length > MAX_LOG_LINE) line = JSON.stringify({ time: new Date().toISOString(), level, msg: clip(msg), truncated: line.length, head: line.slice(0, MAX_LOG_FIELD) })
  return line + '\n'
}

/** One JSON line per notable event, on stderr so stdout stays free for tools. */
export function createLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const min = ORDER[level]
  const emit = (lvl: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < min) return
    write(logLine(lvl, msg, fields))
  }
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') }
}
