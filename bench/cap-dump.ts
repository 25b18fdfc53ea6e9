/**
 * The cap check's answers on the bench data, to compare before and after a change (md5 of OUT), and
 * its CPU alone in one process (PROFILE_RUNS: the all-held check repeated, for `node --cpu-prof`).
 *
 *   OUT=/tmp/cap.json DATA_DIR=/work/benchdata/p9b-cap npx tsx bench/cap-dump.ts
 *   PROFILE_RUNS=20 DATA_DIR=… node --cpu-prof --import tsx bench/cap-dump.ts
 */
import { writeFileSync } from 'node:fs'
import { capsReached, type CapSpec } from '../src/metrics/pressure.js'
import { applyPressure, campaignCategories } from '../src/services/pressure.js'
import { startBenchServer } from './lib/bench-server.js'

const END = Date.parse('2026-11-30T00:00:00Z')
const DAY = 86_400_000
const bench = await startBenchServer('cap-dump')
const { deps } = bench
const ids = (n: number, step: number, off = 0) => Array.from({ length: n }, (_, i) => ({ id: `r${(i * step + off) % 1_000_000}` }))
const tenThousand = ids(10_000, 97)

const profileRuns = Number(process.env.PROFILE_RUNS ?? 0)
if (profileRuns) {
  const cpu: number[] = []
  for (let i = 0; i < profileRuns; i++) {
    const u = process.cpuUsage()
    await applyPressure(deps, 'p-new', tenThousand, { mode: 'skip', at: process.env.AT_DAY_EARLIER ? END - DAY : END })
    const s = process.cpuUsage(u)
    cpu.push((s.user + s.system) / 1000)
  }
  console.log('cpu ms', cpu.map((c) => c.toFixed(0)).join(' '), 'median', [...cpu].sort((a, b) => a - b)[cpu.length >> 1]!.toFixed(0))
} else {
  const out: Record<string, unknown> = {}
  const sets: Array<[string, string, number, Array<{ id: string }>]> = [
    ['p-new END 10k', 'p-new', END, tenThousand],
    ['p-new END-1d 10k', 'p-new', END - DAY, tenThousand],
    ['p-new END-3d other 10k', 'p-new', END - 3 * DAY, ids(10_000, 131, 7)],
    ['p-30 END-40d 10k', 'p-30', END - 40 * DAY, tenThousand],
    ['p-70 END 10k', 'p-70', END, tenThousand],
    ['p-new END+2d 2k dup', 'p-new', END + 2 * DAY, [...ids(1_000, 97), ...ids(1_000, 97), { id: 'nobody' }]],
  ]
  for (const [name, c, at, rs] of sets) {
    const r = await applyPressure(deps, c, rs, { mode: 'skip', at })
    out[name] = { kept: r.kept.map((k) => k.id), report: r.report }
    console.log(name, r.report.count, 'held')
  }
  const categories = await campaignCategories(deps)
  const specs: Array<[string, CapSpec[], number, string]> = [
    ['5 in 30d', [{ max: 5, windowDays: 30, category: null }], END, 'p-new'],
    ['2 newsletters in 14d', [{ max: 2, windowDays: 14, category: 'newsletter' }], END - 10 * DAY, 'p-61'],
    ['1 promo in 90d + 20 in 60d', [{ max: 1, windowDays: 90, category: 'promotion' }, { max: 20, windowDays: 60, category: null }], END, 'p-59'],
  ]
  for (const [name, caps, at, ex] of specs) {
    const m = await capsReached(deps.events, tenThousand.map((r) => r.id), { at, caps, categories, excludeCampaign: ex })
    // Per recipient, sorted: the binding cap, its count and the date free again (since 2026-12-06; a dump
    // of an earlier tree listed every cap reached, so compare those three sets with such a dump by hand).
    const each = m.ids.map((id, j) => [id, m.cap[j], m.sends[j], m.eligibleAt[j]] as const)
    out[name] = each.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    console.log(name, each.length, 'at a cap')
  }
  if (process.env.OUT) writeFileSync(process.env.OUT, JSON.stringify(out))
}
await bench.stop()
