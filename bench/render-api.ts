/*
 * Renders per second of the whole render path, on the template of bench/render.ts's kind
 * (~40 KB of HTML, 20 links, a text part):
 *
 *   1. per recipient, in process: token HMAC + click/pixel/unsubscribe URLs + fragment
 *      concatenation + the JSON line written to the response (what POST /render does per recipient);
 *   2. end to end over HTTP: POST /v1/campaigns/:id/render with 10,000 recipients, NDJSON
 *      (suppression lookup, sends insert into ClickHouse, streaming), read to the end by curl.
 * The engine alone (bench/render.ts's measure) runs alternately with 1. as the baseline.
 *
 *   npx tsx bench/render-api.ts
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../src/config.js'
import { createLogger } from '../src/logger.js'
import { startRuntime } from '../src/runtime.js'
import { renderCompiled } from '../src/rewrite/index.js'
import { createJsonRenderer } from '../src/sdk/render.js'
import { createServer } from '../src/server.js'
import { getTemplate } from '../src/services/templates.js'
import { buildTemplate } from './lib/newsletter-template.js'

const RUNS = 7
const RUN_MS = 1000
const HTTP_RECIPIENTS = 10_000
const HTTP_RUNS = 5
const KEY = 'bench-admin-key-0123456789'

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const dataDir = mkdtempSync(join(tmpdir(), 'sillage-bench-render-'))
const config = parseConfig({ DATA_DIR: dataDir, TRACKER_ADMIN_KEY: KEY, PORT: '0', LOG_LEVEL: 'silent' })
const deps = await startRuntime({ config, log: createLogger('silent') })
const { server } = createServer(deps)
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
deps.config.publicBaseUrl = url

const api = async (method: string, path: string, body?: unknown, accept = 'application/json') => {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', accept },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  return res
}

const { html, text } = buildTemplate()
await api('POST', '/v1/campaigns', { id: 'bench', name: 'Bench' })
const created = (await (await api('POST', '/v1/campaigns/bench/templates', { html, text })).json()) as { id: string; links: unknown[] }
console.log(`template: ${(html.length / 1024).toFixed(1)} KB html, ${created.links.length} links`)

// 2. End to end over HTTP, one server process.
const recipients = Array.from({ length: HTTP_RECIPIENTS }, (_, i) => ({ id: `r-${i}`, segments: ['bench'] }))
const bodyFile = join(dataDir, 'render-body.json')
writeFileSync(bodyFile, JSON.stringify({ templateId: created.id, recipients }))
const httpRates: number[] = []
for (let i = 0; i <= HTTP_RUNS; i++) {
  // curl is the client, in its own process: the server's core renders, curl's reads.
  const start = performance.now()
  const curl = spawn('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '-H', `authorization: Bearer ${KEY}`, '-H', 'content-type: application/json', '-H', 'accept: application/x-ndjson', '--data-binary', `@${bodyFile}`, `${url}/v1/campaigns/bench/render`])
  let out = ''
  curl.stdout.on('data', (d) => (out += d))
  await new Promise((resolve) => curl.on('close', resolve))
  const elapsed = performance.now() - start
  if (!out.startsWith('200 ')) throw new Error(`render call failed: ${out}`)
  if (i > 0) httpRates.push((HTTP_RECIPIENTS * 1000) / elapsed)
  if (i === HTTP_RUNS) console.log(`one call: ${(Number(out.split(' ')[1]) / 2 ** 20).toFixed(0)} MB of NDJSON; server rss ${Math.round(process.memoryUsage().rss / 2 ** 20)} MB`)
}
console.log(`HTTP POST /render, ${HTTP_RECIPIENTS} recipients NDJSON, renders/s: ${httpRates.map(Math.round).join(', ')}; median ${Math.round(median(httpRates))} (target ≥ 20000)`)
// 1. Per recipient, in process.
const template = await getTemplate(deps, 'bench', created.id)
const render = createJsonRenderer(template, { publicBaseUrl: url, sign: (c, r) => deps.tokens.sign(c, r) })
let recipient = 0
let bytes = 0
const linkIds = template.links.map((l) => l.id)
// The engine alone, as bench/render.ts measures it: the baseline of the same run, so a busy
// machine shows as both figures dropping, not as a regression of the API path.
const engine = () => {
  const token = `r${recipient++}.Zx9kQ2mN4pL8`
  const out = renderCompiled(template.compiled, {
    linkUrl: (p) => `${url}/c/${linkIds[p - 1]}/${token}`,
    pixelUrl: `${url}/o/bench/${token}.gif`,
  })
  bytes += out.html.charCodeAt(out.html.length >> 1)
}
const apiPath = () => {
  bytes += Buffer.byteLength(render(`cust-${recipient++}`) + '\n')
}
function run(fn: () => void): number {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < RUN_MS) {
    for (let i = 0; i < 200; i++) fn()
    n += 200
    elapsed = performance.now() - start
  }
  return (n * 1000) / elapsed
}
run(engine)
run(apiPath)
const engineRates: number[] = []
const apiRates: number[] = []
for (let i = 0; i < RUNS; i++) {
  engineRates.push(run(engine))
  apiRates.push(run(apiPath))
}
console.log(`engine alone (renderCompiled), renders/s: ${engineRates.map(Math.round).join(', ')}; median ${Math.round(median(engineRates))}`)
console.log(`API path per recipient (HMAC token + render + JSON line + UTF-8 bytes), renders/s: ${apiRates.map(Math.round).join(', ')}; median ${Math.round(median(apiRates))} (target ≥ 20000)`)

server.closeAllConnections()
server.close()
await deps.stop()
process.exit(bytes > 0 ? 0 : 1)
