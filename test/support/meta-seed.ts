import { cpSync, existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { inject } from 'vitest'

/**
 * Seeds DATA_DIR/meta of a sillage process a test is about to start with the migrated PGlite the
 * global setup prepared (PGlite's initdb costs seconds per start, tens of them on a loaded
 * machine), unless the directory exists already (a restart, a restore). The server still runs its
 * migrations on it; the first start on an empty volume stays covered by image-start.test.ts.
 */
export function seedMetaDir(dataDir: string): void {
  const target = join(dataDir, 'meta')
  if (existsSync(target)) return
  mkdirSync(dataDir, { recursive: true })
  cpSync(inject('metaTemplateDir'), target, { recursive: true })
}
