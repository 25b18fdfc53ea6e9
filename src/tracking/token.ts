import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'

/** Bytes of HMAC-SHA256 kept in a token: 96 bits, far past guessing at any request rate. */
const MAC_BYTES = 12

/**
 * One token per (campaign, recipient): `base64url(recipientId) "." base64url(mac)`, where mac is a
 * truncated HMAC-SHA256 over the campaign and recipient ids. The recipient id travels in the token,
 * so verifying needs no database; the campaign comes from the URL (or from the link).
 */
export class TokenCodec {
  private readonly keys: Buffer[]

  /** The first secret signs; all of them verify, so a rotation keeps earlier e-mails working. */
  constructor(secrets: string[]) {
    if (secrets.length === 0) throw new Error('at least one tracker secret is needed')
    this.keys = secrets.map((s) => Buffer.from(s, 'utf8'))
  }

  sign(campaignId: string, recipientId: string): string {
    return Buffer.from(recipientId, 'utf8').toString('base64url') + '.' + this.mac(this.keys[0]!, campaignId, recipientId).toString('base64url')
  }

  /** The recipient id the token carries, or null when it is forged, damaged or for another campaign. */
  verify(campaignId: string, token: string): string | null {
    const dot = token.lastIndexOf('.')
    if (dot <= 0 || token.length - dot - 1 !== 16) return null
    const given = Buffer.from(token.slice(dot + 1), 'base64url')
    if (given.length !== MAC_BYTES) return null
    const recipientId = Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')
    // base64url decoding is lenient: re-encode to reject tokens that are not canonical.
    if (!recipientId || Buffer.from(recipientId, 'utf8').toString('base64url') !== token.slice(0, dot)) return null
    for (const key of this.keys) {
      if (timingSafeEqual(given, this.mac(key, campaignId, recipientId))) return recipientId
    }
    return null
  }

  private mac(key: Buffer, campaignId: string, recipientId: string): Buffer {
    return createHmac('sha256', key).update(campaignId).update('\n').update(recipientId).digest().subarray(0, MAC_BYTES)
  }
}

/** TRACKER_SECRET when set; otherwise a secret generated once and kept under DATA_DIR. */
export function loadOrCreateSecret(dataDir: string, configured?: string): string {
  if (configured) return configured
  const file = join(dataDir, 'tracker-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  mkdirSync(dirname(file), { recursive: true })
  const secret = randomBytes(32).toString('base64url')
  writeFileSync(file, secret + '\n', { mode: 0o600, flag: 'wx' })
  chmodSync(file, 0o600)
  return secret
}
