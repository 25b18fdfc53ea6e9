/*
 * The shared runner of the edge benchmarks: starts sillage and a baseline as child processes,
 * warms both up, then runs N rounds alternating sillage and baseline (so drift in the machine's
 * state hits both alike) and prints the medians of req/s and p99 latency and their ratio.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { CLOCK_TICKS, processCpuTicks } from './threads.js'

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const ADMIN_KEY = 'bench-admin-key-0123456789abcdef'

export interface Target {
  name: string
  url: string
  /** Paths requested in turn by every connection. */
  paths: string[]
  /** The server's process (its children, cluster workers, are counted with it): CPU time per request is reported. */
  pid?: number
}

export interface RunOptions {
  rounds: number
  durationS: number
  warmupS: number
  connections: number
}

export interface RoundResult {
  rps: number
  /** CPU time (user + system, every thread of the server's process tree) per request, in µs; NaN without a pid. */
  cpuUs: number
  /** The part of cpuUs spent in child processes (a cluster's edge workers); 0 for a single process. */
  childCpuUs: number
  p99: number
  p50: number
  errors: number
  non2xx3xx: number
}

/** Numbers from the environment, so one command line changes a run: ROUNDS=5 DURATION=10 … */
export function runOptionsFromEnv(): RunOptions {
  const n = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d)
  return { rounds: n('ROUNDS', 3), durationS: n('DURATION', 10), warmupS: n('WARMUP', 3), connections: n('CONNECTIONS', 50) }
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
  })
}

export interface Sillage {
  url: string
  dataDir: string
  child: ChildProcess
  api<T = any>(method: string, path: string, body?: unknown): Promise<T>
  stop(): Promise<void>
}

/**
 * SERVER_CPUS=1 runs every server child (sillage, baseline) under `taskset -c 1`; start the runner
 * itself under `taskset -c 0` so the load generator and the server never share a core.
 */
export function serverCommand(args: string[]): [string, string[]] {
  const cpus = process.env.SERVER_CPUS
  return cpus ? ['taskset', ['-c', cpus, process.execPath, ...args]] : [process.execPath, args]
}

/** sillage as `node --import tsx src/main.ts` on a fresh DATA_DIR. */
export async function startSillage(env: Record<string, string> = {}, extraNodeArgs: string[] = []): Promise<Sillage> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sillage-bench-'))
  const port = await freePort()
  const child = spawn(...serverCommand([...extraNodeArgs, '--import', 'tsx', 'src/main.ts']), {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', TRACKER_ADMIN_KEY: ADMIN_KEY, WORKERS: '1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  // START_TIMEOUT_MS: a loaded machine can take longer than a minute to start the embedded engines.
  await waitFor(async () => (await fetch(url + '/healthz')).ok, Number(process.env.START_TIMEOUT_MS ?? 60_000), () => child.exitCode !== null)
  const api = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await r.text()
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`)
    return JSON.parse(text)
  }
  return {
    url,
    dataDir,
    child,
    api,
    async stop() {
      await stopChild(child)
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A baseline server script that prints its port on stdout. */
export async function startBaseline(args: string[]): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(...serverCommand(['--import', 'tsx', 'bench/lib/baseline-server.ts', ...args]), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((res, rej) => {
    let out = ''
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('\n')) res(Number(out.trim()))
    })
    child.once('exit', (code) => rej(new Error(`baseline exited with ${code}`)))
  })
  return { url: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => stopChild(child) }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((res) => child.once('exit', () => res()))
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), 20_000)
  await exited
  clearTimeout(t)
}

export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, failed: () => boolean = () => false): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (failed()) throw new Error('process exited before it was ready')
    try {
      if (await check()) return
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`not ready after ${timeoutMs} ms`)
}

/** A campaign with `links` links and `recipients` recipients' tracked URLs, made through the API. */
export async function makeFixture(s: Sillage, opts: { campaign: string; links: number; recipients: number; linkUrl: (i: number) => string }) {
  await s.api('POST', '/v1/campaigns', { id: opts.campaign, name: `bench ${opts.campaign}` })
  for (let i = 0; i < opts.links; i++) await s.api('POST', `/v1/campaigns/${opts.campaign}/links`, { url: opts.linkUrl(i) })
  const clicks: string[] = []
  const pixels: string[] = []
  const recipients: string[] = []
  for (let from = 0; from < opts.recipients; from += 5000) {
    const batch = Array.from({ length: Math.min(5000, opts.recipients - from) }, (_, i) => ({ id: `r${from + i}` }))
    const res = await s.api<{ recipients: { id: string; pixelUrl: string; links: { url: string }[] }[] }>('POST', `/v1/campaigns/${opts.campaign}/sends`, { recipients: batch })
    for (const r of res.recipients) {
      recipients.push(r.id)
      pixels.push(new URL(r.pixelUrl).pathname)
      for (const l of r.links) clicks.push(new URL(l.url).pathname)
    }
  }
  return { clicks: shuffle(clicks), pixels: shuffle(pixels), recipients }
}

function shuffle<T>(a: T[]): T[] {
  let seed = 42
  for (let i = a.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    const j = seed % (i + 1)
    ;[a[i], a[j]] = [a[j]!, a[i]!]
  }
  return a
}

/**
 * autocannon builds every request of the list for every connection: past a few thousand paths the
 * client spends its time there (minutes per round with 30 000 × 50), not sending.
 */
const MAX_PATHS = 2000

/**
 * What a reader's browser sends when a link in an e-mail opens it (Chrome 131 on Windows, a
 * navigation from webmail): the edge reads some of these, and every server parses them all.
 * HEADERS=none sends autocannon's bare request (Host only), as the figures before 2026-11-23 did.
 */
export const BROWSER_HEADERS: Record<string, string> = {
  'sec-ch-ua': '"Google Chrome";v="131", "Chromium";v="131", "Not_A Brand";v="24"',
  'sec-ch-ua-mobile': '?0',
  'sec-ch-ua-platform': '"Windows"',
  'upgrade-insecure-requests': '1',
  'user-agent': 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8',
  'sec-fetch-site': 'cross-site',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-user': '?1',
  'sec-fetch-dest': 'document',
  referer: 'https://mail.google.com/',
  'accept-encoding': 'gzip, deflate, br, zstd',
  'accept-language': 'fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7',
}
const requestHeaders = process.env.HEADERS === 'none' ? undefined : BROWSER_HEADERS

/** `rate`: requests per second over all connections (autocannon's overallRate); none: as fast as the server answers. */
export async function round(t: Target, durationS: number, connections: number, rate?: number): Promise<RoundResult> {
  const cpu0 = t.pid ? processCpuTicks(t.pid) : { own: NaN, total: NaN }
  const result = await autocannon({
    url: t.url,
    connections,
    duration: durationS,
    ...(rate ? { overallRate: rate } : {}),
    requests: t.paths.slice(0, MAX_PATHS).map((path) => ({ method: 'GET', path, headers: requestHeaders })),
  })
  const cpu1 = t.pid ? processCpuTicks(t.pid) : { own: NaN, total: NaN }
  const perReq = (ticks: number) => (ticks * (1e6 / CLOCK_TICKS)) / Math.max(1, result.requests.total)
  return {
    rps: result.requests.average,
    cpuUs: perReq(cpu1.total - cpu0.total),
    childCpuUs: perReq(cpu1.total - cpu1.own - (cpu0.total - cpu0.own)),
    p99: result.latency.p99,
    p50: result.latency.p50,
    errors: result.errors + result.timeouts,
    // autocannon counts a 302 as non-2xx: what matters is 4xx and 5xx.
    non2xx3xx: (result['4xx'] ?? 0) + (result['5xx'] ?? 0),
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export interface Comparison {
  name: string
  subject: { rps: number; p99: number; cpuUs: number; childCpuUs: number; rounds: RoundResult[] }
  baseline: { rps: number; p99: number; cpuUs: number; childCpuUs: number; rounds: RoundResult[] }
  ratio: number
  /** Baseline CPU per request over sillage's: the throughput ratio one core would allow if CPU were all that mattered. */
  cpuRatio: number
}

/** Warm-up, then `rounds` × (subject, baseline); medians and ratio printed and returned. */
export async function compare(name: string, subject: Target, baseline: Target, o: RunOptions = runOptionsFromEnv()): Promise<Comparison> {
  log(`${name}: warm-up ${o.warmupS}s each, then ${o.rounds} rounds × ${o.durationS}s, ${o.connections} connections`)
  await round(subject, o.warmupS, o.connections)
  await round(baseline, o.warmupS, o.connections)
  const a: RoundResult[] = []
  const b: RoundResult[] = []
  for (let i = 0; i < o.rounds; i++) {
    const x = await round(subject, o.durationS, o.connections)
    a.push(x)
    log(`  round ${i + 1} ${subject.name}: ${fmt(x)}`)
    const y = await round(baseline, o.durationS, o.connections)
    b.push(y)
    log(`  round ${i + 1} ${baseline.name}: ${fmt(y)}`)
  }
  const c: Comparison = {
    name,
    subject: { rps: median(a.map((r) => r.rps)), p99: median(a.map((r) => r.p99)), cpuUs: median(a.map((r) => r.cpuUs)), childCpuUs: median(a.map((r) => r.childCpuUs)), rounds: a },
    baseline: { rps: median(b.map((r) => r.rps)), p99: median(b.map((r) => r.p99)), cpuUs: median(b.map((r) => r.cpuUs)), childCpuUs: median(b.map((r) => r.childCpuUs)), rounds: b },
    ratio: 0,
    cpuRatio: 0,
  }
  c.ratio = c.subject.rps / c.baseline.rps
  c.cpuRatio = c.baseline.cpuUs / c.subject.cpuUs
  const cpu = (x: { cpuUs: number; childCpuUs: number }) =>
    (Number.isNaN(x.cpuUs) ? '' : `, ${x.cpuUs.toFixed(1)} µs CPU/req`) + (x.childCpuUs > 0 ? ` (workers ${x.childCpuUs.toFixed(1)})` : '')
  log(
    `${name}: ${subject.name} median ${Math.round(c.subject.rps)} req/s p99 ${c.subject.p99} ms${cpu(c.subject)} | ` +
      `${baseline.name} median ${Math.round(c.baseline.rps)} req/s p99 ${c.baseline.p99} ms${cpu(c.baseline)} | ratio ${c.ratio.toFixed(3)}×` +
      (Number.isNaN(c.cpuRatio) ? '' : ` | CPU ratio ${c.cpuRatio.toFixed(3)}×`),
  )
  return c
}

function fmt(r: RoundResult): string {
  return `${Math.round(r.rps)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms${Number.isNaN(r.cpuUs) ? '' : `, ${r.cpuUs.toFixed(1)} µs CPU/req`}${r.childCpuUs > 0 ? ` (workers ${r.childCpuUs.toFixed(1)}, primary ${(r.cpuUs - r.childCpuUs).toFixed(1)})` : ''}${r.errors ? `, ${r.errors} errors` : ''}${r.non2xx3xx ? `, ${r.non2xx3xx} unexpected statuses` : ''}`
}

export function log(line: string): void {
  process.stdout.write(line + '\n')
}
