/*
 * What the ingest benchmarks share: a migrated embedded ClickHouse in a fresh temp directory,
 * and realistic click events (40 user agents of the common families, 3000 recipients, 10 links).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TrackedEvent } from '../../src/events/event.js'
import { createEventStore, type EventStore } from '../../src/store/clickhouse.js'
import { migrateClickHouse } from '../../src/store/clickhouse-migrate.js'

export async function ingestStore(database: string): Promise<{ dir: string; store: EventStore; close(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), `sillage-${database}-`))
  const store = createEventStore({ database, path: join(dir, 'clickhouse') })
  await store.client.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` })
  await migrateClickHouse(store)
  return {
    dir,
    store,
    async close() {
      await store.close()
      // chDB may still hold files of the directory: its removal is best effort.
      try {
        rmSync(dir, { recursive: true, force: true })
      } catch {
        /* left in the temp dir */
      }
    },
  }
}

const USER_AGENTS = Array.from({ length: 40 }, (_, i) =>
  i % 4 === 0
    ? 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1' + (20 + i) + '.0.0.0 Safari/537.36'
    : i % 4 === 1
      ? 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_' + i + ' like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
      : i % 4 === 2
        ? 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.' + (17000 + i) + '; Pro)'
        : 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.' + i + ' Safari/605.1.15',
)

/** The i-th click of campaign `campaignId`, at `ts`. */
export function clickEvent(i: number, campaignId: string, ts: number): TrackedEvent {
  return {
    eventId: 'bench-' + i.toString(36), type: 'click', ts, campaignId, linkId: 'link' + (i % 10),
    recipientId: 'r' + (i % 3000), tokenValid: true, method: 'GET', ip: '203.0.113.0', userAgent: USER_AGENTS[i % USER_AGENTS.length]!, referer: '',
    prefetch: '', class: 'human', reasons: i % 7 === 0 ? ['burst', 'datacenter'] : [], proxy: '', classifierVersion: 3,
    amount: '', currency: '', orderId: '', extra: '',
  }
}
