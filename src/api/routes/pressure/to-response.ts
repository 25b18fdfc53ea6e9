import type { Preferences, PressureRule } from '../../../services/pressure.js'
import { windowName } from '../../../util/window.js'

export const toRule = (r: PressureRule) => ({ id: r.id, max: r.max, window: windowName(r.windowDays), category: r.category, createdAt: r.createdAt.toISOString() })

export const toPreferences = (p: Preferences) => ({
  recipientId: p.recipientId,
  categories: p.categories,
  maxPerWindow: p.maxPerWindow ? { max: p.maxPerWindow.max, window: windowName(p.maxPerWindow.windowDays) } : null,
  updatedAt: p.updatedAt?.toISOString() ?? null,
})
