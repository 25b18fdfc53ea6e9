/*
 * The baseline of every edge benchmark: a bare node:http server that answers one response at
 * a time with the same status, headers and body length as sillage, and does nothing else.
 *
 *   node --import tsx bench/lib/baseline-server.ts redirect <location>
 *   node --import tsx bench/lib/baseline-server.ts pixel
 * Prints the port it listens on (loopback, ephemeral) as one line on stdout.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64')
const mode = process.argv[2]
const location = process.argv[3] ?? 'https://example.org/'

const server =
  mode === 'pixel'
    ? createServer((_req, res) => {
        res.writeHead(200, {
          'Content-Type': 'image/gif',
          'Content-Length': String(GIF.length),
          'Cache-Control': 'no-store, no-cache, must-revalidate, max-age=0',
          Pragma: 'no-cache',
          Expires: '0',
        })
        res.end(GIF)
      })
    : createServer((_req, res) => {
        res.writeHead(302, { Location: location, 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'Content-Length': '0' })
        res.end()
      })

server.keepAliveTimeout = 5_000
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as AddressInfo).port}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
