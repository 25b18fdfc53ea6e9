import { execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = resolve(import.meta.dirname, '../..')

describe('sillage/sdk in a sender process', () => {
  it('loads neither the ClickHouse client nor the embedded engine', () => {
    // A separate process: this one has chDB loaded already. /proc/self/maps lists mapped native libraries.
    const out = execFileSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', "await import('./src/sdk/index.ts'); const fs = await import('node:fs'); console.log(JSON.stringify({ chdb: /chdb/i.test(fs.readFileSync('/proc/self/maps', 'utf8')) }))"],
      { cwd: ROOT, encoding: 'utf8' },
    )
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({ chdb: false })
  })
})
