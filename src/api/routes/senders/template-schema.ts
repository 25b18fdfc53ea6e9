import { z } from '@hono/zod-openapi'

export const TemplateSchema = z
  .object({
    id: z.string(),
    campaignId: z.string(),
    trackingBaseUrl: z.string().openapi({ description: "Where the campaign's tracked URLs start (its tracking domain); the SDK renderer uses it", example: 'https://click.brand.example' }),
    createdAt: z.string(),
    html: z.string().openapi({ description: 'Tracked template; {{sillage.token}} stands for the recipient token' }),
    text: z.string().nullable(),
    links: z.array(z.object({ id: z.string(), url: z.string(), label: z.string(), position: z.number().int(), part: z.enum(['html', 'text']) })),
    skipped: z.array(z.object({ href: z.string(), reason: z.string(), part: z.enum(['html', 'text']) })),
    honeypotLinkId: z.string().nullable(),
    pixel: z.boolean(),
    compiled: z.unknown().openapi({ description: 'The compiled template (fragments and holes), input of the SDK renderer' }),
  })
  .openapi('Template')
