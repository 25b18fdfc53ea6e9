import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.js'

describe('parseConfig', () => {
  it('has defaults that run with nothing set', () => {
    const c = parseConfig({})
    expect(c.port).toBe(8080)
    expect(c.host).toBe('0.0.0.0')
    expect(c.dataDir).toMatch(/\/data$/)
    expect(c.clickhouse.url).toBeUndefined()
    expect(c.databaseUrl).toBeUndefined()
    expect(c.publicBaseUrl).toBe('http://localhost:8080')
    expect(c.ipV4Prefix).toBe(24)
    expect(c.ipV6Prefix).toBe(48)
    expect(c.journalMaxBytes).toBe(4 * 1024 ** 3)
  })

  it('names the variable of a bad value', () => {
    const bad = (env: Record<string, string>, name: string) => {
      expect(() => parseConfig(env)).toThrow(ConfigError)
      expect(() => parseConfig(env)).toThrow(new RegExp(name))
    }
    bad({ PORT: 'eighty' }, 'PORT')
    bad({ PORT: '70000' }, 'PORT')
    bad({ CLICKHOUSE_URL: 'ftp://x' }, 'CLICKHOUSE_URL')
    bad({ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL')
    bad({ TRACKER_SECRET: 'short' }, 'TRACKER_SECRET')
    bad({ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY')
    bad({ CLICKHOUSE_DATABASE: 'a-b; DROP' }, 'CLICKHOUSE_DATABASE')
    bad({ BATCH_SIZE: '0' }, 'BATCH_SIZE')
    bad({ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN')
    bad({ CLUSTER: 'perhaps' }, 'CLUSTER')
  })

  it('runs the cluster layout with several workers, or with CLUSTER=1 and one', () => {
    expect(parseConfig({ WORKERS: '1' }).cluster).toBe(false)
    expect(parseConfig({ WORKERS: '1', CLUSTER: '1' }).cluster).toBe(true)
    expect(parseConfig({ WORKERS: '2' }).cluster).toBe(true)
    expect(parseConfig({ METRICS_TOKEN: 'scraper-token-0123456789' }).metricsToken).toBe('scraper-token-0123456789')
  })

  it('reads the documented variables', () => {
    const c = parseConfig({ PORT: '9000', PUBLIC_BASE_URL: 'https://t.example.com/', TRUST_PROXY: 'true', BATCH_SIZE: '100', FLUSH_INTERVAL_MS: '250' })
    expect(c.port).toBe(9000)
    expect(c.publicBaseUrl).toBe('https://t.example.com')
    expect(c.trustProxy).toBe(true)
    expect(c.batchSize).toBe(100)
    expect(c.flushIntervalMs).toBe(250)
  })
})
