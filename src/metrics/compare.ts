import type { EventStore } from '../store/clickhouse.js'
import { groupCounts, type GroupCounts } from './facts.js'
import { compareProportions, differenceInterval, projectCount, relativeDifferenceInterval, wilson, type Interval, type Projection, type TestResult } from './statistics.js'
import type { EventWindow } from './sql.js'

export type CompareMetric = 'open_rate' | 'click_rate' | 'click_to_open_rate'

export const METRIC_DEFINITIONS: Record<CompareMetric, string> = {
  open_rate: 'unique openers / sent',
  click_rate: 'unique clickers / sent',
  click_to_open_rate: 'unique clickers / unique recipients who opened or clicked',
}

export interface CompareRow {
  key: string
  sent: number
  trials: number
  successes: number
  rate: Interval
}

export interface Difference {
  key: string
  versus: string
  absolute: Interval
  relative: Interval | null
}

export interface Comparison {
  metric: CompareMetric
  definition: string
  alpha: number
  rows: CompareRow[]
  differences: Difference[]
  test: TestResult
  /** With a list size: each group's expected openers and clickers on a list that large. */
  projection?: { listSize: number; rows: Array<{ key: string; opens: Projection; clicks: Projection }> }
}

function trialsAndSuccesses(g: GroupCounts, metric: CompareMetric): { trials: number; successes: number } {
  if (metric === 'open_rate') return { trials: g.sent, successes: g.uniqueOpeners }
  if (metric === 'click_rate') return { trials: g.sent, successes: g.uniqueClickers }
  return { trials: g.engaged, successes: g.uniqueClickers }
}

/** A group's trials and successes on some rate (the metric decides which counts they are). */
export interface RateGroup {
  key: string
  sent: number
  trials: number
  successes: number
}

/**
 * Rows with their Wilson intervals, each row's difference from the first (the reference) with
 * Newcombe's and Katz's intervals, and the proportion test: every rate comparison (engagement,
 * conversion) goes through here.
 */
export function compareRates(groups: RateGroup[], alpha: number): { rows: CompareRow[]; differences: Difference[]; test: TestResult } {
  const confidence = 1 - alpha
  const rows = groups.map((g) => ({ key: g.key, sent: g.sent, trials: g.trials, successes: g.successes, rate: wilson(g.successes, g.trials, confidence) }))
  const ref = rows[0]
  const differences = ref
    ? rows.slice(1).map((r) => ({
        key: r.key,
        versus: ref.key,
        absolute: differenceInterval(r.successes, r.trials, ref.successes, ref.trials, confidence),
        relative: relativeDifferenceInterval(r.successes, r.trials, ref.successes, ref.trials, confidence),
      }))
    : []
  const test = compareProportions(rows.map((r) => ({ key: r.key, successes: r.successes, n: r.trials })), alpha)
  return { rows, differences, test }
}

/** Engagement groups compared on one metric: see compareRates. */
export function compareGroups(groups: GroupCounts[], metric: CompareMetric, alpha: number): Comparison {
  const { rows, differences, test } = compareRates(groups.map((g) => ({ key: g.key, sent: g.sent, ...trialsAndSuccesses(g, metric) })), alpha)
  return { metric, definition: METRIC_DEFINITIONS[metric], alpha, rows, differences, test }
}

/** Campaigns side by side, in the order given (the first is the reference). */
export async function compareCampaigns(store: EventStore, campaignIds: string[], metric: CompareMetric, alpha: number, w: EventWindow): Promise<Comparison> {
  const counts = new Map((await groupCounts(store, campaignIds, null, w)).map((g) => [g.key, g]))
  const groups = campaignIds.map((id) => counts.get(id) ?? { key: id, sent: 0, uniqueOpeners: 0, uniqueClickers: 0, engaged: 0 })
  return compareGroups(groups, metric, alpha)
}

/** Variants of one campaign side by side (sorted by name; recipients without a variant left out). */
export async function compareVariants(store: EventStore, campaignId: string, metric: CompareMetric, alpha: number, w: EventWindow, listSize?: number): Promise<Comparison> {
  const groups = (await groupCounts(store, [campaignId], { kind: 'variant' }, w)).filter((g) => g.key !== '')
  const result = compareGroups(groups, metric, alpha)
  if (listSize === undefined) return result
  const rows = groups.map((g) => ({ key: g.key, opens: projectCount(g.uniqueOpeners, g.sent, listSize), clicks: projectCount(g.uniqueClickers, g.sent, listSize) }))
  return { ...result, projection: { listSize, rows } }
}

export interface CampaignProjection {
  campaignId: string
  listSize: number
  sent: number
  opens: Projection
  clicks: Projection
}

/** "Test send before the big send": expected unique openers and clickers on a list of `listSize`. */
export async function projectCampaign(store: EventStore, campaignId: string, listSize: number, w: EventWindow): Promise<CampaignProjection> {
  const [g] = await groupCounts(store, [campaignId], null, w)
  const sent = g?.sent ?? 0
  return {
    campaignId,
    listSize,
    sent,
    opens: projectCount(g?.uniqueOpeners ?? 0, sent, listSize),
    clicks: projectCount(g?.uniqueClickers ?? 0, sent, listSize),
  }
}
