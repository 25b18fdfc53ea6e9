/**
 * sillage/sdk: render tracked messages in your own pipeline, with the server's secret.
 *
 *   import { createSillage } from 'sillage/sdk'
 *   const sillage = createSillage({ secret: process.env.TRACKER_SECRET!, publicBaseUrl: 'https://t.example.com' })
 *   // `template` is the body of POST /v1/campaigns/:id/templates (or GET …/templates/:templateId)
 *   const render = sillage.renderer(template)
 *   const { html, text, headers } = render('cust-42')
 *
 * The output is byte for byte what POST /v1/campaigns/:id/render returns for the same recipient.
 * Rendering locally records no send: post the recipients to /v1/campaigns/:id/sends as well,
 * or the rates have no denominator.
 */
import { TokenCodec } from '../tracking/token.js'
import { clickUrl, pixelUrl, unsubscribeUrl } from '../tracking/urls.js'
import { createRenderer, type RenderableTemplate, type RenderedRecipient } from './render.js'

export type { CompiledTemplate } from '../rewrite/types.js'
export { createRenderer, normaliseMailto, type RenderableTemplate, type RenderedRecipient, type RendererOptions } from './render.js'

export interface SillageOptions {
  /** TRACKER_SECRET of the server (the signing one). */
  secret: string
  /** Former secrets, accepted by `verify` after a rotation. */
  oldSecrets?: string[]
  /** The server's PUBLIC_BASE_URL: tracked URLs start with it unless a template or call names a tracking domain's. */
  publicBaseUrl: string
  /** Adds `<mailto:…>` to List-Unsubscribe (RFC 2369). */
  unsubscribeMailto?: string
}

export function createSillage(options: SillageOptions) {
  const codec = new TokenCodec([options.secret, ...(options.oldSecrets ?? [])])
  const base = options.publicBaseUrl.replace(/\/+$/, '')
  const sign = (campaignId: string, recipientId: string) => codec.sign(campaignId, recipientId)
  const trim = (u: string | undefined) => u?.replace(/\/+$/, '')
  const baseFor = (t: RenderableTemplate, given?: string) => trim(given) ?? trim(t.trackingBaseUrl) ?? base
  return {
    /** The recipient's token for a campaign (the same as the server's). */
    token: sign,
    /** The recipient id a token carries, or null when it is not valid for the campaign. */
    verify: (campaignId: string, token: string) => codec.verify(campaignId, token),
    /** `baseUrl`: a tracking domain's (`https://click.brand.example`), else publicBaseUrl. */
    clickUrl: (campaignId: string, linkId: string, recipientId: string, baseUrl?: string) => clickUrl(trim(baseUrl) ?? base, linkId, sign(campaignId, recipientId)),
    pixelUrl: (campaignId: string, recipientId: string, baseUrl?: string) => pixelUrl(trim(baseUrl) ?? base, campaignId, sign(campaignId, recipientId)),
    unsubscribeUrl: (campaignId: string, recipientId: string, baseUrl?: string) => unsubscribeUrl(trim(baseUrl) ?? base, campaignId, sign(campaignId, recipientId)),
    /**
     * A renderer for one template: call it once per recipient. Its URLs are on `opts.baseUrl`, else the template's
     * trackingBaseUrl (the campaign's tracking domain, as the API returned the template), else publicBaseUrl.
     */
    renderer: (template: RenderableTemplate, opts: { unsubscribeMailto?: string; baseUrl?: string } = {}) =>
      createRenderer(template, { publicBaseUrl: baseFor(template, opts.baseUrl), sign, unsubscribeMailto: opts.unsubscribeMailto ?? options.unsubscribeMailto }),
    render: (template: RenderableTemplate, recipientId: string): RenderedRecipient =>
      createRenderer(template, { publicBaseUrl: baseFor(template), sign, unsubscribeMailto: options.unsubscribeMailto })(recipientId),
  }
}

export type Sillage = ReturnType<typeof createSillage>
