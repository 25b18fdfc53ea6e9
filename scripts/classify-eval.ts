/**
 * Scores the classifier on the labelled corpus: precision and recall per class, the rate of
 * real browsers and mail clients classed as machines (target ≤ 1 %), every named signature
 * caught, and the misclassified entries.
 *
 *   npm run classify:eval            (exit 1 when a target is missed)
 */
import { readFileSync } from 'node:fs'
import { CLASSIFIER_VERSION, classify } from '../src/tracking/classify.js'
import { type CorpusEntry, evaluate } from '../src/tracking/classify/evaluate.js'

const corpus = JSON.parse(readFileSync(new URL('../test/fixtures/classify/corpus.json', import.meta.url), 'utf8')) as CorpusEntry[]
const r = evaluate(corpus, classify)
const pct = (x: number): string => (100 * x).toFixed(2) + '%'

console.log(`classifier v${CLASSIFIER_VERSION}, ${r.total} labelled requests\n`)
console.log('class           labelled  predicted  precision  recall')
for (const [cls, s] of Object.entries(r.perClass)) {
  console.log(`${cls.padEnd(15)} ${String(s.labelled).padStart(8)}  ${String(s.predicted).padStart(9)}  ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}`)
}
console.log(`\nfalse machine (browsers + mail clients classed machine): ${r.falseMachine.count}/${r.falseMachine.of} = ${pct(r.falseMachine.rate)}  (target ≤ 1%)`)
console.log(`machines classed human: ${r.missedMachine.count}/${r.missedMachine.of} = ${pct(r.missedMachine.rate)}`)
console.log(`named signatures missed: ${r.missedSignatures.length}`)

if (r.misses.length) {
  console.log(`\nmisclassified (${r.misses.length}):`)
  for (const { entry: e, got } of r.misses) {
    const want = e.expected + (e.expectedReason ? `/${e.expectedReason}` : '') + (e.expectedProxy ? ` proxy=${e.expectedProxy}` : '')
    const have = got.class + (got.reasons.length ? `/${got.reasons.join('+')}` : '') + (got.proxy ? ` proxy=${got.proxy}` : '')
    console.log(`  ${e.kind.padEnd(5)} want ${want.padEnd(28)} got ${have.padEnd(28)} ${JSON.stringify(e.ua).slice(0, 110)}  [${e.source}]`)
  }
}
const ok = r.falseMachine.rate <= 0.01 && r.missedSignatures.length === 0
process.exitCode = ok ? 0 : 1
