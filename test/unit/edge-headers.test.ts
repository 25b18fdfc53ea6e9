import { createServer, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readHeaders } from '../../src/tracking/edge.js'

/*
 * The edge reads user-agent, referer and the prefetch hints from rawHeaders; what it reads must
 * be what req.headers (Node's own parsing) says, whatever the case, order and repetitions.
 */
let seen: IncomingMessage[] = []
const server = createServer((req, res) => {
  seen.push(req)
  res.end()
})
let port = 0
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  port = (server.address() as { port: number }).port
})
afterAll(() => new Promise<void>((r) => server.close(() => r())))

/** Sends one raw request (header lines exactly as given) and returns what the server received. */
async function receive(headerLines: string[]): Promise<IncomingMessage> {
  seen = []
  await new Promise<void>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.end(`GET /c/x/y HTTP/1.1\r\nHost: t\r\n${headerLines.map((l) => l + '\r\n').join('')}Connection: close\r\n\r\n`))
    s.on('data', () => undefined)
    s.on('close', () => resolve())
    s.on('error', reject)
  })
  return seen[0]!
}

function viaHeadersObject(req: IncomingMessage) {
  const h = req.headers
  const parts: string[] = []
  if (typeof h['sec-purpose'] === 'string') parts.push('sec-purpose=' + h['sec-purpose'])
  if (typeof h['purpose'] === 'string') parts.push('purpose=' + h['purpose'])
  if (typeof h['x-moz'] === 'string') parts.push('x-moz=' + h['x-moz'])
  return { userAgent: h['user-agent'] ?? '', referer: h['referer'] ?? '', prefetch: parts.join(',').slice(0, 200) }
}

describe('readHeaders (the edge reads rawHeaders)', () => {
  const cases: Array<[string, string[]]> = [
    ['none of them', ['Accept: */*']],
    ['a browser navigation', ['User-Agent: Mozilla/5.0 (X11) Chrome/131', 'Referer: https://mail.google.com/', 'Sec-Fetch-Mode: navigate', 'Accept-Language: fr']],
    ['odd case', ['uSER-aGENT: UA', 'REFERER: https://r/', 'SEC-PURPOSE: prefetch', 'Purpose: prefetch', 'X-MOZ: prefetch']],
    ['repeats: first user-agent and referer, joined hints', ['User-Agent: one', 'User-Agent: two', 'Referer: a', 'Referer: b', 'Sec-Purpose: prefetch', 'Sec-Purpose: prerender', 'X-Moz: a', 'x-moz: b', 'Purpose: p', 'purpose: q']],
    ['same lengths, other names', ['Accepts: x', 'Expires: 0', 'X-Real-Ua: z', 'Sec-Fetch-U: 1', 'Range: bytes=0-', 'X-Forwarded: a']],
    ['empty values', ['User-Agent:', 'Referer:', 'Sec-Purpose:']],
    ['long hints are cut at 200', ['Sec-Purpose: ' + 'p'.repeat(300)]],
  ]
  for (const [name, lines] of cases) {
    it(name, async () => {
      const req = await receive(lines)
      expect(readHeaders(req.rawHeaders)).toEqual(viaHeadersObject(req))
    })
  }

  it('a real browser request gives its user agent and referer', async () => {
    const req = await receive(['User-Agent: Mozilla/5.0 Chrome/131', 'Referer: https://mail.google.com/'])
    expect(readHeaders(req.rawHeaders)).toEqual({ userAgent: 'Mozilla/5.0 Chrome/131', referer: 'https://mail.google.com/', prefetch: '' })
  })
})
