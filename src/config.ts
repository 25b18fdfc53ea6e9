import { cpus } from 'node:os'
import { resolve } from 'node:path'
import { z } from 'zod'

const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', ''])
  .transform((v) => v === '1' || v === 'true' || v === 'yes')

const identifier = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a plain identifier (letters, digits, _)')

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  PUBLIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  CLICKHOUSE_URL: z.url({ protocol: /^https?$/ }).optional(),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  CLICKHOUSE_DATABASE: identifier.default('sillage'),
  /** A cluster of one shard and N replicas, as named in the servers' remote_servers; unset: one node. */
  CLICKHOUSE_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  CLICKHOUSE_CLUSTER: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be a cluster name from system.clusters').optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  TRACKER_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  /** Former secrets, comma-separated, still accepted when verifying tokens after a rotation. */
  TRACKER_OLD_SECRETS: z.string().default(''),
  TRACKER_ADMIN_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  TRUST_PROXY: bool.default(false),
  /** Prefix lengths kept when anonymising client addresses; 32/128 keeps them whole. */
  IP_V4_PREFIX: z.coerce.number().int().min(0).max(32).default(24),
  IP_V6_PREFIX: z.coerce.number().int().min(0).max(128).default(48),
  BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(50_000),
  FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Nice of every thread but the event loop in the process that ingests (ClickHouse, libuv's pool): under a burst the edge comes first. 0: off. */
  INGEST_NICE: z.coerce.number().int().min(0).max(19).default(10),
  /** How often the journal is fsync'ed: what a power loss can cost at most. */
  FSYNC_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  /** Journal bytes not yet in ClickHouse above which the edge stops journaling new events (and counts them lost). */
  JOURNAL_MAX_BYTES: z.coerce.number().int().min(1024 ** 2).default(4 * 1024 ** 3),
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(16 * 1024 ** 2),
  WORKERS: z.coerce.number().int().min(1).max(256).default(cpus().length),
  /** 1: the cluster layout (a primary and its edge workers) even with WORKERS=1, so the edge has a core away from the stores. */
  CLUSTER: bool.default(false),
  /** How often each instance reads campaigns changed elsewhere (by another instance on the same DATABASE_URL): the bound on their staleness. */
  LINK_REFRESH_MS: z.coerce.number().int().min(50).max(600_000).default(5000),
  /** A bearer token only for /metrics, so a scraper does not hold the admin key. */
  METRICS_TOKEN: z.string().min(16).optional(),
  /** Second classification pass (bursts, honeypot): how often it runs (0: never), how old an event must be, how far back it looks. */
  CLASSIFY_PASS_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  CLASSIFY_PASS_DELAY_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  CLASSIFY_PASS_LOOKBACK_MS: z.coerce.number().int().min(10_000).max(86_400_000).default(300_000),
  /** The sender's own domains (comma-separated; each covers its subdomains): only links to them get UTM parameters and click ids. */
  OWN_DOMAINS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((d) => d.trim().toLowerCase().replace(/^\.+|\.+$/g, '')).filter(Boolean))
    .refine((ds) => ds.every((d) => /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(d)), 'must be host names separated by commas (e.g. shop.example,example.com)'),
  /** 1: webhook targets may resolve to loopback, private or link-local addresses (tests, a receiver on the same network). */
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  /** Delays between delivery attempts, in ms, comma-separated; the default is the Standard Webhooks schedule. */
  WEBHOOK_RETRY_SCHEDULE_MS: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'must be comma-separated milliseconds')
    .default([0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 50_400_000, 72_000_000, 86_400_000].join(',')),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(15_000),
  /** An endpoint failing without a success for this long is disabled. */
  WEBHOOK_DISABLE_AFTER_MS: z.coerce.number().int().min(1000).default(5 * 86_400_000),
  /** How often a trigger without its own `every` is evaluated. */
  TRIGGER_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(15 * 60_000),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** Days events are kept (ClickHouse TTL); unset: forever. Sends and conversions follow unless set apart. At most 10 000 (27 years: a TTL past 2106 would overflow DateTime). */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(10_000).optional(),
  SEND_RETENTION_DAYS: z.coerce.number().int().min(1).max(10_000).optional(),
  CONVERSION_RETENTION_DAYS: z.coerce.number().int().min(1).max(10_000).optional(),
})

export type Config = ReturnType<typeof parseConfig>

/** How long each kind of row is kept, in days; null: forever. */
export interface RetentionDays {
  eventDays: number | null
  sendDays: number | null
  conversionDays: number | null
}

export class ConfigError extends Error {}

/** Reads and validates the environment once; a bad value names its variable. */
export function parseConfig(env: Record<string, string | undefined> = process.env) {
  const picked: Record<string, string> = {}
  for (const key of Object.keys(EnvSchema.shape)) {
    const v = env[key]
    if (v !== undefined && v !== '') picked[key] = v
  }
  const parsed = EnvSchema.safeParse(picked)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const dataDir = resolve(e.DATA_DIR)
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir,
    publicBaseUrl: (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    clickhouse: {
      url: e.CLICKHOUSE_URL,
      user: e.CLICKHOUSE_USER,
      password: e.CLICKHOUSE_PASSWORD,
      database: e.CLICKHOUSE_DATABASE,
      cluster: e.CLICKHOUSE_CLUSTER,
      requestTimeoutMs: e.CLICKHOUSE_REQUEST_TIMEOUT_MS,
      path: resolve(dataDir, 'clickhouse'),
    },
    databaseUrl: e.DATABASE_URL,
    metaPath: resolve(dataDir, 'meta'),
    journalDir: resolve(dataDir, 'journal'),
    /** Where the server writes the backups it is asked for (POST /v1/admin/backup). */
    backupsDir: resolve(dataDir, 'backups'),
    trackerSecret: e.TRACKER_SECRET,
    trackerOldSecrets: e.TRACKER_OLD_SECRETS.split(',').map((s) => s.trim()).filter(Boolean),
    adminKey: e.TRACKER_ADMIN_KEY,
    trustProxy: e.TRUST_PROXY,
    ipV4Prefix: e.IP_V4_PREFIX,
    ipV6Prefix: e.IP_V6_PREFIX,
    batchSize: e.BATCH_SIZE,
    flushIntervalMs: e.FLUSH_INTERVAL_MS,
    ingestNice: e.INGEST_NICE,
    fsyncIntervalMs: e.FSYNC_INTERVAL_MS,
    journalMaxBytes: e.JOURNAL_MAX_BYTES,
    maxBodyBytes: e.MAX_BODY_BYTES,
    workers: e.WORKERS,
    cluster: e.WORKERS > 1 || e.CLUSTER,
    linkRefreshMs: e.LINK_REFRESH_MS,
    metricsToken: e.METRICS_TOKEN,
    classifyPass: { intervalMs: e.CLASSIFY_PASS_INTERVAL_MS, delayMs: e.CLASSIFY_PASS_DELAY_MS, lookbackMs: e.CLASSIFY_PASS_LOOKBACK_MS },
    ownDomains: e.OWN_DOMAINS,
    webhooks: {
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE_MS.split(',').map(Number),
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      disableAfterMs: e.WEBHOOK_DISABLE_AFTER_MS,
    },
    triggerIntervalMs: e.TRIGGER_INTERVAL_MS,
    logLevel: e.LOG_LEVEL,
    retention: {
      eventDays: e.EVENT_RETENTION_DAYS ?? null,
      sendDays: e.SEND_RETENTION_DAYS ?? e.EVENT_RETENTION_DAYS ?? null,
      conversionDays: e.CONVERSION_RETENTION_DAYS ?? e.EVENT_RETENTION_DAYS ?? null,
    } as RetentionDays,
  }
}
