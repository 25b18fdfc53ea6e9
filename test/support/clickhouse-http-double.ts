import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync, gzipSync } from 'node:zlib'
import chdb from 'chdb'
import { CHDB_PATH } from './stores.js'

/**
 * A TEST DOUBLE OF THE TRANSPORT, over the real engine: a node:http server that speaks
 * ClickHouse's HTTP interface (the query in the body or the `query` parameter with the data in
 * the body, `param_*` bound parameters, settings as URL parameters, multipart bodies when the
 * parameters outgrow the URL, gzip both ways, `X-ClickHouse-*` headers, errors as
 * `Code: N. DB::Exception: …` with a non-200 status) and runs every query on the embedded chDB
 * of this test process. It lets the `CLICKHOUSE_URL` code path — @clickhouse/client's HTTP
 * transport, per-query settings that do not leak between queries, URL-size limits, errors and
 * timeouts — run in CI where no modern ClickHouse server can be installed. It is not a
 * ClickHouse server: one node, no Keeper, no clusters; `CLICKHOUSE_TEST_URL` still points the
 * suite at a real server where one is reachable.
 *
 * Faults are injected per request: `close-before` drops the connection before running the
 * query, `close-after` runs it and then drops the connection (the client cannot know it
 * succeeded), `status-500` answers an error without running it, `hang` runs it and never answers.
 */
export type Fault = 'close-before' | 'close-after' | 'status-500' | 'hang'

interface PlannedFault {
  fault: Fault
  match: RegExp
  times: number
}

const MAX_URI = 1 << 20

/** Settings that belong to the HTTP layer of a server, not to the engine. */
const HTTP_SETTINGS = new Set([
  'wait_end_of_query',
  'send_progress_in_http_headers',
  'http_headers_progress_interval_ms',
  'enable_http_compression',
  'http_zlib_compression_level',
  'http_response_buffer_size',
])
const NOT_SETTINGS = new Set(['query', 'database', 'query_id', 'session_id', 'role', 'default_format', 'user', 'password'])

const { Session } = chdb as unknown as {
  Session: new (path: string) => {
    queryAsync(sql: string, opts: { format: string }): Promise<{ bytes(): Uint8Array; rowsRead: number; bytesRead: number; elapsed: number }>
    close(): void
  }
}

export interface ClickHouseHttpDouble {
  url: string
  /** Queries received, in order (the SQL as run, without the data of an insert). */
  log: string[]
  /** The next `times` requests whose SQL matches `match` get `fault`. */
  inject(fault: Fault, match: RegExp, times?: number): void
  close(): Promise<void>
}

export async function startClickHouseHttpDouble(): Promise<ClickHouseHttpDouble> {
  const faults: PlannedFault[] = []
  const log: string[] = []
  const hung = new Set<ServerResponse>()
  // chDB runs one query at a time per process; a queue keeps the double's order that of arrival.
  let queue: Promise<unknown> = Promise.resolve()

  // ClickHouse's http_max_uri_size: bound parameters travel in the URL and may be this long.
  const server: Server = createServer({ maxHeaderSize: MAX_URI + 64 * 1024 }, (req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' })
      res.end(`Code: 1000. DB::Exception: test double: ${(err as Error).message}\n`)
    })
  })

  async function handle(req: IncomingMessage, res: ServerResponse) {
    if ((req.url ?? '').length > MAX_URI) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('Code: 1000. DB::Exception: URI is longer than http_max_uri_size (1048576)\n')
      return
    }
    const url = new URL(req.url ?? '/', 'http://double')
    if (req.method === 'GET' && (url.pathname === '/ping' || (url.pathname === '/' && !url.searchParams.has('query')))) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('Ok.\n')
      return
    }
    let body = await readBody(req)
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
    const fields = new Map(url.searchParams)
    let data = body.toString('utf8')
    const type = req.headers['content-type'] ?? ''
    const boundary = /multipart\/form-data;\s*boundary=(.+)$/i.exec(type)?.[1]
    if (boundary) {
      for (const [name, value] of parseMultipart(data, boundary)) fields.set(name, value)
      data = ''
    }
    const inUrl = fields.get('query')
    const sql = inUrl !== undefined ? (data ? `${inUrl}\n${data}` : inUrl) : data
    const settings: string[] = []
    const params: string[] = []
    let format = fields.get('default_format') ?? 'TabSeparated'
    for (const [name, value] of fields) {
      // As on a server, a parameter is the text of its value, parsed by the engine for the declared type.
      if (name.startsWith('param_')) params.push(`SET ${name} = ${literal(value)}`)
      else if (!NOT_SETTINGS.has(name) && !HTTP_SETTINGS.has(name)) {
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`bad setting name ${name}`)
        settings.push(`SET ${name} = ${literal(value)}`)
      }
    }
    const head = (inUrl ?? data).slice(0, 2000)
    log.push(head)
    const planned = faults.find((f) => f.times > 0 && f.match.test(head))
    if (planned) planned.times--
    const fault = planned?.fault
    if (fault === 'close-before') return void req.socket.destroy()
    if (fault === 'status-500') {
      res.writeHead(500, { 'Content-Type': 'text/plain', 'X-ClickHouse-Exception-Code': '999' })
      res.end('Code: 999. DB::Exception: test double: injected failure (KEEPER_EXCEPTION)\n')
      return
    }
    const queryId = fields.get('query_id') ?? randomUUID()
    const run = async () => {
      // A session per request: settings apply to this query only, as on a server.
      const session = new Session(CHDB_PATH)
      try {
        // A server reads parameters from the URL, not through the SQL parser: the double's SET of a
        // long value must not meet max_query_size, so it is raised for them, then the query's own
        // settings (or the default) apply.
        if (params.length) {
          await session.queryAsync(`SET max_query_size = ${MAX_URI * 4}`, { format: 'TabSeparated' })
          for (const set of params) await session.queryAsync(set, { format: 'TabSeparated' })
          if (!fields.has('max_query_size')) settings.unshift('SET max_query_size = 262144')
        }
        for (const set of settings) await session.queryAsync(set, { format: 'TabSeparated' })
        return await session.queryAsync(sql, { format })
      } finally {
        session.close()
      }
    }
    const result = queue.then(run, run)
    queue = result.catch(() => undefined)
    let out
    try {
      out = await result
    } catch (err) {
      const message = (err as Error).message
      const code = /Code: (\d+)/.exec(message)?.[1] ?? '1000'
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=UTF-8', 'X-ClickHouse-Exception-Code': code, 'X-ClickHouse-Query-Id': queryId })
      res.end(/Code: \d+/.test(message) ? message.replace(/^[^C]*(?=Code:)/, '') + '\n' : `Code: ${code}. DB::Exception: ${message}\n`)
      return
    }
    if (fault === 'close-after') return void req.socket.destroy()
    if (fault === 'hang') {
      hung.add(res)
      return
    }
    const bytes = Buffer.from(out.bytes())
    const summary = { read_rows: String(out.rowsRead ?? 0), read_bytes: String(out.bytesRead ?? 0), written_rows: '0', written_bytes: '0', total_rows_to_read: '0', result_rows: '0', result_bytes: '0', elapsed_ns: '0' }
    const headers: Record<string, string> = {
      'Content-Type': 'text/plain; charset=UTF-8',
      'X-ClickHouse-Query-Id': queryId,
      'X-ClickHouse-Format': format,
      'X-ClickHouse-Timezone': 'UTC',
      'X-ClickHouse-Summary': JSON.stringify(summary),
      'X-ClickHouse-Server-Display-Name': 'clickhouse-http-double',
    }
    const gzip = fields.get('enable_http_compression') === '1' && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
    if (gzip) headers['Content-Encoding'] = 'gzip'
    res.writeHead(200, headers).end(gzip ? gzipSync(bytes) : bytes)
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    inject(fault, match, times = 1) {
      faults.push({ fault, match, times })
    },
    async close() {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await queue
    },
  }
}

function literal(value: string): string {
  return "'" + value.replace(/\\/g, '\\\\').replace(/'/g, "\\'") + "'"
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks)
}

/** name → value of a multipart/form-data body (the client sends the query and param_* this way). */
function parseMultipart(body: string, boundary: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf('\r\n\r\n')
    if (split < 0) continue
    const name = /name="([^"]+)"/.exec(part.slice(0, split))?.[1]
    if (!name) continue
    out.push([name, part.slice(split + 4).replace(/\r\n$/, '')])
  }
  return out
}
