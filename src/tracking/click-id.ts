import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Config } from '../config.js'
import { loadOrCreateSecret } from './token.js'

/** Bytes of HMAC-SHA256 kept: 96 bits, as for recipient tokens. */
const MAC_BYTES = 12
const MAC_CHARS = 16
/** Signed messages start with this, so no recipient token's MAC can ever verify as a click id's (and back). */
const DOMAIN = 'sillage/click-id/v1\n'
const VERSION = '1'
const MAX_LENGTH = 1024

/** What a click id carries: the click event and who made it, enough to attribute a conversion without a lookup. */
export interface ClickIdPayload {
  eventId: string
  /** Milliseconds since the epoch of the click. */
  ts: number
  campaignId: string
  linkId: string
  /** Empty when the click's recipient token was invalid. */
  recipientId: string
}

/**
 * `base64url("1" TAB eventId TAB ts36 TAB campaignId TAB linkId TAB recipientId) "." base64url(mac)`.
 * The MAC is a truncated HMAC-SHA256 under the tracker secret over a domain string and the payload.
 */
export class ClickIdCodec {
  private readonly keys: Buffer[]

  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('at least one tracker secret is needed')
    this.keys = secrets.map((s) => Buffer.from(s, 'utf8'))
  }

  sign(p: ClickIdPayload): string {
    const payload = VERSION + '\t' + p.eventId + '\t' + p.ts.toString(36) + '\t' + p.campaignId + '\t' + p.linkId + '\t' + p.recipientId
    return Buffer.from(payload, 'utf8').toString('base64url') + '.' + this.mac(this.keys[0]!, payload).toString('base64url')
  }

  /** The payload, or null when the id is forged, damaged or not a click id. */
  verify(clickId: string): ClickIdPayload | null {
    if (clickId.length > MAX_LENGTH) return null
    const dot = clickId.lastIndexOf('.')
    if (dot <= 0 || clickId.length - dot - 1 !== MAC_CHARS) return null
    const given = Buffer.from(clickId.slice(dot + 1), 'base64url')
    if (given.length !== MAC_BYTES) return null
    const encoded = clickId.slice(0, dot)
    const payload = Buffer.from(encoded, 'base64url').toString('utf8')
    if (Buffer.from(payload, 'utf8').toString('base64url') !== encoded) return null
    let ok = false
    for (const key of this.keys) if (timingSafeEqual(given, this.mac(key, payload))) ok = true
    if (!ok) return null
    const f = payload.split('\t')
    if (f.length !== 6 || f[0] !== VERSION) return null
    const ts = parseInt(f[2]!, 36)
    if (!Number.isFinite(ts) || !f[1] || !f[3] || !f[4]) return null
    return { eventId: f[1], ts, campaignId: f[3], linkId: f[4], recipientId: f[5]! }
  }

  private mac(key: Buffer, payload: string): Buffer {
    return createHmac('sha256', key).update(DOMAIN).update(payload).digest().subarray(0, MAC_BYTES)
  }
}

const codecs = new WeakMap<Config, ClickIdCodec>()

/** The codec for a running config: same secrets as the recipient tokens (current signs, old ones verify). */
export function clickIdCodecFor(config: Config): ClickIdCodec {
  let codec = codecs.get(config)
  if (!codec) {
    codec = new ClickIdCodec([loadOrCreateSecret(config.dataDir, config.trackerSecret), ...config.trackerOldSecrets])
    codecs.set(config, codec)
  }
  return codec
}

/** The API's `tracking: {clickIdParam, utm}` form of a campaign's decoration settings. */
export interface TrackingInput {
  clickIdParam?: string | null | undefined
  utm?: boolean | undefined
}

/** `tracking` → the stored settings (`clickId`, `utm`); fields not given are left out. */
export function trackingToSettings(t: TrackingInput | undefined): { clickId?: boolean | { param: string }; utm?: boolean } {
  if (!t) return {}
  const out: { clickId?: boolean | { param: string }; utm?: boolean } = {}
  if (t.clickIdParam !== undefined) out.clickId = t.clickIdParam === null ? false : { param: t.clickIdParam }
  if (t.utm !== undefined) out.utm = t.utm
  return out
}
