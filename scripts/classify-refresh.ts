/**
 * Downloads the current IP lists behind the classifier's `apple_mpp` and `scanner_ip` rules
 * and rewrites the committed data files under src/tracking/classify/data/. The server never
 * downloads anything: it reads these files at start. Commit the result.
 *
 *   npm run classify:refresh
 *
 * Nothing is written unless every download succeeds and parses; on failure it exits 1 and
 * says which source failed. scanners.txt (Barracuda, Mimecast, Proofpoint) is hand-kept.
 */
import { randomUUID } from 'node:crypto'
import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import { IpRangeSet } from '../src/tracking/classify/ip.js'
import { DATA_DIR, parseCidrList } from '../src/tracking/classify/ranges.js'

const APPLE_URL = 'https://mask-api.icloud.com/egress-ip-ranges.csv'
const MICROSOFT_URL = `https://endpoints.office.com/endpoints/worldwide?clientrequestid=${randomUUID()}`
const TIMEOUT_MS = 60_000

async function download(url: string): Promise<string> {
  let res: Response
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause
    throw new Error(`cannot reach ${url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`)
  }
  if (!res.ok) throw new Error(`${url} answered HTTP ${res.status}`)
  return res.text()
}

/** Apple's CSV: `prefix,country,region,city,` per line; the prefix is all we keep. */
function appleCidrs(csv: string): string[] {
  const out: string[] = []
  for (const line of csv.split('\n')) {
    const cidr = line.slice(0, line.indexOf(',') >>> 0).trim()
    if (cidr) out.push(cidr)
  }
  if (out.length < 1000) throw new Error(`${APPLE_URL}: expected a long CSV of prefixes, got ${out.length} lines`)
  return out
}

interface O365Endpoint { serviceArea?: string; tcpPorts?: string; ips?: string[] }

/** Exchange Online entries on TCP 25: the mail-flow (EOP / Defender) ranges. */
function microsoftCidrs(json: string): string[] {
  const rows = JSON.parse(json) as O365Endpoint[]
  const set = new Set<string>()
  for (const r of rows) {
    if (r.serviceArea !== 'Exchange' || !r.ips) continue
    if (!(r.tcpPorts ?? '').split(',').map((p) => p.trim()).includes('25')) continue
    for (const ip of r.ips) set.add(ip)
  }
  if (set.size === 0) throw new Error(`${MICROSOFT_URL}: no Exchange ranges on TCP 25 in the answer`)
  return [...set]
}

/** Keeps a file's header comments and hand-kept lines above `marker`, replaces the rest. */
function rewrite(file: string, marker: string, cidrs: string[], note: string): void {
  IpRangeSet.fromCidrs(cidrs) // throws on a malformed entry before anything is written
  const path = DATA_DIR + file
  const old = readFileSync(path, 'utf8')
  const at = old.indexOf(marker)
  const head = at < 0 ? old.trimEnd() + '\n\n' : old.slice(0, at)
  const body = `${marker} — ${note}\n${cidrs.join('\n')}\n`
  writeFileSync(path + '.tmp', head + body)
  renameSync(path + '.tmp', path)
  console.log(`${file}: ${cidrs.length} ranges (${parseCidrList(head + body).length} with the kept lines)`)
}

async function main(): Promise<void> {
  const results = await Promise.allSettled([download(APPLE_URL), download(MICROSOFT_URL)])
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).message] : []))
  if (failed.length) {
    console.error('classify:refresh failed; the committed lists are unchanged.')
    for (const m of failed) console.error('  ' + m)
    process.exit(1)
  }
  const [apple, microsoft] = results.map((r) => (r as PromiseFulfilledResult<string>).value) as [string, string]
  const appleList = appleCidrs(apple)
  const msList = microsoftCidrs(microsoft)
  const stamp = new Date().toISOString().slice(0, 10)
  rewrite('apple-mpp.txt', '# egress (mask-api.icloud.com)', appleList, `refreshed ${stamp}`)
  rewrite('scanners-microsoft.txt', '# ranges (endpoints.office.com)', msList, `refreshed ${stamp}`)
}

main().catch((err: unknown) => {
  console.error(`classify:refresh failed; the committed lists may be unchanged: ${(err as Error).message}`)
  process.exit(1)
})
