import type { TrackedEvent } from '../events/event.js'
import type { CachedLink, LinkCache } from './links.js'

/** Where a click on `link` goes: the registered URL, and nothing taken from the request. */
export function redirectLocation(_links: LinkCache) {
  return (link: CachedLink, _event: TrackedEvent): string => link.url
}
