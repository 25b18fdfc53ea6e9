import type { AppDeps } from '../deps.js'
import type { ApiKeyRole } from '../store/schema.js'

export interface AppEnv {
  Variables: {
    deps: AppDeps
    requestId: string
    apiKeyId: string
    apiKeyRole: ApiKeyRole
  }
}
