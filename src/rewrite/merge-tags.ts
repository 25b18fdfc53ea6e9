/*
 * Merge tags of the template languages senders use. A href holding one is
 * resolved by the sender per recipient, so its destination cannot be registered.
 * These run over one isolated attribute value or text URL, never over HTML.
 */
const ALWAYS = [
  // Handlebars, Mustache, Liquid, Jinja. An opening alone is enough: `href="{% url "x" %}"`
  // is cut short by its own inner quotes, and `{{`/`{%` never occur in a real URL.
  /\{\{|\{%/,
  /\*\|[\s\S]*?\|\*/, // Mailchimp
  /%%[^%\s][^%]*%%/, // Salesforce Marketing Cloud, Campaign Monitor
]
const BRACKET = /\[[^[\]]+\]/
// An IPv6 literal host (`http://[::1]/`) is not a merge tag.
const IPV6_AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?\[[0-9a-f:.]+\]/i

export function hasMergeTag(value: string, brackets: boolean): boolean {
  for (const re of ALWAYS) if (re.test(value)) return true
  if (brackets) {
    const rest = value.replace(IPV6_AUTHORITY, '')
    if (BRACKET.test(rest)) return true
  }
  return false
}
