import type { Context } from 'hono'
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { recordConversions, type ConversionInput } from '../../../conversions/ingest.js'
import type { AppEnv } from '../../context.js'
import { errorBody, errorResponses } from '../../errors.js'
import { describeIssues } from '../../../util/errors.js'
import { jsonBody, security } from '../../schemas.js'
import { ConversionResultSchema, ConversionSchema, MAX_BATCH } from './schemas.js'

const BatchSchema = z.object({ conversions: z.array(ConversionSchema).min(1).max(MAX_BATCH) }).strict()

const ResultSchema = z.union([
  ConversionResultSchema,
  z.object({ created: z.number().int(), duplicates: z.number().int(), results: z.array(ConversionResultSchema) }),
])

const route = createRoute({
  method: 'post',
  path: '/v1/conversions',
  operationId: 'createConversion',
  tags: ['conversions'],
  summary: 'Record a conversion (purchase or any goal), or a batch of them',
  description:
    'Idempotent per orderId: an order already recorded answers 200 with duplicate: true and is not counted again. ' +
    'With clickId the conversion is attributed to that click; with only recipientId (and optionally campaignId) it is attributed ' +
    "when metrics are queried, to the recipient's last click (or open) within the attribution window; otherwise it is stored as unattributed. " +
    'A batch ({conversions: [...]}, at most 10,000) is validated whole before anything is written.',
  security,
  request: {
    body: jsonBody(
      z.union([ConversionSchema, BatchSchema]).openapi({
        example: { clickId: 'MQlhYmMtMQ…', orderId: 'order-10042', amount: '49.90', currency: 'EUR' },
      }),
    ),
  },
  responses: {
    201: { description: 'Recorded (a batch: at least one new order)', content: { 'application/json': { schema: ResultSchema } } },
    200: { description: 'Already recorded (duplicate: true); a batch with no new order', content: { 'application/json': { schema: ResultSchema } } },
    ...errorResponses(400, 401, 413, 415, 503),
  },
})

type Parsed = z.infer<typeof ConversionSchema>

function toInput(c: Parsed): ConversionInput {
  return { ...c, at: c.at === undefined ? undefined : Date.parse(c.at) }
}

export function registerCreateConversion(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    route,
    async (c) => {
    const body = c.req.valid('json')
    const deps = c.get('deps')
    if ('conversions' in body) {
      const results = await recordConversions(deps, body.conversions.map(toInput), { invalidClickId: 'reject', source: 'api', field: (i) => `body.conversions.${i}` })
      const created = results.filter((r) => !r.duplicate).length
      return c.json({ created, duplicates: results.length - created, results }, created > 0 ? 201 : 200)
    }
    const [result] = await recordConversions(deps, [toInput(body)], { invalidClickId: 'reject', source: 'api', field: () => 'body' })
    return c.json(result!, result!.duplicate ? 200 : 201)
    },
    // A failed union names no field: validate again against the form the body is in, so the 400 names it.
    (async (result: { success: boolean; error?: { issues: z.core.$ZodIssue[] } }, c: Context<AppEnv>) => {
      if (result.success) return undefined
      const raw: unknown = await c.req.json()
      const batch = typeof raw === 'object' && raw !== null && 'conversions' in raw
      const again = (batch ? BatchSchema : ConversionSchema).safeParse(raw)
      const { message, details } = describeIssues('body', again.success ? (result.error?.issues ?? []) : again.error.issues)
      return c.json(errorBody(c, 'validation_failed', message, details), 400)
    }) as never,
  )
}
