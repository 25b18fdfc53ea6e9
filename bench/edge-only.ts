/*
 * The edge alone (bench/lib/edge-server.ts: real edge, journal and token check; no Hono, no
 * stores, no writer) against the bare node:http 302, in the same run: the ceiling of the hot
 * path's own code, which the full server approaches as ingestion moves off its core.
 *
 *   npx tsx bench/edge-only.ts                   # 3 rounds × 10 s, 50 connections
 *   SERVER_CPUS=1 taskset -c 0 npx tsx bench/edge-only.ts
 *   EDGE_PATHS=pixel npx tsx bench/edge-only.ts   # the open pixel against the bare GIF
 */
import { spawn } from 'node:child_process'
import { compare, log, ROOT, runOptionsFromEnv, serverCommand, startBaseline, stopChild } from './lib/runner.js'

const prefix = 'https://shop.example.com/spring-sale/product-'
const child = spawn(...serverCommand(['--import', 'tsx', 'bench/lib/edge-server.ts', 'bench-edge', '10', prefix]), { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
const lines = await new Promise<string[]>((res, rej) => {
  let out = ''
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString()
    if (out.endsWith('end\n')) res(out.trim().split('\n').slice(0, -1))
  })
  child.once('exit', (code) => rej(new Error(`edge server exited with ${code}`)))
})
const url = `http://127.0.0.1:${lines[0]}`
const paths = lines.slice(1)
const pixel = process.env.EDGE_PATHS === 'pixel'
const baseline = await startBaseline(pixel ? ['pixel'] : ['redirect', prefix + '0'])
try {
  log(`edge-only: ${paths.length} ${pixel ? 'pixel' : 'click'} paths`)
  const [what, subject, bare] = pixel ? ['pixel', 'edge only /o', 'bare node:http GIF'] : ['redirect', 'edge only /c', 'bare node:http 302']
  await compare(`edge-only ${what}`, { name: subject, url, paths, pid: child.pid }, { name: bare, url: baseline.url, paths, pid: baseline.pid }, runOptionsFromEnv())
} finally {
  await stopChild(child)
  await baseline.stop()
}
