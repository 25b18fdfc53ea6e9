import type { Lifecycle } from '../../metrics/lifecycle.js'
import type { LifecycleValue, Transitions } from '../../metrics/lifecycle-flow.js'
import type { TopRow } from '../../metrics/purchases.js'
import { fmtInt, fmtMoney, fmtPct, fmtRevenue, fmtTime, Layout, type PageContext } from '../layout.js'

export const HORIZONS = [30, 60, 90, 180] as const

export interface LifecycleView {
  horizonDays: number
  lifecycle: Lifecycle
  value: LifecycleValue
  transitions: Transitions
  products: TopRow[]
}


/** Heat of a share: the darker, the more of the row went there (text stays readable on both ends). */
function heat(share: number): string {
  const light = Math.round(97 - share * 57)
  return `background: hsl(212, 70%, ${light}%); color: ${light < 60 ? '#fff' : '#14213d'}`
}

export function LifecyclePage(props: { view: LifecycleView; ctx: PageContext }) {
  const tz = props.ctx.tz ?? 'UTC'
  const { value, transitions, lifecycle, products, horizonDays } = props.view
  const window = transitions.windows[transitions.windows.length - 1]
  const counts = Object.fromEntries(lifecycle.stages.map((s) => [s.stage, s.customers]))
  return (
    <Layout title="Lifecycle" page={props.ctx}>
      <h1>Customer lifecycle</h1>
      <form method="get" action="/dashboard/lifecycle" class="inline-form">
        <label>
          Horizon
          <select name="horizon">
            {HORIZONS.map((d) => (
              <option value={String(d)} selected={d === horizonDays}>
                {`${d} days`}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>

      <section aria-labelledby="h-stages">
        <h2 id="h-stages">What a customer in each stage is worth over the next {horizonDays} days</h2>
        <table id="stages-table">
          <caption>
            {`Customers in each stage on ${fmtTime(value.window.from, tz)} and their revenue per customer until ${fmtTime(value.window.to, tz)} (${tz}; 95% interval); ` +
              `back-test: the same figure one horizon earlier against what then happened.`}
          </caption>
          <thead>
            <tr>
              <th scope="col">Stage</th>
              <th scope="col">Customers now</th>
              <th scope="col">Measured on</th>
              <th scope="col">Value per customer</th>
              <th scope="col">Back-test error</th>
            </tr>
          </thead>
          <tbody>
            {value.stages.map((s) => (
              <tr data-stage={s.stage}>
                <th scope="row" title={s.definition}>
                  {s.stage}
                </th>
                <td class="num">{fmtInt(counts[s.stage] ?? 0)}</td>
                <td class="num">{fmtInt(s.customers)}</td>
                <td class="num">
                  {s.value.length === 0
                    ? '–'
                    : s.value.map((v) => (
                        <div>
                          {fmtMoney(v.mean, v.currency)} <span class="ci">({fmtMoney(v.low, v.currency)} – {fmtMoney(v.high, v.currency)})</span>
                        </div>
                      ))}
                </td>
                <td class="num">
                  {s.backtest.length === 0
                    ? '–'
                    : s.backtest.map((b) => <div>{b.error === null ? `${b.currency}: nothing to check against` : `${Number(b.error) >= 0 ? '+' : ''}${fmtMoney(b.error, b.currency)}`}</div>)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>

      {window && (
        <section aria-labelledby="h-transitions">
          <h2 id="h-transitions">Where customers went in {horizonDays} days</h2>
          <table id="transitions-table" class="heat">
            <caption>{`Stage on ${fmtTime(window.from, tz)} (rows) and on ${fmtTime(window.to, tz)} (columns, ${tz}): share of the row, with its count; ${fmtInt(window.acquired)} new customers since.`}</caption>
            <thead>
              <tr>
                <th scope="col">From \ to</th>
                {window.rows.map((r) => (
                  <th scope="col">{r.stage}</th>
                ))}
                <th scope="col">Customers</th>
              </tr>
            </thead>
            <tbody>
              {window.rows.map((r) => (
                <tr data-stage={r.stage}>
                  <th scope="row">{r.stage}</th>
                  {r.to.map((c) => (
                    <td class="num" style={heat(c.share)} title={`${fmtPct(c.low)}–${fmtPct(c.high)} (95%)`} data-to={c.stage}>
                      {r.customers ? fmtPct(c.share) : '–'} <span class="ci">{fmtInt(c.count)}</span>
                    </td>
                  ))}
                  <td class="num">{fmtInt(r.customers)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}

      <section aria-labelledby="h-products">
        <h2 id="h-products">Products</h2>
        <div class="scroll">
          <table id="products-table">
            <caption>Products in purchases (line items), most orders first; revenue from line prices.</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">Orders</th>
                <th scope="col">Buyers</th>
                <th scope="col">Units</th>
                <th scope="col">Revenue</th>
                <th scope="col">First orders</th>
              </tr>
            </thead>
            <tbody>
              {products.length === 0 && (
                <tr>
                  <td colspan={6}>No purchase with line items yet.</td>
                </tr>
              )}
              {products.map((p) => (
                <tr data-key={p.key}>
                  <th scope="row">
                    {p.name ?? p.key} {p.name && p.name !== p.key && <span class="ci">{p.key}</span>}
                  </th>
                  <td class="num">{fmtInt(p.orders)}</td>
                  <td class="num">{fmtInt(p.buyers)}</td>
                  <td class="num">{fmtInt(p.quantity)}</td>
                  <td class="num">{fmtRevenue(p.revenue)}</td>
                  <td class="num">{fmtInt(p.ordersByStage.first)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </Layout>
  )
}
