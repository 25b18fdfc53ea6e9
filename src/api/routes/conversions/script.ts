import type { OpenAPIHono } from '@hono/zod-openapi'
import { z } from '@hono/zod-openapi'
import { DEFAULT_CLICK_ID_PARAM } from '../../../tracking/redirect-location.js'
import type { AppEnv } from '../../context.js'
import { publicOperation } from '../../errors.js'
import { LruCache } from '../../../util/lru.js'

const PATH = '/t/sillage.js'
const PARAM = /^[A-Za-z0-9_.-]{1,40}$/
/** How long the landing site keeps the click id: past any sensible attribution window. */
const KEEP_DAYS = 30

/**
 * The landing-site script: on load, a click id in the URL (`?sl_cid=…`, or the `param` the
 * campaign uses) is kept first-party (localStorage, and a cookie as fallback); then
 * `sillage.convert({orderId, amount, currency, type})` requests the conversion pixel with it.
 */
export function landingScript(baseUrl: string, param: string): string {
  return `(function (w, d) {
  var K = 'sl_cid', P = ${JSON.stringify(param)}, BASE = ${JSON.stringify(baseUrl)};
  function read() {
    try { var v = w.localStorage.getItem(K); if (v) return v } catch (e) {}
    var m = d.cookie.match(/(?:^|; )sl_cid=([^;]*)/);
    return m ? decodeURIComponent(m[1]) : null;
  }
  function keep(v) {
    try { w.localStorage.setItem(K, v) } catch (e) {}
    d.cookie = K + '=' + encodeURIComponent(v) + '; path=/; max-age=${KEEP_DAYS * 86400}; SameSite=Lax' + (w.location.protocol === 'https:' ? '; Secure' : '');
  }
  try { var v = new URLSearchParams(w.location.search).get(P); if (v) keep(v) } catch (e) {}
  w.sillage = {
    clickId: read,
    convert: function (o) {
      var p = new URLSearchParams(), c = read();
      if (c) p.set('cid', c);
      p.set('order', String(o.orderId));
      if (o.amount !== undefined && o.amount !== null) p.set('amount', String(o.amount));
      if (o.currency) p.set('currency', o.currency);
      if (o.type) p.set('type', o.type);
      var i = new Image(1, 1);
      i.src = BASE + '/t/conversion.gif?' + p.toString();
      return i;
    }
  };
})(window, document);
`
}

export function registerLandingScript(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: PATH,
    operationId: 'landingScript',
    tags: ['conversions'],
    summary: 'Landing-site script: keeps the click id and exposes sillage.convert({orderId, amount, currency})',
    request: { query: z.object({ param: z.string().optional().openapi({ description: 'Click-id parameter name (default sl_cid)' }) }) },
    security: publicOperation.security,
    responses: { 200: { description: 'JavaScript', content: { 'text/javascript': { schema: z.string() } } }, ...publicOperation.clientErrors },
  })
  // Bounded: the parameter name comes from a public URL, so its values are the caller's to choose.
  const cache = new LruCache<string, string>(64)
  app.get(PATH, (c) => {
    const asked = c.req.query('param')
    const param = asked && PARAM.test(asked) ? asked : DEFAULT_CLICK_ID_PARAM
    const base = c.get('deps').config.publicBaseUrl
    const key = base + '\n' + param
    let body = cache.get(key)
    if (!body) cache.set(key, (body = landingScript(base, param)))
    return c.body(body, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600', 'Access-Control-Allow-Origin': '*' })
  })
}
