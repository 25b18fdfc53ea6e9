import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from './context.js'
import { ApiError } from './errors.js'

/** Deepest nesting of a JSON body: every schema here is a few levels deep; more is a client's mistake. */
export const MAX_BODY_DEPTH = 32

/**
 * Checks every JSON body before the route's schema sees it, and answers 400 naming the field for
 * what no store can hold: a lone UTF-16 surrogate ("\ud800": ClickHouse and PostgreSQL refuse it
 * with a 500 otherwise), U+0000 (PostgreSQL refuses it in text and jsonb), and nesting deeper than
 * MAX_BODY_DEPTH (serialising it again can overflow the stack). Keys are checked like values.
 * The parsed body is Hono's cached one: the route's validator does not parse it again.
 */
export function bodyGuard(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const m = c.req.method
    if ((m === 'POST' || m === 'PUT' || m === 'PATCH') && isJson(c)) {
      const body: unknown = await c.req.json()
      const problem = findProblem(body)
      if (problem) throw new ApiError('validation_failed', `${problem.field}: ${problem.message}`, [problem])
    }
    await next()
  }
}

function isJson(c: Context): boolean {
  const type = c.req.header('content-type') ?? ''
  return /^application\/json\b/i.test(type) || /\+json\b/i.test(type)
}

interface Frame {
  value: unknown
  parent: Frame | null
  key: string
  depth: number
}

const fieldOf = (f: Frame, last?: string): string => {
  const parts = last === undefined ? [] : [last]
  for (let x: Frame | null = f; x && x.parent; x = x.parent) parts.push(x.key)
  return ['body', ...parts.reverse()].join('.')
}

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g')

function textProblem(s: string): string | null {
  if (LONE_SURROGATE.test(s)) return 'contains a lone UTF-16 surrogate (not valid Unicode)'
  if (s.includes('\u0000')) return 'contains U+0000 (NUL), which cannot be stored'
  return null
}

/** The first value breaking the rules, walked without recursion (a deep body must not overflow the stack here either). */
export function findProblem(body: unknown): { field: string; message: string } | null {
  const stack: Frame[] = [{ value: body, parent: null, key: '', depth: 0 }]
  while (stack.length) {
    const f = stack.pop()!
    const v = f.value
    if (typeof v === 'string') {
      const p = textProblem(v)
      if (p) return { field: fieldOf(f), message: p }
      continue
    }
    if (typeof v !== 'object' || v === null) continue
    if (f.depth >= MAX_BODY_DEPTH) return { field: fieldOf(f), message: `nested deeper than ${MAX_BODY_DEPTH} levels` }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], parent: f, key: String(i), depth: f.depth + 1 })
      continue
    }
    const keys = Object.keys(v)
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i]!
      const p = textProblem(k)
      if (p) return { field: fieldOf(f, k.replace(LONE_SURROGATES, '\uFFFD')), message: `key ${p}` }
      stack.push({ value: (v as Record<string, unknown>)[k], parent: f, key: k, depth: f.depth + 1 })
    }
  }
  return null
}

/**
 * A route's list counted before its schema validates it: a body of 100,000 recipients is refused
 * (413) in microseconds instead of after seconds of validation on the event loop.
 */
export function arrayLimit(field: string, max: number, message: (n: number) => string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (c.req.method === 'POST' && isJson(c)) {
      const body: unknown = await c.req.json()
      const list = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined
      if (Array.isArray(list) && list.length > max) throw new ApiError('payload_too_large', message(list.length))
    }
    await next()
  }
}
