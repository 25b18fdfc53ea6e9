import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { clickFixture, startChild, type Child } from './child.js'

/*
 * INGEST_NICE: in the process that owns ClickHouse, every thread but the event loop runs at a
 * lower CPU priority, so a burst that saturates the machine slows ingestion, not clicks. Read
 * off /proc for real server processes (Linux, as in CI).
 */
const dirs: string[] = []
const children: Child[] = []
afterAll(async () => {
  for (const c of children) {
    c.proc.kill('SIGKILL')
    await c.exited
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

/** Thread name → the nice values of that name's threads; the main thread is "main". */
function niceByThread(pid: number): Map<string, number[]> {
  const m = new Map<string, number[]>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let st: string
    try {
      st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
    } catch {
      continue
    }
    const name = tid === String(pid) ? 'main' : st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/\d+$/, '')
    // Field 19 of stat is nice; fields are counted from the state, the third.
    const nice = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[16])
    m.set(name, [...(m.get(name) ?? []), nice])
  }
  return m
}

async function started(env: Record<string, string>): Promise<Child> {
  const dir = mkdtempSync(join(tmpdir(), 'sillage-nice-'))
  dirs.push(dir)
  const c = await startChild(dir, env)
  children.push(c)
  // Clicks make ClickHouse insert, so its pools have their threads; then one pass of renicing.
  for (const t of await clickFixture(c, 'nice', 20)) await fetch(c.url + t.path, { redirect: 'manual' })
  await new Promise((r) => setTimeout(r, 1500))
  return c
}

describe.runIf(process.platform === 'linux')('INGEST_NICE', () => {
  it('single process: the event loop keeps its priority, ClickHouse and the pools run at INGEST_NICE', async () => {
    const c = await started({ WORKERS: '1', INGEST_NICE: '12' })
    const threads = niceByThread(c.proc.pid!)
    expect(threads.get('main')).toEqual([0])
    // libuv's pool is named by libuv ≥ 1.50 (Node 24 and later: libuv-worker); before, every thread
    // Node starts is "node". The main thread's own name differs too (node, MainThread, node-MainThread),
    // hence "main" by thread id above.
    const pool = ['libuv-worker', 'node'].find((n) => threads.has(n)) ?? 'libuv-worker'
    for (const name of ['ThreadPool', 'MergeMutate', pool]) {
      expect(threads.get(name)?.length, name).toBeGreaterThan(0)
      expect(new Set(threads.get(name)), name).toEqual(new Set([12]))
    }
  }, 180_000)

  it('cluster: the primary ingests at lower priority, its edge workers are untouched', async () => {
    const c = await started({ WORKERS: '2', INGEST_NICE: '12' })
    const primary = niceByThread(c.proc.pid!)
    expect(primary.get('main')).toEqual([0])
    expect(new Set(primary.get('ThreadPool'))).toEqual(new Set([12]))
    const workers = readFileSync(`/proc/${c.proc.pid}/task/${c.proc.pid}/children`, 'utf8').trim().split(' ').map(Number)
    expect(workers).toHaveLength(2)
    for (const w of workers) for (const nices of niceByThread(w).values()) expect(new Set(nices)).toEqual(new Set([0]))
  }, 180_000)
})
