import { randomUUID } from 'node:crypto'
import type { TestServer } from '../support/server.js'

export interface SendRow {
  campaign_id: string
  recipient_id: string
  sent_at: string
  variant?: string
  segments?: string[]
  attributes?: Record<string, string>
}

export interface EventRow {
  type: 'open' | 'click' | 'unsubscribe'
  ts: string
  campaign_id: string
  recipient_id: string
  link_id?: string
  class?: string
  reasons?: string[]
}

const insert = (s: TestServer, table: string, values: object[]) =>
  s.deps.events.client.insert({
    table: `${s.deps.events.db}.${table}`,
    values,
    format: 'JSONEachRow',
    clickhouse_settings: { insert_deduplication_token: randomUUID(), async_insert: 0 },
  })

export async function insertSends(s: TestServer, rows: SendRow[]): Promise<void> {
  await insert(s, 'sends', rows.map((r) => ({ variant: '', segments: [], attributes: {}, ...r })))
}

export async function insertEvents(s: TestServer, rows: EventRow[]): Promise<void> {
  await insert(
    s,
    'events',
    rows.map((r) => ({
      event_id: randomUUID(),
      link_id: '',
      class: 'human',
      reasons: [],
      token_valid: r.recipient_id !== '',
      method: 'GET',
      ...r,
    })),
  )
}
