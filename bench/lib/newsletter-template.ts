/** Number of product links in the benchmark template's HTML part. */
export const TEMPLATE_LINKS = 20

/** The render benchmarks' template: ~40 KB of newsletter HTML with TEMPLATE_LINKS links, and a text part with a few of them. */
export function buildTemplate(): { html: string; text: string } {
  const para =
    '<p style="font-size:16px;line-height:1.6;color:#51545E;margin:.4em 0 1.2em">Lorem ipsum dolor sit amet, ' +
    'consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ' +
    'Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo.</p>\n'
  let body = ''
  let text = ''
  for (let i = 1; i <= TEMPLATE_LINKS; i++) {
    body += para + para + para + para + para + para
    body += `<table role="presentation"><tr><td><a href="https://shop.example.com/p/${i}?utm_source=news&amp;utm_medium=email" style="color:#3869D4" target="_blank">Product ${i}</a></td></tr></table>\n`
    if (i % 4 === 0) text += `Product ${i}: https://shop.example.com/p/${i}?utm_source=news\n`
  }
  const html =
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Newsletter</title>' +
    '<!--[if mso]><style>td{font-family:Arial}</style><![endif]--></head>\n' +
    `<body style="margin:0">\n${body}</body></html>\n`
  return { html, text }
}
