import type { AppDeps } from '../deps.js'
import { DomainError } from '../util/errors.js'
import { createJsonRenderer, normaliseMailto } from '../sdk/render.js'
import { getCampaign } from './campaigns.js'
import { trackingBaseUrl } from './domains.js'
import { recordSendsUnlessSuppressed, type SendRecipient } from './sends.js'
import type { PressureMode } from './pressure.js'
import type { OnSuppressed, Suppression } from './suppressions.js'
import { getTemplate, type StoredTemplate } from './templates.js'

export interface RenderRequest {
  templateId?: string | undefined
  recipients: SendRecipient[]
  onSuppressed: OnSuppressed
  pressure?: PressureMode | undefined
  unsubscribeMailto?: string | undefined
  sentAt?: Date | undefined
  sequence?: { id: string; stepId: string } | undefined
}

/**
 * Everything a render call does before its first byte: checks, suppressions, the sends
 * recorded in one insert. What is returned renders lazily, one recipient at a time, so the
 * caller can stream and memory stays flat however long the list.
 */
export async function prepareRender(deps: Pick<AppDeps, 'meta' | 'links' | 'events' | 'tokens' | 'config' | 'clock'>, campaignId: string, req: RenderRequest) {
  const campaign = await getCampaign(deps, campaignId)
  const template: StoredTemplate = await getTemplate(deps, campaignId, req.templateId)
  let mailto: string | undefined
  if (req.unsubscribeMailto !== undefined) {
    const m = normaliseMailto(req.unsubscribeMailto)
    if (m === null) throw new DomainError('validation_failed', `body.unsubscribeMailto: not an e-mail address or mailto: URL usable in a header`)
    mailto = m
  }
  const { kept, report, suppressed, pressure, sequence } = await recordSendsUnlessSuppressed(deps, campaignId, req.recipients, {
    onSuppressed: req.onSuppressed,
    pressure: req.pressure,
    sentAt: req.sentAt,
    sequence: req.sequence,
    refused: 'nothing rendered or recorded',
  })
  const render = createJsonRenderer(template, {
    publicBaseUrl: await trackingBaseUrl(deps, campaign.settings),
    sign: (c, r) => deps.tokens.sign(c, r),
    unsubscribeMailto: mailto,
  })
  /** Each recipient's JSON object `{id, html, text, headers, suppressed?}`, rendered on demand. */
  function* lines(): Generator<string> {
    for (const r of kept) {
      const s: Suppression | undefined = suppressed.get(r.id)
      yield render(r.id, s ? { suppressed: { scope: s.scope, reason: s.reason } } : undefined)
    }
  }
  return { template, report, pressure, sequence, count: kept.length, lines }
}
