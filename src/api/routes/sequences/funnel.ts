import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { sequenceFunnel } from '../../../metrics/sequence-funnel.js'
import { catchUpSequenceMirror, getSequence } from '../../../services/sequences.js'
import type { AppEnv } from '../../context.js'
import { errorResponses } from '../../errors.js'
import { security } from '../../schemas.js'
import { toWindow, WindowQuery } from '../../../metrics/query.js'
import { IntervalSchema } from '../metrics/common.js'
import { SequenceIdParam } from './schemas.js'

const RateSchema = z.object({ value: z.number(), numerator: z.number().int(), denominator: z.number().int(), interval: IntervalSchema })

const StepSchema = z.object({
  stepId: z.string(),
  campaignId: z.string(),
  offset: z.string(),
  due: z.number().int().openapi({ description: 'Entries whose time for this step has come and who had not left at an earlier step' }),
  sent: z.number().int(),
  skipped: z.record(z.string(), z.number().int()).openapi({ description: 'Left when this step was next, by reason (converted, unsubscribed, suppressed, removed, reentered)' }),
  exited: z.number().int(),
  pending: z.number().int().openapi({ description: 'Due, neither sent nor skipped' }),
  opened: z.number().int(),
  clicked: z.number().int(),
  unsubscribed: z.number().int(),
  converted: z.number().int().openapi({ description: 'Sent this step, then converted by the goal (within its window after entry)' }),
  rates: z.object({
    open: RateSchema,
    click: RateSchema,
    unsubscribe: RateSchema,
    conversion: RateSchema,
    continuation: RateSchema.nullable().openapi({ description: 'Sent the next step / sent this one' }),
  }),
  dropOff: z.number().int().nullable().openapi({ description: 'Sent this step − sent the next one' }),
  medianSendToFirstClickMs: z.number().nullable(),
  medianEntryToConversionMs: z.number().nullable(),
})

const SectionSchema = z.object({
  entered: z.number().int(),
  active: z.number().int(),
  completed: z.number().int(),
  exited: z.number().int(),
  converted: z.number().int(),
  conversion: RateSchema,
  medianEntryToConversionMs: z.number().nullable(),
  steps: z.array(StepSchema),
})

export const FunnelSchema = SectionSchema.extend({
  sequenceId: z.string(),
  traffic: z.enum(['human', 'machine', 'all']),
  cohortBy: z.enum(['day', 'week', 'month']),
  goal: z.object({ type: z.string(), within: z.string() }).nullable(),
  cohorts: z.array(SectionSchema.extend({ cohort: z.string().openapi({ description: 'First day (UTC) of the cohort', example: '2026-11-23' }) })),
}).openapi('SequenceFunnel')

const route = createRoute({
  method: 'get',
  path: '/v1/sequences/{id}/funnel',
  operationId: 'getSequenceFunnel',
  tags: ['sequences'],
  summary: 'The sequence step by step: due, sent, skipped, opened, clicked, converted, drop-off; per cohort of entry date',
  description:
    '`from`/`to` bound the entry time (cohorts), not the events. Opens and clicks are people only by default (`traffic`); rates carry numerator, denominator and a 95% Wilson interval. ' +
    'A step\'s opens and clicks are its campaign\'s by the recipients it was sent to. Cohorts are by UTC day, week (from Monday) or month of entry: a change of a step shows in the cohorts that reach it after the change.',
  security,
  request: {
    params: SequenceIdParam,
    query: WindowQuery.extend({
      cohort: z.enum(['day', 'week', 'month']).default('week').openapi({ param: { name: 'cohort', in: 'query' } }),
    }),
  },
  responses: {
    200: { description: 'The funnel', content: { 'application/json': { schema: FunnelSchema } } },
    ...errorResponses(400, 401, 404),
  },
})

export function registerFunnel(app: OpenAPIHono<AppEnv>) {
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const q = c.req.valid('query')
    const w = toWindow(q)
    const seq = await getSequence(deps, c.req.valid('param').id)
    // The exits `due` marked reach ClickHouse after its answer: written before reading.
    await catchUpSequenceMirror(deps)
    return c.json(await sequenceFunnel(deps, seq, { traffic: w.traffic, cohort: q.cohort, from: w.from, to: w.to }), 200)
  })
}
