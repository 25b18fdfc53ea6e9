#!/usr/bin/env node
/**
 * Compiles src/ to plain JavaScript in dist/ (TypeScript's own emitter, tsconfig.build.json) and
 * copies the files src/ reads at run time beside the code (the classifier's range lists, the
 * dashboard's assets), so `node dist/main.js` runs with no transpiler. dist/ mirrors src/ at the
 * same depth, so paths relative to a module (../../migrations, node_modules) resolve the same.
 *
 *   node scripts/build.mjs             build
 *   node scripts/build.mjs --if-stale  build only when src/ changed since the last build (npm start)
 *
 * Plain JavaScript on purpose: it must run before anything is compiled.
 * "Stale" is a hash of the inputs' paths and bytes (not mtimes, which a checkout resets), stored
 * in dist/.build-hash. Without src/ (a production image holds dist/ only) there is nothing to do.
 */
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const src = join(root, 'src')
const dist = join(root, 'dist')
const stamp = join(dist, '.build-hash')
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json']

function files(path) {
  if (!statSync(path).isDirectory()) return [path]
  return readdirSync(path)
    .sort()
    .flatMap((name) => files(join(path, name)))
}

function inputsHash() {
  const h = createHash('sha256')
  for (const input of INPUTS) {
    for (const file of files(join(root, input))) {
      h.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0')
    }
  }
  return h.digest('hex')
}

const ifStale = process.argv.includes('--if-stale')
if (!existsSync(src)) {
  if (ifStale && existsSync(join(dist, 'main.js'))) process.exit(0)
  console.error('build: no src/ to compile')
  process.exit(1)
}
const hash = inputsHash()
if (ifStale && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) process.exit(0)

// Built aside, then swapped in: a server started meanwhile never sees half a dist/.
const tmp = `${dist}.tmp-${process.pid}`
rmSync(tmp, { recursive: true, force: true })
const started = Date.now()
let tsc
try {
  tsc = join(dirname(fileURLToPath(import.meta.resolve('typescript/package.json'))), 'bin', 'tsc')
} catch {
  console.error('build: TypeScript is not installed (it is a devDependency: run `npm install` without --omit=dev)')
  process.exit(1)
}
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', tmp], { cwd: root, stdio: 'inherit' })
} catch {
  rmSync(tmp, { recursive: true, force: true })
  console.error('build: tsc failed')
  process.exit(1)
}
// Everything that is not TypeScript is read at run time by a path relative to its module.
cpSync(src, tmp, { recursive: true, filter: (from) => statSync(from).isDirectory() || !/\.tsx?$/.test(from) })
writeFileSync(join(tmp, '.build-hash'), hash)
rmSync(dist, { recursive: true, force: true })
renameSync(tmp, dist)
console.error(`build: dist/ in ${Date.now() - started} ms`)
