import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { SINGLE_CONCURRENCY } from '../../src/outbox/outbox.js'
import { clickFixture, clickLoad, startChild } from '../reliability/child.js'
import { startReceiver, until, verifyAll } from './receiver.js'

const dataDir = mkdtempSync(join(tmpdir(), 'sillage-outbox-crash-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

const ENV = { WEBHOOK_ALLOW_PRIVATE: '1', CLASSIFY_PASS_INTERVAL_MS: '0', WEBHOOK_RETRY_SCHEDULE_MS: '0,200,200,200,200,200,200,200,200,200' }

describe('kill -9 during deliveries', () => {
  it('loses nothing: after a restart every acknowledged click is delivered, re-sending at most what was in flight', async () => {
    const rx = await startReceiver()
    const server = await startChild(dataDir, ENV, true)
    const { secret } = await server.api('POST', '/v1/webhooks', { url: rx.url, events: ['email.clicked'] })
    const targets = await clickFixture(server, 'crash-outbox', 200)
    const { acked } = await clickLoad(server.url, targets, 16, () => false)
    expect(acked.length).toBe(200)
    await until(() => rx.received.length >= 40, 30_000, 'deliveries under way')
    process.kill(-server.proc.pid!, 'SIGKILL')
    expect((await server.exited).signal).toBe('SIGKILL')
    const before = new Set(rx.received.map((r) => r.headers['webhook-id']))
    expect(before.size).toBeLessThan(200)
    const again = await startChild(dataDir, ENV, true)
    try {
      const recipients = () => new Set(rx.received.map((r) => JSON.parse(r.body).data.recipientId as string))
      await until(() => recipients().size === 200, 60_000, 'every click delivered')
      expect([...recipients()].sort()).toEqual([...acked].sort())
      const ids = rx.received.map((r) => String(r.headers['webhook-id']))
      expect(new Set(ids).size).toBe(200)
      // Re-sent: only what was in flight when the process died (at most one round of concurrent requests).
      expect(ids.length - 200).toBeLessThanOrEqual(SINGLE_CONCURRENCY)
      expect(verifyAll(secret, rx.received)).toBe(ids.length)
    } finally {
      again.proc.kill('SIGTERM')
      await again.exited
      await rx.close()
    }
  }, 150_000)
})
