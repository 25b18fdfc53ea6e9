/*
 * The tracked URLs the edge answers, built from the public base URL. Free of any store import:
 * the SDK (sillage/sdk) builds the same URLs in a sender's process without loading ClickHouse.
 */

export function pixelUrl(base: string, campaignId: string, token: string): string {
  return `${base}/o/${encodeURIComponent(campaignId)}/${token}.gif`
}

export function clickUrl(base: string, linkId: string, token: string): string {
  return `${base}/c/${linkId}/${token}`
}

/** The one-click unsubscribe URL (GET: confirmation page, POST: RFC 8058 one-click). */
export function unsubscribeUrl(base: string, campaignId: string, token: string): string {
  return `${base}/u/${encodeURIComponent(campaignId)}/${token}`
}
