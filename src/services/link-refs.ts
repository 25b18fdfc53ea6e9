import { invalid } from '../util/errors.js'
import type { Link } from './campaigns.js'
import { HONEYPOT_LABEL } from './templates.js'

/**
 * A link named the way a person names it: its id, its label (`hero`), or its position in the
 * e-mail (`2`, or `#2`). An id always wins; a label or a position must name one link only, so a
 * label used twice (two "Shop now" buttons) is refused with the positions that tell them apart.
 */
export function resolveLinkRef(links: readonly Link[], ref: string, field: string, campaignId: string): string {
  const byId = links.find((l) => l.id === ref)
  if (byId) return byId.id
  const position = /^#?[1-9][0-9]{0,5}$/.test(ref) ? Number(ref.replace('#', '')) : null
  const matches = links.filter((l) => l.label !== HONEYPOT_LABEL && ((ref !== '' && l.label === ref) || l.position === position))
  if (matches.length === 1) return matches[0]!.id
  const shown = JSON.stringify(ref.slice(0, 80))
  if (matches.length === 0) {
    throw invalid(`${field}: no link ${shown} in campaign ${campaignId} (give a link id, a label or a position)`)
  }
  const which = matches.map((l) => `${l.id} (position ${l.position}${l.label ? `, label ${JSON.stringify(l.label)}` : ''})`).join(', ')
  throw invalid(`${field}: ${shown} names ${matches.length} links in campaign ${campaignId}: ${which}; give the link id`)
}
