import { z } from '@hono/zod-openapi'

export const DomainSchema = z
  .object({
    host: z.string().openapi({ example: 'click.brand.example' }),
    default: z.boolean().openapi({ description: 'Used by campaigns without a trackingDomain setting' }),
    baseUrl: z.string().openapi({ example: 'https://click.brand.example' }),
    createdAt: z.string(),
  })
  .openapi('TrackingDomain')

export const HostParam = z.object({ host: z.string().min(1).max(253).openapi({ param: { name: 'host', in: 'path' }, example: 'click.brand.example' }) })

export const toDomainResponse = (d: { host: string; default: boolean; baseUrl: string; createdAt: Date }) => ({ ...d, createdAt: d.createdAt.toISOString() })
