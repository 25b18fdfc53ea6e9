/*
 * CPU time from Linux /proc: per process tree (the runner's CPU per request) and per thread
 * name (what the event loop, libuv's pool and chDB's own threads — merges, query pipelines —
 * each cost). Thread names lose their trailing numbers, so a pool's threads add up under one name.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** Linux's USER_HZ: /proc reports CPU times in these ticks. */
export const CLOCK_TICKS = 100

export function threadTicks(pid: number | 'self'): Map<string, number> {
  const m = new Map<string, number>()
  const main = String(pid === 'self' ? process.pid : pid)
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')
      // The main thread (the event loop) apart from the others of its name (libuv's pool is also "node" on Node 20).
      const name = tid === main ? 'event loop' : st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')).replace(/\d+$/, '')
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ')
      m.set(name, (m.get(name) ?? 0) + Number(f[11]) + Number(f[12]))
    } catch {
      /* the thread ended meanwhile */
    }
  }
  return m
}

/** Lines "name  µs per unit", largest first, from two threadTicks snapshots and a unit count. */
export function perThread(before: Map<string, number>, after: Map<string, number>, units: number, unit: string): string[] {
  const rows = [...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)] as const).filter(([, v]) => v > 0).sort((x, y) => y[1] - x[1])
  const us = (ticks: number) => ((ticks * 1e6) / CLOCK_TICKS / units).toFixed(2)
  const total = rows.reduce((n, [, v]) => n + v, 0)
  return [...rows.map(([k, v]) => `  ${k.padEnd(18)} ${us(v).padStart(7)} µs/${unit}`), `  ${'total'.padEnd(18)} ${us(total).padStart(7)} µs/${unit}`]
}

/**
 * utime + stime of a process (`own`) and of it with its descendants (`total`): every thread is
 * in a process's counters. CPU per request is far steadier than req/s on a shared machine: it
 * does not move when another tenant takes the core, only when the server's own work changes.
 */
export function processCpuTicks(pid: number): { own: number; total: number } {
  let total = 0
  let own = 0
  const stack = [pid]
  while (stack.length) {
    const p = stack.pop()!
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      // Fields 14 and 15 of stat (utime, stime), counted from after the command's closing parenthesis.
      const ticks = Number(f[11]) + Number(f[12])
      total += ticks
      if (p === pid) own = ticks
      for (const tid of readdirSync(`/proc/${p}/task`)) {
        const kids = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim()
        if (kids) for (const k of kids.split(' ')) stack.push(Number(k))
      }
    } catch {
      /* exited meanwhile */
    }
  }
  return { own, total }
}
