import type { OpenAPIHono } from '@hono/zod-openapi'
import type { AppEnv } from '../../context.js'
import { registerCreateWebhook } from './create.js'
import { registerListDeliveries } from './deliveries.js'
import { registerDeleteWebhook } from './delete.js'
import { registerGetWebhook } from './get.js'
import { registerListWebhooks } from './list.js'
import { registerReplayWebhook } from './replay.js'
import { registerRetryDelivery } from './retry.js'
import { registerRotateWebhookSecret } from './rotate-secret.js'
import { registerTestWebhook } from './test.js'
import { registerUpdateWebhook } from './update.js'

/** Registers this area's routes on the app. */
export function registerWebhooksRoutes(app: OpenAPIHono<AppEnv>): void {
  registerCreateWebhook(app)
  registerListWebhooks(app)
  registerGetWebhook(app)
  registerUpdateWebhook(app)
  registerDeleteWebhook(app)
  registerRotateWebhookSecret(app)
  registerTestWebhook(app)
  registerListDeliveries(app)
  registerRetryDelivery(app)
  registerReplayWebhook(app)
}
