import { z } from '@hono/zod-openapi'
import { isCurrency, parseAmount } from '../../../conversions/money.js'
import { CampaignIdSchema, EventTimeSchema } from '../../schemas.js'

export const MAX_BATCH = 10_000
/** Line items per conversion. */
export const MAX_ITEMS = 100

export const AmountSchema = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const a = parseAmount(v)
    if (a === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a non-negative decimal with at most 4 decimals, as a string ("19.99") or a number' })
      return z.NEVER
    }
    return a
  })
  .openapi({ type: 'string', example: '49.90', description: 'Decimal string (exact) or number; ≥ 0, at most 4 decimals' })

export const CurrencySchema = z
  .string()
  .refine(isCurrency, 'must be an ISO 4217 currency code (3 capital letters, e.g. EUR)')
  .openapi({ example: 'EUR' })

/**
 * One line item, bounded and flat: what the product reports read (sku, name, category, quantity,
 * price). Unknown fields are refused, so a client's nested or oversized object is a 400 naming it,
 * never something the event serialisation chokes on.
 */
export const ConversionItemSchema = z
  .object({
    sku: z.string().trim().min(1).max(100).optional().openapi({ example: 'TSHIRT-RED-M', description: 'Product or variant id, 1-100 characters' }),
    name: z.string().max(200).optional().openapi({ example: 'T-shirt, red, M', description: 'At most 200 characters' }),
    category: z.string().max(100).optional().openapi({ example: 'apparel', description: 'At most 100 characters' }),
    quantity: z.number().int().min(1).max(1_000_000).default(1).openapi({ example: 2, description: 'Integer 1-1,000,000 (default 1)' }),
    price: AmountSchema.optional().openapi({ type: 'string', example: '19.90', description: 'Unit price in the conversion\'s currency, exact decimal' }),
  })
  .strict()
  .openapi('ConversionItem')

export const ConversionSchema = z
  .object({
    orderId: z.string().trim().min(1).max(200).openapi({ example: 'order-10042', description: 'Idempotency key: the same order id counts once' }),
    clickId: z.string().min(1).max(1024).optional().openapi({ description: 'The signed click id the redirect appended (sl_cid)' }),
    campaignId: CampaignIdSchema.optional(),
    recipientId: z.string().min(1).max(256).optional().openapi({ example: 'dupond@example.org' }),
    amount: AmountSchema.optional(),
    currency: CurrencySchema.optional(),
    type: z.string().regex(/^[a-z0-9_-]{1,40}$/, 'must be 1-40 lowercase letters, digits, _ or -').optional().openapi({ example: 'purchase', description: 'Goal kind (default purchase); lifecycle figures use purchases' }),
    at: EventTimeSchema.optional().openapi({ example: '2026-11-23T10:15:00Z', description: 'When it happened (default: now)' }),
    items: z.array(ConversionItemSchema).max(MAX_ITEMS).optional().openapi({ description: `Line items, at most ${MAX_ITEMS} (stored in the event's extra.items)` }),
  })
  .strict()
  .openapi('ConversionInput')

export const AttributionSchema = z
  .object({
    status: z.enum(['click', 'recipient', 'unattributed']),
    campaignId: z.string().optional(),
    linkId: z.string().optional(),
    recipientId: z.string().optional(),
    reason: z.enum(['invalid_click_id', 'no_identity']).optional(),
  })
  .openapi('ConversionAttribution')

export const ConversionResultSchema = z
  .object({
    orderId: z.string(),
    eventId: z.string(),
    duplicate: z.boolean(),
    attribution: AttributionSchema,
  })
  .openapi('ConversionResult')

const RevenueSchema = z.record(z.string(), z.string()).openapi({ example: { EUR: '1234.50' }, description: "Per currency, decimal strings in the currency's own decimals (EUR \"60.00\", JPY \"1000\"), from the exact sums" })

/** The `conversions` object of stats, links/stats and segments rows. */
export const ConversionBlockSchema = z
  .object({
    total: z.number().int().openapi({ description: 'Orders attributed (each order id once)' }),
    converters: z.number().int().openapi({ description: 'Distinct recipients among them' }),
    rate: z.number().openapi({ description: 'converters / sent' }),
    clickers: z.number().int().openapi({ description: 'The denominator of clickerRate: unique clickers of the row' }),
    clickerRate: z.number().openapi({ description: 'converters / clickers' }),
    revenue: RevenueSchema,
    revenuePerRecipient: RevenueSchema.openapi({ description: 'revenue / sent, per currency' }),
    averageOrderValue: RevenueSchema.openapi({ description: 'revenue / orders in that currency' }),
  })
  .openapi('ConversionFigures', {
    example: { total: 42, converters: 40, rate: 0.004, clickers: 610, clickerRate: 0.0656, revenue: { EUR: '2100.00' }, revenuePerRecipient: { EUR: '0.21' }, averageOrderValue: { EUR: '50.00' } },
  })

export const CONVERSIONS_NOTE =
  '`conversions`: orders attributed to the campaign (a click id → its click; a recipient id alone → the last human click, or click or open with attribution=open, at most `attributionWindow` before, default 7d), each order id once, `from`/`to` bounding the conversion time; revenue per currency, exact.'
