import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { bodyLimit } from 'hono/body-limit'
import { createTemplate, MAX_LINKS_PER_TEMPLATE, toTemplateResponse } from '../../../services/templates.js'
import { getCampaign } from '../../../services/campaigns.js'
import { trackingBaseUrl } from '../../../services/domains.js'
import type { AppEnv } from '../../context.js'
import { errorBody, errorResponses } from '../../errors.js'
import { CampaignIdParam, jsonBody, security } from '../../schemas.js'
import { TemplateSchema } from './template-schema.js'

/** A real e-mail is well under 1 MB (Gmail clips past 102 KB); 5 MB leaves room and bounds the parse. */
export const MAX_TEMPLATE_BODY_BYTES = 5 * 1024 * 1024

const CompileOptionsSchema = z
  .object({
    pixel: z.boolean().optional().openapi({ description: 'Insert the open pixel before </body> (default true; off when the campaign sets pixel: false)' }),
    honeypot: z.boolean().optional().openapi({ description: 'Insert one invisible link after <body> to catch link-scanning bots; registered with label __honeypot__' }),
    optOutAttribute: z.string().min(1).max(64).optional().openapi({ description: 'Attribute whose value "off" leaves a link alone (default data-sillage)' }),
    bracketMergeTags: z.boolean().optional().openapi({ description: 'Treat [..] in an href as a merge tag (default false)' }),
  })
  .strict()

const route = createRoute({
  method: 'post',
  path: '/v1/campaigns/{id}/templates',
  operationId: 'createTemplate',
  tags: ['senders'],
  summary: 'Compile an e-mail template: track its links, add the pixel',
  description:
    'Parses the HTML (and text part) once, registers each tracked link occurrence as its own link (position, label from the anchor text, alt text or data-label), ' +
    'and stores the compiled template for /render and the SDK. `html`/`text` in the answer are the tracked template with `{{sillage.token}}` standing for each ' +
    'recipient\'s token (click URLs name their link ids). Links left alone are listed under `skipped` with the reason. ' +
    '`{{sillage.unsubscribe}}`, written in an href, in visible text or in the text part, becomes each recipient\'s unsubscribe page URL (`/u/:campaign/:token`, the one List-Unsubscribe names) when rendered: the visible opt-out in the body; it is never a tracked link. Body limit 5 MB (413); ' +
    `at most ${MAX_LINKS_PER_TEMPLATE} tracked links a template (more: 400 naming body.html).`,
  security,
  request: {
    params: CampaignIdParam,
    body: jsonBody(
      z
        .object({
          html: z.string().openapi({ example: '<html><body><a href="https://shop.example/">Shop</a><p><a href="{{sillage.unsubscribe}}">Unsubscribe</a></p></body></html>' }),
          text: z.string().optional(),
          options: CompileOptionsSchema.optional(),
        })
        .strict(),
    ),
  },
  responses: {
    201: { description: 'Template compiled and its links registered', content: { 'application/json': { schema: TemplateSchema } } },
    ...errorResponses(400, 401, 404, 413, 415),
  },
})

export function registerCreateTemplate(app: OpenAPIHono<AppEnv>) {
  app.use(
    '/v1/campaigns/:id/templates',
    bodyLimit({
      maxSize: MAX_TEMPLATE_BODY_BYTES,
      onError: (c) => c.json(errorBody(c, 'payload_too_large', `a template body is limited to ${MAX_TEMPLATE_BODY_BYTES} bytes (5 MB)`), 413),
    }),
  )
  app.openapi(route, async (c) => {
    const deps = c.get('deps')
    const { id } = c.req.valid('param')
    const body = c.req.valid('json')
    const t = await createTemplate(deps, id, body)
    const base = await trackingBaseUrl(deps, (await getCampaign(deps, id)).settings)
    return c.json(toTemplateResponse(base, t) as never, 201)
  })
}
