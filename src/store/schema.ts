import { sql } from 'drizzle-orm'
import { boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

export interface CampaignSettings {
  /** Turn the open pixel off for this campaign's templates. */
  pixel?: boolean
  /** Append utm_* parameters on redirect (never overriding the URL's own). */
  utm?: { source?: string; medium?: string; campaign?: string } | boolean
  /** Append a signed click id on redirect, under this parameter name (default sl_cid). */
  clickId?: boolean | { param?: string }
  /** Kind of mail (newsletter, promotion, transactional, …): what pressure rules and readers' preferences are about. */
  category?: string
  /** The sender as the reader's preference page names and styles it. */
  brand?: CampaignBrand
}

export interface CampaignBrand {
  /** Shown as the sender on the reader's page (default: the campaign's name). */
  name?: string
  /** Colours of the reader's page, #rgb or #rrggbb only (never raw CSS). */
  accentColor?: string
  backgroundColor?: string
  textColor?: string
}

/** Transactional mail (receipts, password resets) is never capped nor opted out of by preferences. */
export const TRANSACTIONAL = 'transactional'

export const campaigns = pgTable(
  'campaigns',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    settings: jsonb('settings').$type<CampaignSettings>().notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** Set by the database on every change (its clock, not an instance's): how other instances' link caches find changed campaigns. */
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('campaigns_updated').on(t.updatedAt)],
)

/** Immutable once created, so the edge caches them for the life of the process. */
export const links = pgTable(
  'links',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => campaigns.id, { onDelete: 'cascade' }),
    url: text('url').notNull(),
    label: text('label').notNull().default(''),
    /** Order of the occurrence in a template; 0 for links registered one by one. */
    position: integer('position').notNull().default(0),
    templateId: text('template_id'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('links_identity').on(t.campaignId, t.url, t.label, t.position, sql`coalesce(${t.templateId}, '')`),
    index('links_campaign').on(t.campaignId),
    index('links_created').on(t.createdAt),
  ],
)

export const templates = pgTable('templates', {
  id: text('id').primaryKey(),
  campaignId: text('campaign_id')
    .notNull()
    .references(() => campaigns.id, { onDelete: 'cascade' }),
  /** The compiled template (fragments and holes) as produced by src/rewrite. */
  compiled: jsonb('compiled').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

export const API_KEY_ROLES = ['admin', 'member'] as const
export type ApiKeyRole = (typeof API_KEY_ROLES)[number]

export const apiKeys = pgTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** SHA-256 of the key; the key itself is shown once, at creation. */
    hash: text('hash').notNull().unique(),
    prefix: text('prefix').notNull(),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    /**
     * admin: may also manage API keys; member: everything else. Rows older than the column are
     * members, so the migration gives no key a right it did not have to be granted explicitly.
     */
    role: text('role', { enum: API_KEY_ROLES }).notNull().default('member'),
    revoked: boolean('revoked').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('api_keys_role', sql`${t.role} in ('admin', 'member')`)],
)

export const suppressions = pgTable(
  'suppressions',
  {
    recipientId: text('recipient_id').notNull(),
    /** Empty for a global suppression, else the campaign's list scope. */
    scope: text('scope').notNull().default(''),
    reason: text('reason').notNull(),
    campaignId: text('campaign_id'),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.recipientId, t.scope] })],
)

/**
 * Dashboard sessions ended by signing out, until they would have expired anyway: sessions are
 * stateless signed cookies, so ending one before its expiry needs this list (read by every
 * instance sharing the database; pruned as rows expire).
 */
export const dashboardSignouts = pgTable(
  'dashboard_signouts',
  {
    /** The session's nonce (random, 16 bytes base64url). */
    nonce: text('nonce').primaryKey(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (t) => [index('dashboard_signouts_expires').on(t.expiresAt)],
)

/**
 * Caps on marketing pressure: at most `max` sends in `windowDays` to one recipient, over the
 * campaigns of `category` (null: every category but transactional, which caps never count or stop).
 */
export const pressureRules = pgTable(
  'pressure_rules',
  {
    id: text('id').primaryKey(),
    max: integer('max').notNull(),
    windowDays: integer('window_days').notNull(),
    category: text('category'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [check('pressure_rules_max', sql`${t.max} > 0`), check('pressure_rules_window', sql`${t.windowDays} > 0`)],
)

/** What a reader chose: categories they want (false: not this one) and their own frequency cap. */
export const recipientPreferences = pgTable('recipient_preferences', {
  recipientId: text('recipient_id').primaryKey(),
  /** Category → wanted; a category not named is wanted. */
  categories: jsonb('categories').$type<Record<string, boolean>>().notNull().default({}),
  /** The reader's own cap: at most maxPerWindow sends in windowDays (both null: none). */
  maxPerWindow: integer('max_per_window'),
  windowDays: integer('window_days'),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

/**
 * Every change of a reader's preferences, with the campaign whose page it came from (null: through
 * the API): "chose fewer mails rather than leaving" is counted from here, apart from unsubscribes.
 */
export const preferenceChanges = pgTable(
  'preference_changes',
  {
    id: text('id').primaryKey(),
    recipientId: text('recipient_id').notNull(),
    campaignId: text('campaign_id'),
    /** reader: the reader's page; api: PUT /v1/recipients/:id/preferences. */
    source: text('source').notNull(),
    /** true when the change asks for less mail (a category turned off or a lower frequency). */
    fewer: boolean('fewer').notNull(),
    before: jsonb('before').notNull(),
    after: jsonb('after').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [index('preference_changes_campaign').on(t.campaignId, t.at), index('preference_changes_recipient').on(t.recipientId)],
)

