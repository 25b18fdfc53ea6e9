/**
 * Cost of classify() on the hot path, over the labelled corpus (mixed humans, proxies,
 * scanners, crawlers; a third of the requests carry a public IPv4, a sixth an IPv6).
 *
 *   npx tsx scripts/classify-bench.ts
 *
 * "warm" is the steady state (UA part cached); "cold" gives every call a new UA string,
 * so each one pays the UA rules, isbot and an LRU eviction.
 */
import { readFileSync } from 'node:fs'
import { classify, clearClassifierCache, type RequestSignals } from '../src/tracking/classify.js'
import { type CorpusEntry, toSignals } from '../src/tracking/classify/evaluate.js'

const corpus = JSON.parse(readFileSync(new URL('../test/fixtures/classify/corpus.json', import.meta.url), 'utf8')) as CorpusEntry[]
const requests: RequestSignals[] = corpus.map((e, i) => {
  const s = toSignals(e)
  if (!s.ip) s.ip = i % 3 === 0 ? `203.0.${i % 256}.${(i * 7) % 256}` : i % 6 === 1 ? `2001:db8:${i.toString(16)}::${(i * 3).toString(16)}` : ''
  return s
})

function run(label: string, reqs: RequestSignals[], rounds: number): void {
  let sink = 0
  for (let i = 0; i < reqs.length * 2; i++) sink += classify(reqs[i % reqs.length]!).reasons.length
  const n = reqs.length * rounds
  const t0 = process.hrtime.bigint()
  for (let r = 0; r < rounds; r++) for (const s of reqs) sink += classify(s).reasons.length
  const ns = Number(process.hrtime.bigint() - t0) / n
  console.log(`${label.padEnd(6)} ${ns.toFixed(0).padStart(6)} ns/call over ${n} calls (${reqs.length} distinct requests) [${sink % 10}]`)
}

run('warm', requests, 200)
clearClassifierCache()
const cold = Array.from({ length: 20_000 }, (_, i) => {
  const s = requests[i % requests.length]!
  return { ...s, userAgent: s.userAgent + ' r' + i }
})
run('cold', cold, 1)
