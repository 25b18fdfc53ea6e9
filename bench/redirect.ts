/*
 * Click redirects: sillage's /c/:link/:token (token check, link lookup, classification,
 * journal write) against a bare node:http server answering the same 302, in the same run.
 *
 *   npm run bench:redirect                       # WORKERS=1, 3 rounds × 10 s, 50 connections
 *   ROUNDS=5 DURATION=10 CONNECTIONS=50 SILLAGE_WORKERS=2 npm run bench:redirect
 */
import { compare, log, makeFixture, runOptionsFromEnv, startBaseline, startSillage } from './lib/runner.js'

const LINKS = 10
const RECIPIENTS = Number(process.env.RECIPIENTS ?? 3000)
const linkUrl = (i: number) => `https://shop.example.com/spring-sale/product-${String(i).padStart(3, '0')}?utm_source=newsletter`

export async function benchRedirect() {
  const workers = process.env.SILLAGE_WORKERS ?? '1'
  const sillage = await startSillage({ WORKERS: workers }, process.env.CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`] : [])
  const baseline = await startBaseline(['redirect', linkUrl(0)])
  try {
    const f = await makeFixture(sillage, { campaign: 'bench-click', links: LINKS, recipients: RECIPIENTS, linkUrl })
    log(`fixture: ${LINKS} links × ${RECIPIENTS} recipients = ${f.clicks.length} distinct click URLs; sillage WORKERS=${workers}`)
    return await compare(
      'redirect',
      { name: `sillage /c (WORKERS=${workers})`, url: sillage.url, paths: f.clicks, pid: sillage.child.pid },
      { name: 'bare node:http 302', url: baseline.url, paths: f.clicks, pid: baseline.pid },
      runOptionsFromEnv(),
    )
  } finally {
    await sillage.stop()
    await baseline.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchRedirect()
