import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { encodeEvent, type TrackedEvent } from '../../src/events/event.js'
import { MAX_BATCH_UA_BYTES, scanBatch } from '../../src/events/insert.js'
import { Journal } from '../../src/events/journal.js'
import { EventWriter } from '../../src/events/writer.js'
import { createLogger } from '../../src/logger.js'
import { queryRows, type EventStore } from '../../src/store/clickhouse.js'
import { migrateClickHouse } from '../../src/store/clickhouse-migrate.js'
import { parseUserAgent } from '../../src/tracking/classify/parse-ua.js'
import { testEventStore } from '../support/stores.js'

/*
 * The writer hands journal bytes to ClickHouse as they are (format(TabSeparated) over a literal):
 * every value must arrive as the edge saw it, whatever characters it holds, exactly once.
 */
const log = createLogger('silent')
let store: EventStore
let dir: string

function ev(i: number, over: Partial<TrackedEvent> = {}): TrackedEvent {
  return {
    eventId: `e${i}`, type: 'click', ts: 1_760_000_000_123 + i, campaignId: 'c', linkId: 'l', recipientId: `r${i}`, tokenValid: true,
    method: 'GET', ip: '203.0.113.0', userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) Mobile/15E148', referer: '',
    prefetch: '', class: 'human', reasons: [], proxy: '', classifierVersion: 2, amount: '', currency: '', orderId: '', extra: '', ...over,
  }
}

beforeAll(async () => {
  store = testEventStore()
  await store.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${store.db}` })
  await migrateClickHouse(store)
  dir = mkdtempSync(join(tmpdir(), 'sillage-journal-insert-'))
})
afterAll(async () => {
  await store.close()
  rmSync(dir, { recursive: true, force: true })
})

describe('scanBatch', () => {
  it('skips lines that are not events and unescapes user agents', () => {
    const buf = Buffer.from(encodeEvent(ev(1, { userAgent: 'a\tb\\c' })) + 'torn\tline\n' + encodeEvent(ev(2)))
    const scan = scanBatch(buf, 10)
    expect(scan.lines).toBe(3)
    expect(scan.skipped).toHaveLength(1)
    expect([...scan.uas]).toEqual(['a\tb\\c', ev(2).userAgent])
    expect(scan.end).toBe(buf.length)
  })

  it('ends a batch before its distinct user agents outgrow the bound (never before its first line)', () => {
    const big = (n: number) => ev(n, { userAgent: String(n).padEnd(MAX_BATCH_UA_BYTES / 2, 'x') })
    const buf = Buffer.from(encodeEvent(big(1)) + encodeEvent(big(1)) + encodeEvent(big(2)) + encodeEvent(big(3)))
    expect(scanBatch(buf, 10).lines).toBe(3)
    expect(scanBatch(buf, 2).lines).toBe(2)
    expect(scanBatch(buf, 10, 10).lines).toBe(2)
  })

  it('finds every distinct user agent, repeats and hash collisions included', () => {
    // 'Aa' and 'BB' hash alike (31-multiplier), as do 'AaAa', 'AaBB', 'BBAa' and 'BBBB'.
    const pool = ['Aa', 'BB', 'AaAa', 'AaBB', 'BBAa', 'BBBB', '', 'a\tb', 'a\\tb', 'Mozilla/5.0 (Windows NT 10.0) Chrome/131', 'Mozilla/5.0 (Windows NT 10.0) Chrome/130']
    let seed = 7
    const pick = () => pool[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % pool.length]!
    const uas = Array.from({ length: 500 }, pick)
    const scan = scanBatch(Buffer.from(uas.map((ua, i) => encodeEvent(ev(i, { userAgent: ua }))).join('')), 1000)
    expect(scan.lines).toBe(500)
    expect(new Set(scan.uas)).toEqual(new Set(uas))
  })
})

describe('writer insert', () => {
  it('stores every field as journaled, awkward characters included, with the parsed user agent, once', async () => {
    const odd = 'Mozilla/5.0 $$ it\'s a \\ "test"\twith\ttabs\nand newline $'
    const events = [
      ev(1),
      ev(2, { userAgent: odd, referer: 'https://x.example/?a=1&b=$$', reasons: ['burst', 'datacenter'], class: 'scanner_click', tokenValid: false, recipientId: '' }),
      ev(3, { type: 'conversion', amount: '12.3456', currency: 'EUR', orderId: 'o-1', extra: '{"k":"v\\t"}', linkId: '' }),
    ]
    const jdir = join(dir, 'j1')
    const j = new Journal({ dir: jdir, fsyncIntervalMs: 0, maxBytes: 1 << 20, log })
    for (const e of events) await j.appendAsync(encodeEvent(e))
    // A torn line in the middle of the range (never written by the journal, but a replay must survive it).
    writeFileSync(join(jdir, '0000000000000001.log'), 'x\ty\n' + encodeEvent(ev(4)))
    const w = new EventWriter({ journal: j, store, batchSize: 100, flushIntervalMs: 60_000, log })
    await w.start()
    await w.flush()
    await w.stop()
    j.close()
    expect(w.stats.inserted).toBe(4)
    expect(w.stats.skippedLines).toBe(1)
    const rows = await queryRows<Record<string, unknown>>(
      store,
      `SELECT event_id, type, toUnixTimestamp64Milli(ts) AS ms, recipient_id, token_valid, user_agent, referer, reasons, class, ua_client, ua_os, ua_device, toString(amount) AS amount, currency, order_id, extra FROM ${store.db}.events ORDER BY event_id`,
    )
    expect(rows.map((r) => r.event_id)).toEqual(['e1', 'e2', 'e3', 'e4'])
    const [r1, r2, r3] = rows
    const p = parseUserAgent(ev(1).userAgent)
    expect(r1).toMatchObject({ type: 'click', ms: 1_760_000_000_124, recipient_id: 'r1', token_valid: true, ua_client: p.client, ua_os: p.os, ua_device: p.device, reasons: [], amount: '0' })
    expect(r2).toMatchObject({ user_agent: odd, referer: 'https://x.example/?a=1&b=$$', reasons: ['burst', 'datacenter'], class: 'scanner_click', token_valid: false, recipient_id: '' })
    expect(r2!.ua_client).toBe(parseUserAgent(odd).client)
    expect(r3).toMatchObject({ type: 'conversion', amount: '12.3456', currency: 'EUR', order_id: 'o-1', extra: '{"k":"v\\t"}' })
  })
})

describe('writer batching', () => {
  it('under a steady stream, inserts a batch when it is full or the interval passes, not one small insert after another', async () => {
    // Inserting whatever arrived during the previous insert, at once, made ~750-event parts under
    // load; ClickHouse's merges of them cost more CPU than the edge (bench/README.md, "Ingest").
    const j = new Journal({ dir: join(dir, 'j-steady'), fsyncIntervalMs: 1000, maxBytes: 1 << 30, log })
    const batchSize = 2000
    const intervalMs = 300
    const w = new EventWriter({ journal: j, store, batchSize, flushIntervalMs: intervalMs, log })
    await w.start()
    const t0 = Date.now()
    let n = 0
    // 40 events every 2 ms (≈ 20 000/s) for 1.5 s.
    await new Promise<void>((res) => {
      const iv = setInterval(() => {
        for (let i = 0; i < 40; i++) j.append(encodeEvent(ev(100_000 + n++, { campaignId: 'steady' })), () => undefined)
        if (Date.now() - t0 >= 1500) {
          clearInterval(iv)
          res()
        }
      }, 2)
    })
    const elapsed = Date.now() - t0
    await w.stop()
    j.close()
    const counted = await queryRows<{ c: number }>(store, `SELECT count() AS c FROM ${store.db}.events WHERE campaign_id = 'steady'`)
    expect(Number(counted[0]?.c)).toBe(n)
    // Full batches, plus one per interval, plus the final flush's.
    const bound = Math.ceil(n / batchSize) + Math.ceil(elapsed / intervalMs) + 2
    expect(w.stats.batches).toBeLessThanOrEqual(bound)
    expect(w.stats.inserted / w.stats.batches).toBeGreaterThan(n / bound)
  })
})

describe('writer flush', () => {
  it('inserts what was journaled before the call and returns while appends go on (a backup under steady clicks)', async () => {
    const j = new Journal({ dir: join(dir, 'j-flush'), fsyncIntervalMs: 1000, maxBytes: 1 << 30, log })
    // No background drain meanwhile (interval and batch far away): the flush alone inserts. Each of
    // its inserts takes what is there; lines keep arriving during each, so chasing them never ends.
    const w = new EventWriter({ journal: j, store, batchSize: 1_000_000, flushIntervalMs: 600_000, log })
    await w.start()
    let n = 0
    const append = () => j.appendAsync(encodeEvent(ev(300_000 + n++, { campaignId: 'flushing' })))
    for (let i = 0; i < 20; i++) await append()
    const before = n
    let appending = true
    const stream = (async () => {
      while (appending) await append()
    })()
    const t0 = Date.now()
    await w.flush()
    const took = Date.now() - t0
    appending = false
    await stream
    const [row] = await queryRows<{ c: number }>(store, `SELECT count() AS c FROM ${store.db}.events WHERE campaign_id = 'flushing'`)
    expect(Number(row!.c)).toBeGreaterThanOrEqual(before)
    expect(n - before).toBeGreaterThan(0)
    // The shutdown's flush takes the rest.
    await w.stop()
    j.close()
    const [all] = await queryRows<{ c: number }>(store, `SELECT count() AS c FROM ${store.db}.events WHERE campaign_id = 'flushing'`)
    expect(Number(all!.c)).toBe(n)
    expect(took).toBeLessThan(20_000)
  })
})

describe('writer checkpoint', () => {
  it('says loudly when its checkpoint is unreadable (it reads the journal again from the start)', async () => {
    const errors: string[] = []
    const capture = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m: string) => void errors.push(m) }
    const jdir = join(dir, 'j-corrupt')
    const j = new Journal({ dir: jdir, fsyncIntervalMs: 0, maxBytes: 1 << 20, log })
    writeFileSync(join(jdir, 'checkpoint.json'), '{"segment": 12, "off')
    const w = new EventWriter({ journal: j, store, batchSize: 100, flushIntervalMs: 60_000, log: capture })
    await w.start()
    await w.stop()
    j.close()
    expect(errors).toEqual(['writer_checkpoint_unreadable'])
    // A new journal has no checkpoint yet: nothing to say.
    const fresh = new Journal({ dir: join(dir, 'j-fresh'), fsyncIntervalMs: 0, maxBytes: 1 << 20, log })
    const w2 = new EventWriter({ journal: fresh, store, batchSize: 100, flushIntervalMs: 60_000, log: capture })
    await w2.start()
    await w2.stop()
    fresh.close()
    expect(errors).toHaveLength(1)
  })
})
