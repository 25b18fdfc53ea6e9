import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { IpRangeSet } from './ip.js'

/** The committed range lists, read from disk once at start (never from the network). */
export const DATA_DIR = fileURLToPath(new URL('./data/', import.meta.url))

/** Which data files feed which set; `npm run classify:refresh` rewrites the refreshable ones. */
export const RANGE_FILES = {
  appleMpp: ['apple-mpp.txt'],
  scanner: ['scanners.txt', 'scanners-microsoft.txt'],
} as const

export interface IpRanges {
  /** Apple's MPP / Private Relay egress: opens from here are machine opens. */
  appleMpp: IpRangeSet
  /** Security gateways and link scanners. */
  scanner: IpRangeSet
}

/** CIDRs of a list file: one per line, '#' starts a comment. */
export function parseCidrList(text: string): string[] {
  const out: string[] = []
  for (const line of text.split('\n')) {
    const hash = line.indexOf('#')
    const cidr = (hash < 0 ? line : line.slice(0, hash)).trim()
    if (cidr) out.push(cidr)
  }
  return out
}

function loadSet(dir: string, files: readonly string[]): IpRangeSet {
  const cidrs: string[] = []
  for (const f of files) {
    const path = dir + f
    try {
      cidrs.push(...parseCidrList(readFileSync(path, 'utf8')))
    } catch (err) {
      throw new Error(`classify: cannot load IP ranges from ${path}: ${(err as Error).message}`)
    }
  }
  return IpRangeSet.fromCidrs(cidrs)
}

export function loadIpRanges(dir: string = DATA_DIR): IpRanges {
  const d = dir.endsWith('/') ? dir : dir + '/'
  return { appleMpp: loadSet(d, RANGE_FILES.appleMpp), scanner: loadSet(d, RANGE_FILES.scanner) }
}
