import { and, asc, desc, eq, isNotNull, not, type SQL } from 'drizzle-orm'
import { nanoid } from 'nanoid'
import type { AppDeps } from '../deps.js'
import { DomainError } from '../util/errors.js'
import { compileTemplate, renderTrackedTemplate, RewriteError, type CompiledTemplate, type CompileOptions, type SkippedLink } from '../rewrite/index.js'
import type { RenderableTemplate } from '../sdk/render.js'
import { links, templates } from '../store/schema.js'
import { getCampaign, newLinkId, normaliseUrl } from './campaigns.js'
import { invalid } from '../util/errors.js'
import { clickUrl, pixelUrl, unsubscribeUrl } from '../tracking/urls.js'

/** Label of the invisible link that catches link-scanning bots (the classifier looks for it). */
export const HONEYPOT_LABEL = '__honeypot__'
/** Position of the honeypot link: template occurrences count from 1. */
export const HONEYPOT_POSITION = 0
/**
 * The honeypot links, as a condition on the links table: the label alone is not enough, since
 * senders choose labels (a link registered with the label, or a template's data-label, would have
 * turned readers' clicks into scanner clicks). Only a template's compile makes a link at position 0.
 */
export function honeypotLinks(): SQL {
  return and(eq(links.label, HONEYPOT_LABEL), eq(links.position, HONEYPOT_POSITION), isNotNull(links.templateId))!
}

/** Every link a reader can see. */
export function visibleLinks(): SQL {
  return not(honeypotLinks())
}

/** Stands for the recipient's token in the tracked template shown to senders. */
export const TOKEN_PLACEHOLDER = '{{sillage.token}}'

const MAX_LABEL = 500
/** Tracked links one template may register (each occurrence is a link and a row of the links table). */
export const MAX_LINKS_PER_TEMPLATE = 10_000
/** Link rows per INSERT: PostgreSQL takes at most 65,535 parameters per statement (6 a row here). */
const LINK_INSERT_BATCH = 1_000

export interface TemplateLink {
  id: string
  url: string
  label: string
  position: number
  part: 'html' | 'text'
}

export interface StoredTemplate extends RenderableTemplate {
  id: string
  createdAt: Date
  links: TemplateLink[]
  honeypotLinkId: string | null
}

type Deps = Pick<AppDeps, 'meta' | 'links' | 'config' | 'clock'>

const REWRITE_FIELD: Record<string, string> = {
  invalid_input: 'body',
  invalid_option: 'body.options',
  empty_template: 'body.html',
  not_html: 'body.html',
  not_text: 'body.text',
}

/** A rewrite error is the sender's input at fault: 400 naming the field. */
function toDomainError(err: RewriteError): DomainError {
  return new DomainError('validation_failed', `${REWRITE_FIELD[err.code] ?? 'body'}: ${err.message}`, { code: err.code })
}

/**
 * Compiles a template and registers each tracked occurrence as its own link. The compile is
 * pure and runs first; links and template then go in one transaction, and only once it has
 * committed are the links put in the edge's cache: a failure leaves nothing registered.
 */
export async function createTemplate(
  deps: Deps,
  campaignId: string,
  input: { html: string; text?: string | undefined; options?: CompileOptions | undefined },
): Promise<StoredTemplate> {
  const campaign = await getCampaign(deps, campaignId)
  const options: CompileOptions = { ...input.options }
  if (campaign.settings.pixel === false) options.pixel = false
  let compiled: CompiledTemplate
  try {
    compiled = compileTemplate({ html: input.html, text: input.text, options })
  } catch (err) {
    if (err instanceof RewriteError) throw toDomainError(err)
    throw err
  }
  if (compiled.links.length > MAX_LINKS_PER_TEMPLATE) {
    throw invalid(`body.html: ${compiled.links.length} tracked links; at most ${MAX_LINKS_PER_TEMPLATE} per template`)
  }
  const id = nanoid(12)
  const rows = compiled.links.map((l) => ({
    id: newLinkId(),
    campaignId,
    url: normaliseUrl(l.url),
    label: l.label.slice(0, MAX_LABEL),
    position: l.position,
    templateId: id,
  }))
  if (compiled.honeypot) {
    rows.push({ id: newLinkId(), campaignId, url: honeypotTarget(deps), label: HONEYPOT_LABEL, position: HONEYPOT_POSITION, templateId: id })
  }
  const createdAt = new Date(deps.clock())
  await deps.meta.db.transaction(async (tx) => {
    await tx.insert(templates).values({ id, campaignId, compiled, createdAt })
    for (let i = 0; i < rows.length; i += LINK_INSERT_BATCH) await tx.insert(links).values(rows.slice(i, i + LINK_INSERT_BATCH))
  })
  for (const r of rows) deps.links.addLink({ id: r.id, campaignId, url: r.url, label: r.label })
  return toStored(id, campaignId, compiled, createdAt, rows)
}

/** Where a bot that follows the honeypot lands: the tracker's own root, never a sender's page. */
function honeypotTarget(deps: Pick<AppDeps, 'config'>): string {
  return `${deps.config.publicBaseUrl}/`
}

function toStored(
  id: string,
  campaignId: string,
  compiled: CompiledTemplate,
  createdAt: Date,
  rows: Array<{ id: string; url: string; label: string; position: number }>,
): StoredTemplate {
  const part = new Map(compiled.links.map((l) => [l.position, l.part]))
  const tracked = rows.filter((r) => r.label !== HONEYPOT_LABEL || r.position !== HONEYPOT_POSITION)
  return {
    id,
    campaignId,
    compiled,
    createdAt,
    links: tracked.sort((a, b) => a.position - b.position).map((r) => ({ id: r.id, url: r.url, label: r.label, position: r.position, part: part.get(r.position) ?? 'html' })),
    honeypotLinkId: rows.find((r) => r.label === HONEYPOT_LABEL && r.position === HONEYPOT_POSITION)?.id ?? null,
  }
}

/** A template of the campaign, or its latest one when no id is given. */
export async function getTemplate(deps: Pick<AppDeps, 'meta'>, campaignId: string, templateId?: string): Promise<StoredTemplate> {
  const [row] = await deps.meta.db
    .select()
    .from(templates)
    .where(templateId ? and(eq(templates.campaignId, campaignId), eq(templates.id, templateId)) : eq(templates.campaignId, campaignId))
    .orderBy(desc(templates.createdAt), desc(templates.id))
    .limit(1)
  if (!row) {
    throw new DomainError(
      'not_found',
      templateId ? `template ${templateId} not found in campaign ${campaignId}` : `campaign ${campaignId} has no template: POST /v1/campaigns/${campaignId}/templates first`,
    )
  }
  const ls = await deps.meta.db
    .select({ id: links.id, url: links.url, label: links.label, position: links.position })
    .from(links)
    .where(and(eq(links.campaignId, campaignId), eq(links.templateId, row.id)))
    .orderBy(asc(links.position))
  return toStored(row.id, campaignId, row.compiled as CompiledTemplate, row.createdAt, ls)
}

/**
 * The tracked template as a sender would paste it in another tool: real click and pixel URLs
 * with `{{sillage.token}}` standing for the recipient's token (a merge tag, so compiling the
 * result again tracks nothing twice).
 */
export function trackedTemplate(base: string, t: StoredTemplate): { html: string; text: string | null } {
  const byPosition = new Map(t.links.map((l) => [l.position, l.id]))
  return renderTrackedTemplate(t.compiled, {
    linkUrl: (p) => clickUrl(base, byPosition.get(p)!, TOKEN_PLACEHOLDER),
    pixelUrl: pixelUrl(base, t.campaignId, TOKEN_PLACEHOLDER),
    honeypotUrl: t.honeypotLinkId ? clickUrl(base, t.honeypotLinkId, TOKEN_PLACEHOLDER) : '',
    unsubscribeUrl: unsubscribeUrl(base, t.campaignId, TOKEN_PLACEHOLDER),
  })
}

/** The template as the API answers it, its tracked URLs on `base` (the campaign's: trackingBaseUrl). */
export function toTemplateResponse(base: string, t: StoredTemplate) {
  const tracked = trackedTemplate(base, t)
  return {
    trackingBaseUrl: base,
    id: t.id,
    campaignId: t.campaignId,
    createdAt: t.createdAt.toISOString(),
    html: tracked.html,
    text: tracked.text,
    links: t.links,
    skipped: t.compiled.skipped.map((s: SkippedLink) => ({ href: s.href, reason: s.reason, part: s.part })),
    honeypotLinkId: t.honeypotLinkId,
    pixel: t.compiled.pixel,
    compiled: t.compiled,
  }
}
