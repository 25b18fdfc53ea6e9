import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  at: number
}

/** What the receiver answers a request with: a status, optional headers. */
export type Responder = (r: Received, n: number) => { status: number; headers?: Record<string, string> }

/** A loopback webhook receiver that records every request and answers as told (default 204). */
export async function startReceiver(respond: Responder = () => ({ status: 204 })) {
  const received: Received[] = []
  let responder = respond
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() }
      received.push(r)
      const a = responder(r, received.length)
      res.writeHead(a.status, a.headers)
      res.end(a.status >= 400 ? `nope ${a.status}` : '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    received,
    respond(fn: Responder) {
      responder = fn
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/**
 * The Standard Webhooks signature check written from the specification, not with the library that
 * signs: HMAC-SHA256 keyed by the base64 secret after `whsec_`, over `id.timestamp.body`, compared
 * with each space-separated `v1,<base64>` of the header.
 */
export function verifyFromSpec(secret: string, headers: IncomingHttpHeaders, body: string): boolean {
  const id = String(headers['webhook-id'])
  const ts = String(headers['webhook-timestamp'])
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64')
  const expected = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest()
  return String(headers['webhook-signature'])
    .split(' ')
    .some((sig) => {
      const [version, b64] = sig.split(',')
      if (version !== 'v1' || !b64) return false
      const got = Buffer.from(b64, 'base64')
      return got.length === expected.length && timingSafeEqual(got, expected)
    })
}

/**
 * Every request verified by the `standardwebhooks` package (an implementation that is not ours:
 * sillage signs with node:crypto from the specification) and by the check above; throws naming
 * the first request that fails.
 */
export function verifyAll(secret: string, received: readonly Received[]): number {
  const lib = new Webhook(secret)
  received.forEach((r, i) => {
    lib.verify(r.body, r.headers as Record<string, string>)
    if (!verifyFromSpec(secret, r.headers, r.body)) throw new Error(`request ${i}: signature does not match the specification's`)
  })
  return received.length
}

export async function until(cond: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
