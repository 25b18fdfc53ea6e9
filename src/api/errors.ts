import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from '@hono/zod-openapi'

/** The closed set of error codes, each with its HTTP status. */
export const ERROR_STATUS = {
  bad_request: 400,
  validation_failed: 400,
  invalid_json: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
} as const satisfies Record<string, ContentfulStatusCode>

export type ErrorCode = keyof typeof ERROR_STATUS

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }

  get status(): ContentfulStatusCode {
    return ERROR_STATUS[this.code]
  }
}

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'validation_failed' }),
      message: z.string().openapi({ example: 'body.name: Too small: expected string to have >=1 characters' }),
      requestId: z.string().optional(),
      details: z.unknown().optional(),
    }),
  })
  .openapi('Error')

export function errorBody(c: Context, code: ErrorCode | string, message: string, details?: unknown) {
  const requestId = c.get('requestId' as never) as string | undefined
  return { error: { code, message, ...(requestId ? { requestId } : {}), ...(details !== undefined ? { details } : {}) } }
}

/** Response entries for the OpenAPI document, so every route lists its errors. */
/**
 * What a public (unauthenticated) operation declares besides its success: it has no security
 * requirement, and the one client error every endpoint can get, which node:http answers itself.
 */
export const publicOperation = {
  security: [] as Array<Record<string, string[]>>,
  clientErrors: { 431: { description: 'Request headers larger than 16 KB (answered by node:http before the app, without a body)' } },
}

export function errorResponses(...statuses: Array<400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503>) {
  const descriptions: Record<number, string> = {
    400: 'Invalid input; the message names the field',
    401: 'Missing or invalid API key',
    403: 'The API key is valid but its role does not allow this',
    404: 'Not found',
    409: 'Conflict',
    413: 'Body too large',
    415: 'Body is not JSON',
    429: 'Too many failed authentications from this address (Retry-After says when to try again)',
    503: 'A store is unavailable',
  }
  return Object.fromEntries(
    statuses.map((s) => [s, { description: descriptions[s]!, content: { 'application/json': { schema: ErrorSchema } } }]),
  ) as Record<number, { description: string; content: { 'application/json': { schema: typeof ErrorSchema } } }>
}
