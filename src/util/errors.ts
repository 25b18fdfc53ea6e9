import type { z } from 'zod'

/**
 * The errors services, metrics and the other lower layers throw. They name what went wrong in the
 * domain's words; the API's error handler (src/app.ts, with api/errors.ts) is the one place that
 * maps each code to an HTTP status and the JSON error shape.
 */
export type DomainErrorCode =
  /** The input breaks a rule; the message names the field. */
  | 'validation_failed'
  /** The request cannot be understood as a whole (a bad cursor, a range that makes no sense). */
  | 'bad_request'
  | 'not_found'
  /** The thing exists already, or its state does not allow the change. */
  | 'conflict'
  /** The caller is known but may not do this. */
  | 'forbidden'
  /** More than a stated limit (recipients in one call, links in one template). */
  | 'payload_too_large'
  /** A store or a peer does not answer; retrying later may work. */
  | 'unavailable'

export class DomainError extends Error {
  readonly code: DomainErrorCode
  readonly details: unknown

  constructor(code: DomainErrorCode, message: string, details?: unknown) {
    super(message)
    this.code = code
    this.details = details
  }
}

export const invalid = (message: string, details?: unknown) => new DomainError('validation_failed', message, details)
export const notFound = (message: string) => new DomainError('not_found', message)
export const conflict = (message: string, details?: unknown) => new DomainError('conflict', message, details)

/** Zod issues → "where: what" lines, naming the parameter or field. */
export function describeIssues(target: string, issues: z.core.$ZodIssue[]): { message: string; details: unknown } {
  const details = issues.map((i) => ({ field: [target, ...i.path.map(String)].join('.'), message: i.message }))
  return { message: details.map((d) => `${d.field}: ${d.message}`).join('; '), details }
}
