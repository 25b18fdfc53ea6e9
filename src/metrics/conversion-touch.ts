import { DEFAULT_WINDOW_MS, type AttributionOptions } from './attribution.js'

export interface TimelineConversion {
  orderId: string
  at: string
  type: string
  amount: string
  currency: string
  attribution: 'click' | 'recipient' | 'unattributed'
  /** The touch that led to it: the click of its click id, or the last click (or open) within the window. */
  touch: { type: 'click' | 'open'; campaignId: string; linkId: string; at: string | null } | null
}

/**
 * How one stored conversion row is attributed, and the touch that led to it: for a timeline that
 * already reads the row (`campaign_id`, `link_id`, `extra`, `ts`), no further query.
 */
export function conversionTouch(
  row: { at: number; campaignId: string; linkId: string; extra: string },
  opts: Pick<AttributionOptions, 'windowMs' | 'model'> = {},
): Pick<TimelineConversion, 'attribution' | 'touch'> {
  let extra: { clickTs?: number; lastClick?: { campaign: string; link: string; ts: number; type: string }; lastTouch?: { campaign: string; link: string; ts: number; type: string } } = {}
  try {
    extra = row.extra ? JSON.parse(row.extra) : {}
  } catch {
    extra = {}
  }
  if (row.linkId) {
    return { attribution: 'click', touch: { type: 'click', campaignId: row.campaignId, linkId: row.linkId, at: extra.clickTs ? new Date(extra.clickTs).toISOString() : null } }
  }
  const t = opts.model === 'open' ? extra.lastTouch : extra.lastClick
  if (t && t.campaign && t.ts >= row.at - (opts.windowMs ?? DEFAULT_WINDOW_MS)) {
    return { attribution: 'recipient', touch: { type: t.type === 'open' ? 'open' : 'click', campaignId: t.campaign, linkId: t.link, at: new Date(t.ts).toISOString() } }
  }
  return { attribution: 'unattributed', touch: null }
}
