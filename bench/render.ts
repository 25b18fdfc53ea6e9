/*
 * Per-recipient render speed of a compiled template: ~40 KB of HTML with 20
 * links, plus a text part. Each render builds the recipient's 20 click URLs and
 * pixel URL, as a sender would. Prints the median of several timed runs.
 *
 *   npx tsx bench/render.ts
 */
import { compileTemplate, renderCompiled } from '../src/rewrite/index.js'

const LINKS = 20
const RUNS = 7
const RUN_MS = 1000

function buildTemplate(): { html: string; text: string } {
  const para =
    '<p style="font-size:16px;line-height:1.6;color:#51545E;margin:.4em 0 1.2em">Lorem ipsum dolor sit amet, ' +
    'consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ' +
    'Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.</p>\n'
  let body = ''
  let text = ''
  for (let i = 1; i <= LINKS; i++) {
    body += para + para + para + para + para + para
    body += `<table role="presentation"><tr><td><a href="https://shop.example.com/p/${i}?utm_source=news&amp;utm_medium=email" style="color:#3869D4" target="_blank">Product ${i}</a></td></tr></table>\n`
    if (i % 4 === 0) text += `Product ${i}: https://shop.example.com/p/${i}?utm_source=news\n`
  }
  const html =
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Newsletter</title>' +
    '<!--[if mso]><style>td{font-family:Arial}</style><![endif]--></head>\n' +
    `<body style="margin:0">\n${body}</body></html>\n`
  return { html, text }
}

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
console.log(`template: ${(html.length / 1024).toFixed(1)} KB html, ${compiled.links.length} links (${LINKS} html + ${compiled.links.length - LINKS} text), ${compiled.html.length} html fragments`)
console.log(`runs (renders/s): ${rates.map((r) => Math.round(r)).join(', ')}`)
console.log(`median: ${Math.round(median)} renders/s on one core (target ≥ 20000)`)
if (sink === 0) console.log('')
