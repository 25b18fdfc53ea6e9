/*
 * Open pixels: sillage's /o/:campaign/:token.gif (token check, campaign lookup, classification,
 * journal write) against a bare node:http server answering the same 43-byte GIF, in the same run.
 *
 *   npm run bench:pixel                          # WORKERS=1, 3 rounds × 10 s, 50 connections
 *   ROUNDS=5 SILLAGE_WORKERS=2 npm run bench:pixel
 */
import { compare, log, makeFixture, runOptionsFromEnv, startBaseline, startSillage } from './lib/runner.js'

const RECIPIENTS = Number(process.env.RECIPIENTS ?? 3000)

export async function benchPixel() {
  const workers = process.env.SILLAGE_WORKERS ?? '1'
  const sillage = await startSillage({ WORKERS: workers }, process.env.CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.CPU_PROF}`] : [])
  const baseline = await startBaseline(['pixel'])
  try {
    const f = await makeFixture(sillage, { campaign: 'bench-open', links: 1, recipients: RECIPIENTS, linkUrl: () => 'https://example.org/' })
    log(`fixture: ${RECIPIENTS} recipients' pixel URLs; sillage WORKERS=${workers}`)
    return await compare(
      'pixel',
      { name: `sillage /o (WORKERS=${workers})`, url: sillage.url, paths: f.pixels, pid: sillage.child.pid },
      { name: 'bare node:http GIF', url: baseline.url, paths: f.pixels, pid: baseline.pid },
      runOptionsFromEnv(),
    )
  } finally {
    await sillage.stop()
    await baseline.stop()
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchPixel()
