import { z } from '@hono/zod-openapi'
import { API_KEY_ROLES } from '../../../store/schema.js'

export const ApiKeyRoleSchema = z.enum(API_KEY_ROLES).openapi({
  description: 'admin: everything, including managing API keys; member: everything but managing API keys',
  example: 'member',
})

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: 'k3Xq9mB2aP0z' }),
    name: z.string().openapi({ example: 'dashboard' }),
    prefix: z.string().openapi({ example: 'sk_3q0V', description: 'The first characters of the key, to recognise it' }),
    role: ApiKeyRoleSchema,
    revoked: z.boolean(),
    createdAt: z.string(),
  })
  .openapi('ApiKey')

export const ApiKeyIdParam = z.object({ id: z.string().min(1).max(64).openapi({ param: { name: 'id', in: 'path' }, example: 'k3Xq9mB2aP0z' }) })

export const ADMIN_ONLY =
  'Admin only: the bootstrap key (TRACKER_ADMIN_KEY) or a key with role admin; any other key gets 403 forbidden.'
