/*
 * Start-up time and memory of the server, the way it was started (`tsx src/main.ts`, the former
 * `npm start`: tsx's CLI process and the node child it runs the TypeScript in, through esbuild)
 * against the way it is started now (`node dist/main.js`, compiled by `npm run build`).
 *
 *   npm run build && npx tsx bench/startup.ts       ROUNDS=5 (alternating), WORKERS=1
 *
 * Each start is on the same data directory, initialised once before (PGlite's first initdb takes
 * seconds and is the same for both). Measured: spawn → first 200 from /healthz (stores open and
 * migrated, the port listening), and the resident memory (VmRSS) of the whole process tree once
 * ready, then once more after 200 API requests. CPU time of the tree up to ready is printed too:
 * it moves less than wall time with the machine's other tenants.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ADMIN_KEY, ROOT } from './lib/runner.js'
import { CLOCK_TICKS } from './lib/threads.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const dataDir = mkdtempSync(join(tmpdir(), 'sillage-startup-'))

interface Way {
  name: string
  argv: string[]
}
const WAYS: Way[] = [
  { name: 'tsx src/main.ts', argv: [join(ROOT, 'node_modules/.bin/tsx'), 'src/main.ts'] },
  { name: 'node dist/main.js', argv: [process.execPath, 'dist/main.js'] },
]

if (!existsSync(join(ROOT, 'dist/main.js'))) {
  console.error('run `npm run build` first')
  process.exit(2)
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
  })
}

/** Every process of the tree under pid (the tsx wrapper's node child included). */
function tree(pid: number): number[] {
  const out = [pid]
  for (let i = 0; i < out.length; i++) {
    const p = out[i]!
    try {
      for (const tid of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim()
        if (kids) out.push(...kids.split(' ').map(Number))
      }
    } catch {
      /* ended */
    }
  }
  return out
}

function rssMb(pid: number): number {
  let kb = 0
  for (const p of tree(pid)) {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
    kb += Number(m?.[1] ?? 0)
  }
  return kb / 1024
}

function cpuMs(pid: number): number {
  let ticks = 0
  for (const p of tree(pid)) {
    const st = readFileSync(`/proc/${p}/stat`, 'utf8')
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
    ticks += Number(f[11]) + Number(f[12])
  }
  return (ticks * 1000) / CLOCK_TICKS
}

async function once(way: Way) {
  const port = await freePort()
  const t0 = performance.now()
  const proc = spawn(way.argv[0]!, way.argv.slice(1), {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', TRACKER_ADMIN_KEY: ADMIN_KEY, WORKERS: process.env.WORKERS ?? '1', LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  })
  const url = `http://127.0.0.1:${port}`
  while (!(await fetch(url + '/healthz').then((r) => r.ok, () => false))) await new Promise((r) => setTimeout(r, 10))
  const readyMs = performance.now() - t0
  const cpu = cpuMs(proc.pid!)
  const rssReady = rssMb(proc.pid!)
  for (let i = 0; i < 200; i++) await fetch(url + '/v1/campaigns', { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => r.arrayBuffer())
  const rssServing = rssMb(proc.pid!)
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill('SIGTERM')
  await exited
  return { readyMs, cpu, rssReady, rssServing }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

// The first start initialises the data directory (PGlite's initdb, the ClickHouse migrations): not measured.
await once(WAYS[1]!)
const results = new Map<string, Array<Awaited<ReturnType<typeof once>>>>(WAYS.map((w) => [w.name, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const way of WAYS) {
    const x = await once(way)
    results.get(way.name)!.push(x)
    console.log(`round ${r + 1} ${way.name.padEnd(18)} ready ${x.readyMs.toFixed(0).padStart(6)} ms  cpu ${x.cpu.toFixed(0).padStart(6)} ms  rss ready ${x.rssReady.toFixed(0)} MB, after 200 requests ${x.rssServing.toFixed(0)} MB`)
  }
}
console.log(`\nmedians of ${ROUNDS} rounds (${process.version}, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')})`)
for (const way of WAYS) {
  const xs = results.get(way.name)!
  console.log(
    `${way.name.padEnd(18)} ready ${median(xs.map((x) => x.readyMs)).toFixed(0)} ms, cpu ${median(xs.map((x) => x.cpu)).toFixed(0)} ms, rss ready ${median(xs.map((x) => x.rssReady)).toFixed(0)} MB, after 200 requests ${median(xs.map((x) => x.rssServing)).toFixed(0)} MB`,
  )
}
rmSync(dataDir, { recursive: true, force: true })
