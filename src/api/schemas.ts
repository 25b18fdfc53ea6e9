import { z } from '@hono/zod-openapi'
import { trackingToSettings } from '../tracking/click-id.js'
import type { CampaignSettings } from '../store/schema.js'

/** What a campaign id may be, wherever one is given (path, query, body, a list in a query). */
export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/

export const CampaignIdSchema = z.string().regex(CAMPAIGN_ID_PATTERN, 'must be 1-64 letters, digits, _ or -')

/**
 * An instant given by a client for something that happened or will (a send, a conversion): ISO-8601
 * with an offset, in 2000-2099. Years 0001 or 9999 are a client's mistake that would otherwise be
 * stored (and sort every report's first or last event).
 */
export const EventTimeSchema = z.iso
  .datetime({ offset: true })
  .refine((v) => {
    const t = Date.parse(v)
    return t >= Date.UTC(2000, 0, 1) && t < Date.UTC(2100, 0, 1)
  }, 'must be between 2000-01-01 and 2099-12-31')

export const CampaignIdParam = z.object({
  id: CampaignIdSchema.openapi({ param: { name: 'id', in: 'path' }, example: 'spring-sale' }),
})

/** A category of mail: lower-case letters, digits, _ or -. */
export const CategorySchema = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'must be 1-40 lower-case letters, digits, _ or -')

const HexColor = z.string().regex(/^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/, 'must be a colour as #rgb or #rrggbb').openapi({ example: '#0b5' })

export const CampaignSettingsSchema = z
  .object({
    pixel: z.boolean().optional().openapi({ description: 'Open pixel in compiled templates (default true)' }),
    utm: z
      .union([z.boolean(), z.object({ source: z.string().max(200).optional(), medium: z.string().max(200).optional(), campaign: z.string().max(200).optional() })])
      .optional(),
    clickId: z.union([z.boolean(), z.object({ param: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/).optional() })]).optional(),
    domains: z
      .array(
        z
          .string()
          .trim()
          .toLowerCase()
          .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)*$/, 'must be a host name such as shop.example'),
      )
      .max(100)
      .optional()
      .openapi({
        description: 'The sender\'s own domains, each covering its subdomains (added to OWN_DOMAINS): only links to them get UTM parameters and the click id; other links redirect to their plain URL',
        example: ['shop.example'],
      }),
    test: z.boolean().optional().openapi({
      description: 'A test send: clicks soon after the send are not marked too_soon_after_send (a person checking a test send clicks at once); the other machine rules still apply',
    }),
    category: CategorySchema.optional().openapi({
      description: 'Kind of mail: what pressure rules and readers\' preferences are about. `transactional` is exempt from caps and preferences',
      example: 'promotion',
    }),
    brand: z
      .object({
        name: z.string().trim().min(1).max(200).optional().openapi({ description: 'The sender named on the reader\'s preference page (default: the campaign name)', example: 'Shop & Co' }),
        accentColor: HexColor.optional(),
        backgroundColor: HexColor.optional(),
        textColor: HexColor.optional(),
      })
      .strict()
      .optional()
      .openapi({ description: 'How the reader\'s preference and unsubscribe page names and colours the sender' }),
    fallbackUrl: z
      .string()
      .min(1)
      .max(8192)
      .optional()
      .openapi({ description: 'Where clicks on a retired link without its own fallback go (default: an "offer ended" page, 410)', example: 'https://shop.example/' }),
    trackingDomain: z
      .string()
      .min(1)
      .max(253)
      .optional()
      .openapi({ description: 'A registered tracking domain (POST /v1/domains) its tracked URLs are rendered on; default: the default domain, else PUBLIC_BASE_URL', example: 'click.brand.example' }),
  })
  .strict()
  .openapi('CampaignSettings')

/**
 * The short input form of settings.clickId / settings.utm, accepted on create and update and
 * stored as those settings (tracking/click-id.ts trackingToSettings): never stored as is.
 */
export const CampaignTrackingSchema = z
  .object({
    clickIdParam: z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'must be 1-40 letters, digits, _ . or -').nullable().optional(),
    utm: z.boolean().optional(),
  })
  .strict()
  .openapi({ description: 'Redirect decoration: signed click id under clickIdParam (null: none), utm_* parameters' })

/** Settings as given on create and update: the stored keys, plus `tracking`, the short form of clickId and utm. */
export const CampaignSettingsInputSchema = CampaignSettingsSchema.extend({ tracking: CampaignTrackingSchema.optional() })
  .strict()
  .openapi('CampaignSettingsInput', { example: { tracking: { clickIdParam: 'sl_cid', utm: true }, domains: ['shop.example'] } })

/** `settings` (with its `tracking` short form) and a top-level `tracking` → what is stored; the top-level form wins. */
export function storedSettings(
  settings: z.output<typeof CampaignSettingsInputSchema> | undefined,
  tracking: z.output<typeof CampaignTrackingSchema> | undefined,
): CampaignSettings | undefined {
  if (!settings && !tracking) return undefined
  const { tracking: inner, ...rest } = settings ?? {}
  return { ...rest, ...trackingToSettings(inner), ...trackingToSettings(tracking) }
}

export const CampaignSchema = z
  .object({
    id: z.string().openapi({ example: 'spring-sale' }),
    name: z.string().openapi({ example: 'Spring sale 2026' }),
    settings: CampaignSettingsSchema,
    createdAt: z.string().openapi({ example: '2026-11-23T09:00:00.000Z' }),
  })
  .openapi('Campaign')

export const LinkSchema = z
  .object({
    id: z.string().openapi({ example: 'x7Kq2mB9aP0z' }),
    campaignId: z.string(),
    url: z.string().openapi({ example: 'https://shop.example/spring' }),
    label: z.string().openapi({ example: 'Hero button' }),
    position: z.number().int(),
    version: z.number().int().openapi({ description: '0 as created, +1 per change (PATCH)' }),
    disabled: z.boolean().openapi({ description: 'Retired: clicks are recorded and go to the fallback, or to an "offer ended" page (410)' }),
    fallbackUrl: z.string().nullable(),
    originalUrl: z.string().nullable().openapi({ description: 'The URL it was created with, once changed (null: never changed)' }),
  })
  .openapi('Link')

export const LinkIdParam = CampaignIdParam.extend({
  linkId: z.string().min(1).max(128).openapi({ param: { name: 'linkId', in: 'path' }, example: 'x7Kq2mB9aP0z' }),
})

/** What a paged list answers besides its items: the total, and the offset of the next page (null on the last). */
export const PageInfo = {
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
  next: z.number().int().nullable().openapi({ description: 'offset of the next page; null on the last page' }),
}

export function pageInfo(q: { limit: number; offset: number }, total: number) {
  return { total, limit: q.limit, offset: q.offset, next: q.offset + q.limit < total ? q.offset + q.limit : null }
}

export const Pagination = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
})

export const security = [{ bearer: [] as string[] }]

/** A required JSON request body, the one shape every write endpoint takes. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { required: true, content: { 'application/json': { schema } } } as const
}

export function toCampaign(c: { id: string; name: string; settings: object; createdAt: Date }) {
  return { id: c.id, name: c.name, settings: c.settings, createdAt: c.createdAt.toISOString() }
}
