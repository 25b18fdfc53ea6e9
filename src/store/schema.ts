import { sql } from 'drizzle-orm'
import { bigint, boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

export interface CampaignSettings {
  /** Turn the open pixel off for this campaign's templates. */
  pixel?: boolean
  /** Append utm_* parameters on redirect (never overriding the URL's own). */
  utm?: { source?: string; medium?: string; campaign?: string } | boolean
  /** Append a signed click id on redirect, under this parameter name (default sl_cid). */
  clickId?: boolean | { param?: string }
  /**
   * The sender's own domains (each covering its subdomains), added to OWN_DOMAINS: only links to
   * them get UTM parameters and the click id; a third party's link redirects to its plain URL.
   */
  domains?: string[]
  /**
   * A test send (the marketer checking the message before the big send): its clicks are not
   * judged by how soon they follow the send, since a person reading a test right away is the
   * expected case. Every other rule still applies.
   */
  test?: boolean
  /** Kind of mail (newsletter, promotion, transactional, …): what pressure rules and readers' preferences are about. */
  category?: string
  /** The sender as the reader's preference page names and styles it. */
  brand?: CampaignBrand
  /** Where a click on a retired (disabled) link without its own fallback goes; unset: the "offer ended" page. */
  fallbackUrl?: string
  /** Host of a registered tracking domain (tracking_domains) its tracked URLs are rendered on; unset: the default domain. */
  trackingDomain?: string
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

/**
 * A link's id is forever (it is in sent e-mails); where it leads can change (PATCH): every change
 * bumps `version` and `updated_at`, which is how the link caches of every instance find it.
 */
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
    /** 0 as created; +1 on every change of url, disabled or fallback_url (link_changes keeps each). */
    version: integer('version').notNull().default(0),
    /** Retired: clicks are still recorded, readers go to the fallback (or the "offer ended" page). */
    disabled: boolean('disabled').notNull().default(false),
    /** Where a click on the retired link goes; null: the campaign's fallbackUrl setting, else the ended page. */
    fallbackUrl: text('fallback_url'),
    /** The url it was created with, set at its first change: clicks journaled before any change went there. */
    originalUrl: text('original_url'),
    /** The database's clock at creation and at every change: the caches' refresh reads rows past their cursor. */
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('links_identity').on(t.campaignId, t.url, t.label, t.position, sql`coalesce(${t.templateId}, '')`),
    index('links_campaign').on(t.campaignId),
    index('links_created').on(t.createdAt),
    index('links_updated').on(t.updatedAt),
  ],
)

/** Every change of a link (PATCH), who made it and when: GET …/links/:linkId/history. */
export const linkChanges = pgTable(
  'link_changes',
  {
    linkId: text('link_id')
      .notNull()
      .references(() => links.id, { onDelete: 'cascade' }),
    /** The link's version after this change (1 for the first). */
    version: integer('version').notNull(),
    /** The API key that made the change ('admin' for TRACKER_ADMIN_KEY). */
    apiKeyId: text('api_key_id').notNull(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    oldUrl: text('old_url').notNull(),
    newUrl: text('new_url').notNull(),
    disabled: boolean('disabled').notNull(),
    fallbackUrl: text('fallback_url'),
  },
  (t) => [primaryKey({ columns: [t.linkId, t.version] })],
)

/**
 * Branded tracking domains (`click.brand.example`, a CNAME to this server): tracked URLs of a
 * campaign are rendered on its `trackingDomain` setting, else on the default one, else on PUBLIC_BASE_URL.
 */
export const trackingDomains = pgTable(
  'tracking_domains',
  {
    host: text('host').primaryKey(),
    isDefault: boolean('is_default').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex('tracking_domains_one_default').on(t.isDefault).where(sql`${t.isDefault}`)],
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

/** One step of a sequence: an existing campaign sent `offsetMs` after the recipient's entry. */
export interface SequenceStep {
  id: string
  campaignId: string
  /** The ISO-8601 duration as given (P3D, PT12H). */
  offset: string
  offsetMs: number
}

/** What makes an enrolled recipient leave: converting by the goal, unsubscribing, any other suppression. */
export const SEQUENCE_EXIT_ON = ['converted', 'unsubscribed', 'suppressed'] as const
export type SequenceExitOn = (typeof SEQUENCE_EXIT_ON)[number]

export interface SequenceGoal {
  /** The conversion type (`type` of POST /conversions; purchase by default). */
  type: string
  /** ISO-8601 duration after entry within which a conversion counts. */
  within: string
  withinMs: number
}

export const sequences = pgTable('sequences', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** In send order, offsets strictly increasing. */
  steps: jsonb('steps').$type<SequenceStep[]>().notNull(),
  exitOn: text('exit_on').array().$type<SequenceExitOn[]>().notNull(),
  goal: jsonb('goal').$type<SequenceGoal | null>(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

export const ENROLLMENT_STATUSES = ['active', 'completed', 'exited'] as const
export type EnrollmentStatus = (typeof ENROLLMENT_STATUSES)[number]

/**
 * A recipient's current place in a sequence (one row per sequence and recipient; a re-entry
 * replaces it, the history of earlier entries stays in ClickHouse's sequence_enrollments).
 * `reachedMs` is the offset of the last step sent or skipped (-1 before the first): the next
 * step is the first whose offset is larger, so a change of steps applies to what is ahead only.
 * `dueAt` and `nextStepId` are derived from it and the steps, kept here so `due` is one index range.
 */
export const sequenceEnrollments = pgTable(
  'sequence_enrollments',
  {
    sequenceId: text('sequence_id')
      .notNull()
      .references(() => sequences.id, { onDelete: 'cascade' }),
    recipientId: text('recipient_id').notNull(),
    enteredAt: timestamp('entered_at', { withTimezone: true, mode: 'date' }).notNull(),
    status: text('status', { enum: ENROLLMENT_STATUSES }).notNull().default('active'),
    reachedMs: bigint('reached_ms', { mode: 'number' }).notNull().default(-1),
    nextStepId: text('next_step_id'),
    dueAt: timestamp('due_at', { withTimezone: true, mode: 'date' }),
    exitReason: text('exit_reason'),
    exitStepId: text('exit_step_id'),
    exitedAt: timestamp('exited_at', { withTimezone: true, mode: 'date' }),
    /** stepId → ISO time of its send, for the steps sent to this entry. */
    sent: jsonb('sent').$type<Record<string, string>>().notNull().default({}),
    variant: text('variant'),
    segments: text('segments').array(),
    attributes: jsonb('attributes').$type<Record<string, string>>(),
    /**
     * The first conversion of the sequence's goal within its window after entry, among the
     * conversions applied so far (sequence_goal_cursor): `due` reads it with the page instead of
     * asking ClickHouse, and exits the entry once it is not after now. Null: none found.
     */
    goalAt: timestamp('goal_at', { withTimezone: true, mode: 'date' }),
    /**
     * The entry's item of `due` as JSON text, split where the step's campaign goes (it belongs to
     * the sequence's steps): `{"recipientId":…,"stepId":…` and `,"dueAt":…}`. Stored generated
     * columns (migration 0370): written by the database on every write of the row, NULL unless
     * active, so a page of `due` is its rows' texts joined rather than formatted per call.
     */
    dueItemHead: text('due_item_head').generatedAlwaysAs(
      sql`CASE WHEN status = 'active' AND due_at IS NOT NULL THEN sequence_due_item_head(recipient_id, next_step_id) END`,
    ),
    dueItemTail: text('due_item_tail').generatedAlwaysAs(
      sql`CASE WHEN status = 'active' AND due_at IS NOT NULL THEN sequence_due_item_tail(due_at, entered_at, variant, segments, attributes) END`,
    ),
  },
  (t) => [
    primaryKey({ columns: [t.sequenceId, t.recipientId] }),
    index('sequence_enrollments_due').on(t.sequenceId, t.dueAt, t.recipientId).where(sql`${t.status} = 'active'`),
    index('sequence_enrollments_recipient').on(t.recipientId),
    check('sequence_enrollments_status', sql`${t.status} in ('active', 'completed', 'exited')`),
  ],
)

/**
 * Recipients erased (DELETE /v1/recipients/:id): the id only, so a sequence never enrols or
 * sends to them again (their events, sends and enrolments are gone).
 */
export const recipientErasures = pgTable('recipient_erasures', {
  recipientId: text('recipient_id').primaryKey(),
  at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

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
  /**
   * preference_writes.n after this row's last write, set by the database (migration 0410's trigger):
   * the rows written since a count already read are those above it (src/store/preference-hint.ts).
   */
  seq: bigint('seq', { mode: 'number' }).notNull().default(0),
})

/**
 * One row (id 1): how many times recipient_preferences was written (insert or update), counted by the
 * trigger of migration 0410. The trigger updates this row, so writers of preferences take its lock in
 * turn until they commit: the counts are given out in commit order, and once `n` is read every row
 * with seq <= n is committed.
 */
export const preferenceWrites = pgTable('preference_writes', {
  id: integer('id').primaryKey(),
  n: bigint('n', { mode: 'number' }).notNull(),
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

export const WEBHOOK_TRAFFIC = ['human', 'machine', 'all'] as const
export const WEBHOOK_SETTLE = ['verdict', 'edge'] as const

/** A receiver of events. Its secret signs every delivery and is returned once, at creation or rotation. */
export const webhookEndpoints = pgTable('webhook_endpoints', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** Envelope types delivered (email.opened, …). */
  events: text('events').array().notNull(),
  /** Empty: every campaign. */
  campaignIds: text('campaign_ids').array().notNull().default(sql`'{}'::text[]`),
  traffic: text('traffic', { enum: WEBHOOK_TRAFFIC }).notNull().default('human'),
  settle: text('settle', { enum: WEBHOOK_SETTLE }).notNull().default('verdict'),
  /** Null: one event per request; else up to batchMax events, waiting at most batchWaitMs for them. */
  batchMax: integer('batch_max'),
  batchWaitMs: integer('batch_wait_ms'),
  description: text('description').notNull().default(''),
  secret: text('secret').notNull(),
  /** After a rotation the old secret signs too, until this time. */
  previousSecret: text('previous_secret'),
  previousSecretExpiresAt: timestamp('previous_secret_expires_at', { withTimezone: true, mode: 'date' }),
  /** events.seq up to which deliveries were created: the endpoint's place in the stream. */
  cursor: bigint('cursor', { mode: 'number' }).notNull().default(0),
  enabled: boolean('enabled').notNull().default(true),
  disabledReason: text('disabled_reason'),
  /** First failure since the last success: 5 days of it disables the endpoint. */
  failingSince: timestamp('failing_since', { withTimezone: true, mode: 'date' }),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const

/** One request's worth of events to one endpoint, with its body fixed at creation so every retry sends the same bytes. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    endpointId: text('endpoint_id')
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: 'cascade' }),
    /** The webhook-id header: the event's id (one event) or the batch's. */
    msgId: text('msg_id').notNull(),
    eventIds: text('event_ids').array().notNull(),
    /** The envelope type, or 'batch'. */
    type: text('type').notNull(),
    body: text('body').notNull(),
    status: text('status', { enum: DELIVERY_STATUSES }).notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    responseExcerpt: text('response_excerpt'),
    replay: boolean('replay').notNull().default(false),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('webhook_deliveries_due').on(t.endpointId, t.status, t.nextAttemptAt),
    index('webhook_deliveries_created').on(t.endpointId, t.createdAt),
    // The log's retention: succeeded deliveries older than 7 days, without reading the whole table.
    index('webhook_deliveries_pruned').on(t.status, t.updatedAt),
  ],
)

/** An audience evaluated periodically; a recipient entering it emits audience.entered once. */
export const triggers = pgTable('triggers', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  /** { campaignId, filter } (the campaign audience's parameters) or { inactiveDays, minSends } (cross-campaign). */
  audience: jsonb('audience').notNull(),
  everyMs: integer('every_ms').notNull(),
  nextRunAt: timestamp('next_run_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  lastRunAt: timestamp('last_run_at', { withTimezone: true, mode: 'date' }),
  lastError: text('last_error'),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
})

export const triggerMembers = pgTable(
  'trigger_members',
  {
    triggerId: text('trigger_id')
      .notNull()
      .references(() => triggers.id, { onDelete: 'cascade' }),
    recipientId: text('recipient_id').notNull(),
    enteredAt: timestamp('entered_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    /** False until its audience.entered event is stored: a crash in between re-emits it (same id) on the next run. */
    emitted: boolean('emitted').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.triggerId, t.recipientId] })],
)

/**
 * How far the events' conversions have been applied to the enrolments' goal_at: every
 * conversion with seq at or below `seq` (one row, id 1; -1 before the first pass). Locked by the
 * pass (FOR UPDATE) and by enrolment (FOR SHARE), so an entry is never between the two.
 */
export const sequenceGoalCursor = pgTable('sequence_goal_cursor', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  /** Within `seq`, the last event applied (null: all of them); a pass's page may end inside seq 0 (events stored before seq existed). */
  eventId: text('event_id'),
})

/**
 * Recipients with a conversion among those sequence_goal_cursor covers (the id only): enrolment
 * asks ClickHouse for the conversions of these alone. Deleted with the recipient on erasure.
 */
export const sequenceGoalRecipients = pgTable('sequence_goal_recipients', {
  recipientId: text('recipient_id').primaryKey(),
})

/**
 * Exits marked by `due` not yet written to ClickHouse's sequence_enrollments: inserted by the
 * statement that marks them, written to ClickHouse after the answer (and before anything reads the
 * mirror) in id order, then deleted. Rows left by a crash are written by the next catch-up.
 */
export const sequenceMirrorPending = pgTable('sequence_mirror_pending', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  sequenceId: text('sequence_id')
    .notNull()
    .references(() => sequences.id, { onDelete: 'cascade' }),
  recipientId: text('recipient_id').notNull(),
  enteredAt: timestamp('entered_at', { withTimezone: true, mode: 'date' }).notNull(),
  status: text('status', { enum: ENROLLMENT_STATUSES }).notNull(),
  exitReason: text('exit_reason'),
  exitStepId: text('exit_step_id'),
  exitedAt: timestamp('exited_at', { withTimezone: true, mode: 'date' }),
  /** The mirror row's version (ms when the state was written here): a later write of the same entry wins in ClickHouse. */
  version: bigint('version', { mode: 'number' }).notNull(),
})

/**
 * Recipients whose rows of ClickHouse's recipient_send_outcomes (the fatigue curve's sends with their
 * outcome bits) are to be recomputed: one row per sends call, its recipients in one array (one tuple
 * written, no index entry per recipient). Done after the answer once sends are quiet, and before any
 * read of that table, then deleted (only the rows the catch-up read). Rows left by a crash are done
 * by the next catch-up; an erasure removes the recipient from every row.
 */
export const sendOutcomesPending = pgTable('send_outcomes_pending', {
  id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
  recipientIds: text('recipient_ids').array().notNull(),
})
