/** One http(s) URL found in the plain-text part. */
export interface FoundTextUrl {
  start: number
  end: number
  url: string
}

const URL_START = /https?:\/\//gi
const TRAILING = '.,;:!?)'

function endsUrl(c: string): boolean {
  return c === '<' || c === '>' || c === '"' || /\s/.test(c)
}

function count(s: string, c: string): number {
  let n = 0
  for (const ch of s) if (ch === c) n++
  return n
}

/**
 * Finds http(s) URLs in plain text. A URL runs to whitespace or `<>"`; trailing
 * sentence punctuation is dropped, and a closing parenthesis only when unbalanced
 * (so `(see https://x.y/a)` and `https://en.wikipedia.org/wiki/A_(b)` both work).
 * A merge tag with spaces inside (`{{ id }}`) does not end the URL.
 */
export function scanText(text: string): FoundTextUrl[] {
  const found: FoundTextUrl[] = []
  URL_START.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = URL_START.exec(text)) !== null) {
    const start = m.index
    let end = start + m[0].length
    while (end < text.length) {
      const c = text[end]!
      if (c === '{' && (text[end + 1] === '{' || text[end + 1] === '%')) {
        const close = text.indexOf(text[end + 1] === '{' ? '}}' : '%}', end + 2)
        const newline = text.indexOf('\n', end)
        if (close > 0 && (newline < 0 || close < newline)) {
          end = close + 2
          continue
        }
      }
      if (endsUrl(c)) break
      end++
    }
    while (end > start + m[0].length) {
      const last = text[end - 1]!
      if (!TRAILING.includes(last)) break
      if (last === ')') {
        const candidate = text.slice(start, end)
        if (count(candidate, '(') >= count(candidate, ')')) break
      }
      end--
    }
    URL_START.lastIndex = end
    if (end === start + m[0].length) continue
    found.push({ start, end, url: text.slice(start, end) })
  }
  return found
}
