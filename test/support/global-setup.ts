import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { createMetaStore } from '../../src/store/meta.js'

declare module 'vitest' {
  export interface ProvidedContext {
    metaDump: string
    metaTemplateDir: string
  }
}

/**
 * PGlite's initdb takes seconds: do it once, migrate, and let every test file start from a
 * copy of that data directory (see stores.ts).
 */
export default async function setup(project: TestProject): Promise<void> {
  const meta = await createMetaStore({ path: 'memory://' })
  await meta.migrate()
  const dir = mkdtempSync(join(tmpdir(), 'sillage-meta-'))
  const file = join(dir, 'meta.tar.gz')
  const client = (meta as unknown as { pglite?: { dumpDataDir(c: 'gzip'): Promise<Blob> } }).pglite
  if (!client) throw new Error('meta store does not expose its PGlite client')
  writeFileSync(file, Buffer.from(await (await client.dumpDataDir('gzip')).arrayBuffer()))
  await meta.close()
  project.provide('metaDump', file)
  // The same migrated database as a PGlite data directory, for the tests that start sillage as a
  // process: copied to DATA_DIR/meta, their start skips initdb (seconds, tens of them on a loaded
  // machine). The server still runs its migrations on it (none left to apply).
  const templateDir = join(dir, 'meta-template')
  const onDisk = await createMetaStore({ path: templateDir })
  await onDisk.migrate()
  await onDisk.close()
  project.provide('metaTemplateDir', templateDir)
}
