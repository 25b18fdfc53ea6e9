import { createServer as createHttpServer, type Server } from 'node:http'
import { getRequestListener } from '@hono/node-server'
import type { AppDeps } from './api/context.js'
import { createApp } from './app.js'

/** Bounds on what a client may send or how slowly, so no client can hold the edge. */
export const SERVER_LIMITS = {
  maxHeaderSize: 16 * 1024,
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  keepAliveTimeout: 5_000,
}

/**
 * One node:http server: the edge answers /c and /o itself (Hono halves the throughput of
 * those two hot paths); every other request goes to the Hono app.
 */
export function createServer(deps: AppDeps): { server: Server; app: ReturnType<typeof createApp> } {
  const app = createApp(deps)
  const listener = getRequestListener(app.fetch)
  const server = createHttpServer({ maxHeaderSize: SERVER_LIMITS.maxHeaderSize }, (req, res) => {
    if (!deps.edge.handle(req, res)) void listener(req, res)
  })
  server.headersTimeout = SERVER_LIMITS.headersTimeout
  server.requestTimeout = SERVER_LIMITS.requestTimeout
  server.keepAliveTimeout = SERVER_LIMITS.keepAliveTimeout
  return { server, app }
}
