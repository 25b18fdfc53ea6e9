import type { TrafficClass } from '../../events/event.js'
import type { Classification, RequestSignals } from '../classify.js'

/** One labelled request of test/fixtures/classify/corpus.json. */
export interface CorpusEntry {
  ua: string
  method?: string
  referer?: string
  ip?: string
  prefetch?: string
  kind: RequestSignals['kind']
  expected: TrafficClass
  expectedReason?: string
  expectedProxy?: string
  /** Named machine signature (or proxy) that must be caught. */
  signature?: string
  /** For human entries: 'browser' or 'mail_client'. */
  group?: string
  source: string
}

export interface ClassScore {
  precision: number
  recall: number
  /** Entries labelled with the class, entries predicted as it, and both. */
  labelled: number
  predicted: number
  correct: number
}

export interface Miss {
  entry: CorpusEntry
  got: Classification
}

export interface Evaluation {
  total: number
  perClass: Record<TrafficClass, ClassScore>
  /** Human browser and mail-client entries classed as anything but human. */
  falseMachine: { count: number; of: number; rate: number }
  /** Machine entries classed as human. */
  missedMachine: { count: number; of: number; rate: number }
  /** Named signatures whose entry got the wrong class, reason or proxy. */
  missedSignatures: Miss[]
  /** Entries whose class, reason or proxy differ from the label. */
  misses: Miss[]
}

const CLASSES: TrafficClass[] = ['human', 'machine_open', 'scanner_click', 'crawler']

export function toSignals(e: CorpusEntry): RequestSignals {
  return { kind: e.kind, method: e.method ?? 'GET', userAgent: e.ua, referer: e.referer ?? '', ip: e.ip ?? '', prefetch: e.prefetch ?? '' }
}

function matches(e: CorpusEntry, got: Classification): boolean {
  if (got.class !== e.expected) return false
  if (e.expectedReason !== undefined && !got.reasons.includes(e.expectedReason)) return false
  if (e.expectedProxy !== undefined && got.proxy !== e.expectedProxy) return false
  return true
}

export function evaluate(entries: readonly CorpusEntry[], classify: (s: RequestSignals) => Classification): Evaluation {
  const perClass = Object.fromEntries(CLASSES.map((c) => [c, { precision: 0, recall: 0, labelled: 0, predicted: 0, correct: 0 }])) as Record<TrafficClass, ClassScore>
  const misses: Miss[] = []
  const missedSignatures: Miss[] = []
  let humans = 0
  let falseMachine = 0
  let machines = 0
  let missedMachine = 0
  for (const entry of entries) {
    const got = classify(toSignals(entry))
    perClass[entry.expected].labelled++
    perClass[got.class].predicted++
    if (got.class === entry.expected) perClass[got.class].correct++
    if (entry.expected === 'human') {
      if (entry.group === 'browser' || entry.group === 'mail_client') {
        humans++
        if (got.class !== 'human') falseMachine++
      }
    } else {
      machines++
      if (got.class === 'human') missedMachine++
    }
    if (!matches(entry, got)) {
      misses.push({ entry, got })
      if (entry.signature !== undefined) missedSignatures.push({ entry, got })
    }
  }
  for (const c of CLASSES) {
    const s = perClass[c]
    s.precision = s.predicted ? s.correct / s.predicted : 1
    s.recall = s.labelled ? s.correct / s.labelled : 1
  }
  return {
    total: entries.length,
    perClass,
    falseMachine: { count: falseMachine, of: humans, rate: humans ? falseMachine / humans : 0 },
    missedMachine: { count: missedMachine, of: machines, rate: machines ? missedMachine / machines : 0 },
    missedSignatures,
    misses,
  }
}
