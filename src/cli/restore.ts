/**
 * npm run restore -- <dir>
 *
 * Restores a backup made by `npm run backup` into the DATA_DIR of this environment, which must
 * hold no stores yet: run it with the server stopped, on a new or emptied data directory, then
 * start the server. The secret comes back too, so tokens already sent keep verifying.
 */
import { parseConfig } from '../config.js'
import { restoreBackup } from '../services/backup.js'
import { DomainError } from '../util/errors.js'

const src = process.argv[2]
if (!src || src.startsWith('-')) {
  process.stderr.write('usage: npm run restore -- <dir>   (DATA_DIR empty, server stopped)\n')
  process.exit(2)
}
try {
  const config = parseConfig()
  const restored = await restoreBackup(config, src)
  process.stdout.write(JSON.stringify({ restored: src, dataDir: config.dataDir, ...restored }, null, 2) + '\n')
  process.exit(0)
} catch (err) {
  process.stderr.write(`restore: ${(err as Error).message}\n`)
  process.exit(err instanceof DomainError ? 2 : 1)
}
