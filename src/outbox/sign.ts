import { randomBytes } from 'node:crypto'
import { Webhook } from 'standardwebhooks'

/** A Standard Webhooks secret: `whsec_` and 24 random bytes in base64 (the key the receiver's library decodes). */
export function newSecret(): string {
  return 'whsec_' + randomBytes(24).toString('base64')
}

/** Signers are cached per secret: building one decodes the key. */
const signers = new Map<string, Webhook>()

function signer(secret: string): Webhook {
  let w = signers.get(secret)
  if (!w) {
    if (signers.size > 10_000) signers.clear()
    w = new Webhook(secret)
    signers.set(secret, w)
  }
  return w
}

/**
 * The Standard Webhooks headers of one request. Every secret given signs (a rotation's old and new
 * one, for the overlap): the signature header lists each `v1,<base64>` separated by a space, and a
 * receiver accepts any that matches its key.
 */
export function signatureHeaders(msgId: string, body: string, secrets: readonly string[], now: Date): Record<string, string> {
  const seconds = Math.floor(now.getTime() / 1000)
  const at = new Date(seconds * 1000)
  return {
    'webhook-id': msgId,
    'webhook-timestamp': String(seconds),
    'webhook-signature': secrets.map((s) => signer(s).sign(msgId, at, body)).join(' '),
  }
}
