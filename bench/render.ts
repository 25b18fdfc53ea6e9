/*
 * Per-recipient render speed of a compiled template: ~40 KB of HTML with 20
 * links, plus a text part. Each render builds the recipient's 20 click URLs and
 * pixel URL, as a sender would. Prints the median of several timed runs.
 *
 *   npx tsx bench/render.ts
 */
import { compileTemplate, renderCompiled } from '../src/rewrite/index.js'
import { buildTemplate, TEMPLATE_LINKS } from './lib/newsletter-template.js'

const RUNS = 7
const RUN_MS = 1000

const { html, text } = buildTemplate()
const compiled = compileTemplate({ html, text })
const linkIds = compiled.links.map((l) => `lnk${l.position.toString().padStart(8, '0')}`)

let recipient = 0
let sink = 0
function renderOne(): void {
  const token = `r${recipient++}.Zx9kQ2mN4pL8`
  const out = renderCompiled(compiled, {
    linkUrl: (p) => `https://t.example.com/c/${linkIds[p - 1]}/${token}`,
    pixelUrl: `https://t.example.com/o/cmp_1/${token}.gif`,
  })
  // Reading a character flattens the concatenated string, as writing it out would.
  sink += out.html.charCodeAt(out.html.length >> 1) + (out.text?.charCodeAt(0) ?? 0)
}

function run(): number {
  let n = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < RUN_MS) {
    for (let i = 0; i < 500; i++) renderOne()
    n += 500
    elapsed = performance.now() - start
  }
  return (n * 1000) / elapsed
}

run() // warm-up
const rates = Array.from({ length: RUNS }, run).sort((a, b) => a - b)
const median = rates[Math.floor(RUNS / 2)]!
console.log(`template: ${(html.length / 1024).toFixed(1)} KB html, ${compiled.links.length} links (${TEMPLATE_LINKS} html + ${compiled.links.length - TEMPLATE_LINKS} text), ${compiled.html.length} html fragments`)
console.log(`runs (renders/s): ${rates.map((r) => Math.round(r)).join(', ')}`)
console.log(`median: ${Math.round(median)} renders/s on one core (target ≥ 20000)`)
if (sink === 0) console.log('')
