import { and, asc, count, countDistinct, eq, inArray, isNotNull, sql } from 'drizzle-orm'
import { nanoid } from 'nanoid'
import type { AppDeps } from '../deps.js'
import { capsReached, NONE_HELD, type CapSpec } from '../metrics/pressure.js'
import { recipientSends } from '../metrics/recipient-activity.js'
import { mayHavePreferences } from '../store/preference-hint.js'
import { campaigns, preferenceChanges, pressureRules, recipientPreferences, suppressions, TRANSACTIONAL } from '../store/schema.js'
import { conflict, notFound } from '../util/errors.js'
import { DAY_MS, windowName } from '../util/window.js'

export interface PressureRule {
  id: string
  max: number
  windowDays: number
  /** null: every category but transactional. */
  category: string | null
  createdAt: Date
}

export interface Frequency {
  max: number
  windowDays: number
}

export interface Preferences {
  recipientId: string
  /** Category → wanted; a category not named is wanted. */
  categories: Record<string, boolean>
  maxPerWindow: Frequency | null
  /** null: the reader never chose anything. */
  updatedAt: Date | null
}

type MetaDeps = Pick<AppDeps, 'meta'>

export async function createRule(deps: MetaDeps, r: { max: number; windowDays: number; category?: string | null | undefined }): Promise<PressureRule> {
  const [row] = await deps.meta.db
    .insert(pressureRules)
    .values({ id: 'pr_' + nanoid(12), max: r.max, windowDays: r.windowDays, category: r.category ?? null })
    .returning()
  return row!
}

export async function listRules(deps: MetaDeps): Promise<PressureRule[]> {
  return deps.meta.db.select().from(pressureRules).orderBy(asc(pressureRules.createdAt), asc(pressureRules.id))
}

export async function deleteRule(deps: MetaDeps, id: string): Promise<PressureRule> {
  const [row] = await deps.meta.db.delete(pressureRules).where(eq(pressureRules.id, id)).returning()
  if (!row) throw notFound(`pressure rule ${id} not found`)
  return row
}

const toPreferences = (recipientId: string, row: typeof recipientPreferences.$inferSelect | undefined): Preferences => ({
  recipientId,
  categories: row?.categories ?? {},
  maxPerWindow: row?.maxPerWindow != null && row.windowDays != null ? { max: row.maxPerWindow, windowDays: row.windowDays } : null,
  updatedAt: row?.updatedAt ?? null,
})

export async function getPreferences(deps: MetaDeps, recipientId: string): Promise<Preferences> {
  const [row] = await deps.meta.db.select().from(recipientPreferences).where(eq(recipientPreferences.recipientId, recipientId)).limit(1)
  return toPreferences(recipientId, row)
}

/** The stored preferences among these recipients (those who never chose are absent). */
export async function preferencesAmong(deps: MetaDeps, recipientIds: readonly string[]): Promise<Map<string, Preferences>> {
  const out = new Map<string, Preferences>()
  if (recipientIds.length === 0) return out
  // Only the ids whose bit is set in this process's bitmap of readers with a row (usually none of a
  // send's 10,000): looking 10,000 ids up cost ~14 ms of PGlite on the check's thread.
  const unique = [...new Set(await mayHavePreferences(deps.meta, recipientIds))]
  if (unique.length === 0) return out
  // One array parameter rather than one per id: 10,000 ids bound one by one cost ~200-400 ms on PGlite.
  const rows = await deps.meta.db.select().from(recipientPreferences).where(sql`${recipientPreferences.recipientId} = ANY(${sql.param(unique)}::text[])`)
  for (const r of rows) out.set(r.recipientId, toPreferences(r.recipientId, r))
  return out
}

/** Sends per window day allowed by a frequency (Infinity: none), to tell a lower frequency from a higher one. */
const rate = (f: Frequency | null) => (f ? f.max / f.windowDays : Infinity)

/** Whether `after` asks for less mail than `before`: a category turned off, or a lower frequency. */
export function asksForFewer(before: Preferences, after: Pick<Preferences, 'categories' | 'maxPerWindow'>): boolean {
  const turnedOff = Object.entries(after.categories).some(([c, wanted]) => !wanted && before.categories[c] !== false)
  return turnedOff || rate(after.maxPerWindow) < rate(before.maxPerWindow)
}

/**
 * Replaces a recipient's preferences (the categories given are the whole map) and records the change
 * with where it came from, unless nothing changed. Returns the stored preferences.
 */
export async function setPreferences(
  deps: Pick<AppDeps, 'meta' | 'clock'>,
  recipientId: string,
  next: { categories: Record<string, boolean>; maxPerWindow: Frequency | null },
  origin: { source: 'reader' | 'api'; campaignId?: string | null | undefined },
): Promise<Preferences> {
  const at = new Date(deps.clock())
  return deps.meta.db.transaction(async (tx) => {
    const [row] = await tx.select().from(recipientPreferences).where(eq(recipientPreferences.recipientId, recipientId)).for('update').limit(1)
    const before = toPreferences(recipientId, row)
    const same = JSON.stringify(sortKeys(before.categories)) === JSON.stringify(sortKeys(next.categories)) && JSON.stringify(before.maxPerWindow) === JSON.stringify(next.maxPerWindow)
    if (same && row) return before
    const values = { categories: next.categories, maxPerWindow: next.maxPerWindow?.max ?? null, windowDays: next.maxPerWindow?.windowDays ?? null, updatedAt: at }
    await tx
      .insert(recipientPreferences)
      .values({ recipientId, ...values })
      .onConflictDoUpdate({ target: recipientPreferences.recipientId, set: values })
    if (!same) {
      await tx.insert(preferenceChanges).values({
        id: 'pc_' + nanoid(16),
        recipientId,
        campaignId: origin.campaignId ?? null,
        source: origin.source,
        fewer: asksForFewer(before, next),
        before: { categories: before.categories, maxPerWindow: before.maxPerWindow },
        after: { categories: next.categories, maxPerWindow: next.maxPerWindow },
        at,
      })
    }
    return { recipientId, ...next, updatedAt: at }
  })
}

const sortKeys = (o: Record<string, boolean>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))

/** The categories of the campaigns (transactional left out): the topics a reader can choose from. */
export async function knownCategories(deps: MetaDeps): Promise<string[]> {
  const rows = await deps.meta.db
    .selectDistinct({ c: sql<string>`${campaigns.settings}->>'category'` })
    .from(campaigns)
    .where(isNotNull(sql`${campaigns.settings}->>'category'`))
  return rows.map((r) => r.c).filter((c) => c && c !== TRANSACTIONAL).sort()
}

/** The ids of the campaigns of a category (for the metrics that take `category`). */
export async function campaignsOfCategory(deps: MetaDeps, category: string): Promise<string[]> {
  const rows = await deps.meta.db.select({ id: campaigns.id }).from(campaigns).where(sql`${campaigns.settings}->>'category' = ${category}`)
  return rows.map((r) => r.id)
}

/** The scope of a fatigue curve: a category's campaigns, or (no category) null with every campaign's id for the orders credited. */
export async function fatigueScope(deps: MetaDeps, category: string | undefined): Promise<{ campaigns: string[] | null; everyCampaign?: string[] }> {
  if (category) return { campaigns: await campaignsOfCategory(deps, category) }
  const rows = await deps.meta.db.select({ id: campaigns.id }).from(campaigns)
  return { campaigns: null, everyCampaign: rows.map((r) => r.id) }
}

/** Category of each named campaign ('' when it has none). */
export async function categoriesOf(deps: MetaDeps, campaignIds: readonly string[]): Promise<Map<string, string>> {
  const ids = [...new Set(campaignIds)]
  const out = new Map<string, string>()
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await deps.meta.db.select({ id: campaigns.id, settings: campaigns.settings }).from(campaigns).where(inArray(campaigns.id, ids.slice(i, i + 5000)))
    for (const r of rows) out.set(r.id, r.settings.category ?? '')
  }
  return out
}

export interface PreferenceStats {
  campaignId: string
  /** Readers who changed their preferences from this campaign's page. */
  readersChangedPreferences: number
  /** Of them, those who asked for less mail (a category off or a lower frequency) rather than leaving. */
  readersChoseFewer: number
  /** Readers who unsubscribed from everything from this campaign (page or one-click). */
  readersUnsubscribed: number
}

/** Per campaign: preference changes counted apart from unsubscribes, from the metadata store. */
export async function preferenceStats(deps: MetaDeps, campaignIds?: readonly string[]): Promise<PreferenceStats[]> {
  const byCampaign = new Map<string, PreferenceStats>()
  const row = (id: string) => {
    let r = byCampaign.get(id)
    if (!r) byCampaign.set(id, (r = { campaignId: id, readersChangedPreferences: 0, readersChoseFewer: 0, readersUnsubscribed: 0 }))
    return r
  }
  const only = campaignIds ? [...campaignIds] : undefined
  const changes = await deps.meta.db
    .select({
      campaignId: preferenceChanges.campaignId,
      changed: countDistinct(preferenceChanges.recipientId),
      fewer: sql<number>`count(distinct ${preferenceChanges.recipientId}) filter (where ${preferenceChanges.fewer})`,
    })
    .from(preferenceChanges)
    .where(and(isNotNull(preferenceChanges.campaignId), eq(preferenceChanges.source, 'reader'), only ? inArray(preferenceChanges.campaignId, only) : undefined))
    .groupBy(preferenceChanges.campaignId)
  for (const c of changes) {
    const r = row(c.campaignId!)
    r.readersChangedPreferences = Number(c.changed)
    r.readersChoseFewer = Number(c.fewer)
  }
  const unsubs = await deps.meta.db
    .select({ campaignId: suppressions.campaignId, n: count() })
    .from(suppressions)
    .where(and(eq(suppressions.reason, 'unsubscribe'), isNotNull(suppressions.campaignId), only ? inArray(suppressions.campaignId, only) : undefined))
    .groupBy(suppressions.campaignId)
  for (const u of unsubs) row(u.campaignId!).readersUnsubscribed = Number(u.n)
  for (const id of only ?? []) row(id)
  return [...byCampaign.values()].sort((a, b) => a.campaignId.localeCompare(b.campaignId))
}

/** What a send or render does with recipients that a cap or their own preferences hold back. */
export type PressureMode = 'skip' | 'reject' | 'ignore'

export interface PressureSkip {
  id: string
  reason: 'rule' | 'preference'
  rule?: { id: string; max: number; window: string; category: string | null }
  preference?: { kind: 'category'; category: string } | { kind: 'frequency'; max: number; window: string }
  /** Sends counted against the cap in its window (0 for a category opted out of). */
  sends: number
  /** When the recipient can be sent this campaign again; null: not until they change their preferences. */
  eligibleAt: string | null
}

export interface PressureReport {
  mode: PressureMode
  /** The campaign's category ('' when none); transactional campaigns are never held back. */
  category: string
  count: number
  recipients: PressureSkip[]
}

/**
 * The caps and preferences of a send of `campaignId` at `at` to these recipients. Counts the sends
 * already recorded (other campaigns; a send of this campaign is replaced, not added), so calls made
 * one after the other respect the caps; two calls running at the same time do not see each other's sends.
 * Transactional campaigns are exempt, and transactional sends are never counted.
 */
export async function applyPressure<R extends { id: string }>(
  deps: Pick<AppDeps, 'meta' | 'events'>,
  campaignId: string,
  recipients: R[],
  opts: { mode: PressureMode; at: number },
): Promise<{ kept: R[]; report: PressureReport }> {
  const [campaign] = await deps.meta.db.select({ settings: campaigns.settings }).from(campaigns).where(eq(campaigns.id, campaignId)).limit(1)
  const category = campaign?.settings.category ?? ''
  const report: PressureReport = { mode: opts.mode, category, count: 0, recipients: [] }
  if (opts.mode === 'ignore' || category === TRANSACTIONAL || recipients.length === 0) return { kept: recipients, report }

  const rules = (await listRules(deps)).filter((r) => r.category === null || r.category === category)
  const ids = recipients.map((r) => r.id)
  let categoriesOnce: Promise<Map<string, string>> | undefined
  const reached = async (ids: readonly string[], caps: CapSpec[]) => {
    const categories = await (categoriesOnce ??= campaignCategories(deps))
    return capsReached(deps.events, ids, { at: opts.at, caps, categories, excludeCampaign: campaignId })
  }
  // The rules' check runs in ClickHouse (its own threads) while the preferences are read from the
  // metadata store (PGlite runs on this thread): the read of 10,000 preferences is hidden in the check.
  const [ruleCaps, prefs] = await Promise.all([rules.length ? reached(ids, rules) : NONE_HELD, preferencesAmong(deps, ids)])
  const withFrequency = [...prefs.values()].filter((p) => p.maxPerWindow !== null)
  if (rules.length === 0 && prefs.size === 0) return { kept: recipients, report }

  // Recipients held at once share their date (a send records one instant for all its recipients), and
  // each recipient held by their own earlier sends has one of their own: the ISO text once per date.
  const isoOf = new Map<number, string>()
  const iso = (ms: number) => {
    let s = isoOf.get(ms)
    if (s === undefined) isoOf.set(ms, (s = new Date(ms).toISOString()))
    return s
  }
  /** Per recipient, the cap that frees them last (the first of those when several free them at once). */
  const binding = new Map<string, { until: number; skip: PressureSkip }>()
  // One description per rule, shared by the recipients it holds.
  const described = rules.map((r) => ({ id: r.id, max: r.max, window: windowName(r.windowDays), category: r.category }))
  for (let j = 0; j < ruleCaps.ids.length; j++) {
    const id = ruleCaps.ids[j]!
    const until = ruleCaps.eligibleAt[j]!
    binding.set(id, { until, skip: { id, reason: 'rule', rule: described[ruleCaps.cap[j]!]!, sends: ruleCaps.sends[j]!, eligibleAt: iso(until) } })
  }
  // Readers' own frequencies: one query per distinct frequency among them (the page offers two).
  const byFrequency = new Map<string, Preferences[]>()
  for (const p of withFrequency) {
    const key = `${p.maxPerWindow!.max}/${p.maxPerWindow!.windowDays}`
    byFrequency.set(key, [...(byFrequency.get(key) ?? []), p])
  }
  for (const group of byFrequency.values()) {
    const f = group[0]!.maxPerWindow!
    const preference = { kind: 'frequency' as const, max: f.max, window: windowName(f.windowDays) }
    const held = await reached(
      group.map((p) => p.recipientId),
      [{ ...f, category: null }],
    )
    for (let j = 0; j < held.ids.length; j++) {
      const id = held.ids[j]!
      const until = held.eligibleAt[j]!
      const had = binding.get(id)
      if (had && until <= had.until) continue
      binding.set(id, { until, skip: { id, reason: 'preference', preference, sends: held.sends[j]!, eligibleAt: iso(until) } })
    }
  }

  const kept: R[] = []
  for (const r of recipients) {
    // A category opted out of wins: it lasts until the reader changes it.
    const skip: PressureSkip | undefined =
      category && prefs.get(r.id)?.categories[category] === false
        ? { id: r.id, reason: 'preference', preference: { kind: 'category', category }, sends: 0, eligibleAt: null }
        : binding.get(r.id)?.skip
    if (skip) report.recipients.push(skip)
    else kept.push(r)
  }
  report.count = report.recipients.length
  if (opts.mode === 'reject' && report.count > 0) {
    throw conflict(`${report.count} recipient(s) are held back by pressure rules or their preferences (pressure: reject): nothing recorded`, { pressure: report })
  }
  return { kept, report }
}

/** Every campaign that has a category, with it. */
export async function campaignCategories(deps: MetaDeps): Promise<Map<string, string>> {
  const rows = await deps.meta.db
    .select({ id: campaigns.id, c: sql<string>`${campaigns.settings}->>'category'` })
    .from(campaigns)
    .where(isNotNull(sql`${campaigns.settings}->>'category'`))
  return new Map(rows.map((r) => [r.id, r.c]))
}

export interface RecipientPressure {
  recipientId: string
  at: string
  window: string
  total: number
  byCategory: Record<string, number>
  sends: Array<{ campaignId: string; category: string; sentAt: string }>
  /** Each rule (and the reader's own frequency) as it stands for this person at `at`. */
  caps: Array<{ source: 'rule' | 'preference'; ruleId: string | null; max: number; window: string; category: string | null; sends: number; reached: boolean; eligibleAt: string | null }>
}

/** One person's sends in (at − window, at], by campaign and category, and where each cap stands. */
export async function recipientPressure(deps: Pick<AppDeps, 'meta' | 'events'>, recipientId: string, o: { at: number; windowDays: number }): Promise<RecipientPressure> {
  const [rules, prefs] = await Promise.all([listRules(deps), getPreferences(deps, recipientId)])
  const capWindows = [...rules.map((r) => r.windowDays), prefs.maxPerWindow?.windowDays ?? 0]
  const longest = Math.max(o.windowDays, ...capWindows)
  const history = await recipientSends(deps.events, [recipientId], { since: o.at - longest * DAY_MS + 1, until: o.at })
  const categories = await categoriesOf(deps, history.map((h) => h.campaignId))
  const all = history.map((h) => ({ ...h, category: categories.get(h.campaignId) ?? '' }))
  const inWindow = all.filter((h) => h.sentAt > o.at - o.windowDays * DAY_MS)
  const byCategory: Record<string, number> = {}
  for (const h of inWindow) byCategory[h.category] = (byCategory[h.category] ?? 0) + 1
  const cap = (source: 'rule' | 'preference', ruleId: string | null, max: number, windowDays: number, category: string | null) => {
    const counted = all.filter((h) => h.category !== TRANSACTIONAL && h.sentAt > o.at - windowDays * DAY_MS && (category === null || h.category === category))
    const reached = counted.length >= max
    return {
      source,
      ruleId,
      max,
      window: windowName(windowDays),
      category,
      sends: counted.length,
      reached,
      eligibleAt: reached ? new Date(counted[counted.length - max]!.sentAt + windowDays * DAY_MS).toISOString() : null,
    }
  }
  return {
    recipientId,
    at: new Date(o.at).toISOString(),
    window: windowName(o.windowDays),
    total: inWindow.length,
    byCategory,
    sends: inWindow.map((h) => ({ campaignId: h.campaignId, category: h.category, sentAt: new Date(h.sentAt).toISOString() })),
    caps: [
      ...rules.map((r) => cap('rule', r.id, r.max, r.windowDays, r.category)),
      ...(prefs.maxPerWindow ? [cap('preference', null, prefs.maxPerWindow.max, prefs.maxPerWindow.windowDays, null)] : []),
    ],
  }
}
