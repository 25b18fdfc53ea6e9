import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * The floors of src/ (README.md, "Which folder may import which"): a file imports from its own
 * room, from a lower floor, or from a room of the same floor where rooms share one (floors 0 to 2);
 * never from a higher floor, and api and dashboard (floor 3) never from each other.
 */
const FLOOR: Record<string, number> = {
  // entry: the processes and the composition root
  'main.ts': 4,
  'server.ts': 4,
  'app.ts': 4,
  'runtime.ts': 4,
  cluster: 4,
  cli: 4,
  // the two faces: HTTP API and dashboard
  api: 3,
  dashboard: 3,
  // the domain: what the faces ask
  services: 2,
  metrics: 2,
  classification: 2,
  conversions: 2,
  // webhooks, the event stream and triggers: fed by the write path, reads metrics' audiences
  outbox: 2,
  // the parts: the edge and what it writes, stores, templates, the sender's SDK, process metrics
  tracking: 1,
  events: 1,
  store: 1,
  rewrite: 1,
  sdk: 1,
  observability: 1,
  // leaves anyone may import
  util: 0,
  'config.ts': 0,
  'logger.ts': 0,
  'deps.ts': 0,
}
/** Rooms of these floors may import each other's modules; floor 3's (api, dashboard) may not. */
const SHARED_FLOORS = new Set([0, 1, 2, 4])
/** Importable by anyone, but as types only (`import type`): the container's type, not its construction. */
const TYPE_ONLY = new Set(['deps.ts'])
/** Named exceptions, each type-only: the dashboard is mounted on the app and reads its Hono environment. */
const ALLOWED_TYPE_IMPORTS = new Set(['dashboard -> api/context.ts'])

const src = resolve(dirname(fileURLToPath(import.meta.url)), '../../src')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(p)
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [p] : []
  })
}

interface Import {
  spec: string
  typeOnly: boolean
}

const DECLARATION = /^[ \t]*(?:import|export)[ \t]+(type[ \t]+)?(\{[^}]*\}|\*(?:\s+as\s+\w+)?|\w+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+\w+))?)\s+from\s+['"]([^'"]+)['"]/gm
const SIDE_EFFECT = /^[ \t]*import[ \t]+['"]([^'"]+)['"]/gm
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g

/**
 * Static imports and re-exports (`import … from`, `import type`, `export … from`, `import './x'`)
 * and `import()` with a literal path. Type-only: `import type`, or named bindings that are all `type X`.
 */
function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8')
  const out: Import[] = []
  for (const m of text.matchAll(DECLARATION)) {
    const clause = m[2]!
    const names = clause.startsWith('{') ? clause.slice(1, -1).split(',').map((n) => n.trim()).filter(Boolean) : []
    out.push({ spec: m[3]!, typeOnly: !!m[1] || (names.length > 0 && names.every((n) => n.startsWith('type '))) })
  }
  for (const m of text.matchAll(SIDE_EFFECT)) out.push({ spec: m[1]!, typeOnly: false })
  for (const m of text.matchAll(DYNAMIC)) out.push({ spec: m[1]!, typeOnly: false })
  return out
}

/** `services/campaigns.ts` → `services`; `app.ts` → `app.ts`. */
const roomOf = (srcPath: string) => srcPath.split('/')[0]!

/** What an import breaks, or null when the floors allow it. */
function violation(from: string, to: string, typeOnly: boolean): string | null {
  const a = roomOf(from)
  const b = roomOf(to)
  if (a === b) return null
  const fa = FLOOR[a]
  const fb = FLOOR[b]
  if (fa === undefined || fb === undefined) return `${fa === undefined ? a : b} has no floor in test/unit/layers.test.ts (place it)`
  if (TYPE_ONLY.has(b)) return typeOnly ? null : `${b} may only be imported with \`import type\``
  // The container's type names the parts it holds (floor 1), as types: importing it pulls in no code.
  if (TYPE_ONLY.has(a)) return typeOnly && fb <= 1 ? null : `${a} may import floors 0 and 1 only, with \`import type\``
  if (ALLOWED_TYPE_IMPORTS.has(`${a} -> ${to}`)) return typeOnly ? null : `${a} may import ${to} with \`import type\` only`
  if (fb < fa) return null
  if (fb === fa && SHARED_FLOORS.has(fa)) return null
  return `${a} (floor ${fa}) may not import ${b} (floor ${fb})`
}

function layerViolations(): string[] {
  const found: string[] = []
  for (const file of sourceFiles(src)) {
    const from = relative(src, file).split('\\').join('/')
    for (const imp of importsOf(file)) {
      if (!imp.spec.startsWith('.')) continue
      const to = relative(src, resolve(dirname(file), imp.spec)).split('\\').join('/').replace(/\.js$/, '.ts')
      if (to.startsWith('..')) {
        found.push(`${from}: imports '${imp.spec}', outside src/`)
        continue
      }
      const why = violation(from, to, imp.typeOnly)
      if (why) found.push(`${from}: imports '${imp.spec}': ${why}`)
    }
  }
  return found
}

describe('layers', () => {
  it('every file and folder at the top of src/ has a floor', () => {
    const rooms = readdirSync(src).filter((n) => !n.endsWith('.d.ts'))
    expect(rooms.filter((r) => FLOOR[r] === undefined)).toEqual([])
  })

  it('no module imports a higher floor, and api and dashboard do not import each other', () => {
    expect(layerViolations()).toEqual([])
  })

  it('finds a wrong import: the rules are not vacuous', () => {
    expect(violation('services/x.ts', 'api/errors.ts', false)).toMatch(/services \(floor 2\) may not import api \(floor 3\)/)
    expect(violation('dashboard/index.tsx', 'api/auth.ts', false)).toMatch(/dashboard \(floor 3\) may not import api \(floor 3\)/)
    expect(violation('tracking/edge.ts', 'conversions/ingest.ts', true)).toMatch(/tracking \(floor 1\) may not import conversions/)
    expect(violation('metrics/timeline.ts', 'deps.ts', false)).toMatch(/import type/)
    expect(violation('metrics/timeline.ts', 'deps.ts', true)).toBeNull()
    expect(violation('metrics/query.ts', 'services/campaigns.ts', false)).toBeNull()
    expect(violation('deps.ts', 'store/meta.ts', true)).toBeNull()
    expect(violation('deps.ts', 'services/campaigns.ts', true)).toMatch(/floors 0 and 1 only/)
    expect(violation('dashboard/index.tsx', 'api/context.ts', true)).toBeNull()
    expect(violation('dashboard/index.tsx', 'api/context.ts', false)).toMatch(/import type/)
  })
})
