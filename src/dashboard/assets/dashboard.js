// Charts are an enhancement: the numbers are in the page's tables without this script.
(function () {
  'use strict'
  var MINUTE = 60
  var HOUR = 3600
  var DAY = 86400
  // Tick steps no finer than the series' buckets and coarse enough for the span: hours over a
  // day of hourly buckets, days over a month of daily ones (uPlot picks the first that fits).
  var INCRS = {
    minute: [MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY],
    hour: [HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY],
    day: [DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 56 * DAY, 91 * DAY],
  }
  // Times as everywhere on the dashboard: 2026-12-05 14:03, in the page's zone.
  function wallClock(tz) {
    var opts = { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
    var f
    try {
      f = new Intl.DateTimeFormat('en-US', Object.assign({ timeZone: tz }, opts))
    } catch (e) {
      f = new Intl.DateTimeFormat('en-US', Object.assign({ timeZone: 'UTC' }, opts))
    }
    return function (secs) {
      var p = {}
      f.formatToParts(new Date(secs * 1000)).forEach(function (x) { p[x.type] = x.value })
      return { day: p.year + '-' + p.month + '-' + p.day, time: p.hour + ':' + p.minute }
    }
  }
  function drawSeries(el) {
    if (typeof uPlot === 'undefined') return
    var d
    try {
      d = JSON.parse(el.getAttribute('data-series'))
    } catch (e) {
      return
    }
    if (!d || !d.t || d.t.length === 0) return
    var tz = el.getAttribute('data-tz') || 'UTC'
    var wall = wallClock(tz)
    var width = function () { return Math.max(280, el.clientWidth) }
    var chart = new uPlot(
      {
        width: width(),
        height: 280,
        tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), tz) },
        series: [
          { label: 'Start', value: function (u, v) { if (v == null) return ''; var w = wall(v); return w.day + ' ' + w.time } },
          { label: 'Opens', stroke: '#1565c0', width: 2, fill: 'rgba(21,101,192,0.08)' },
          { label: 'Clicks', stroke: '#b3261e', width: 2 },
        ],
        scales: {
          // One bucket alone still gets a visible span; counts start at zero.
          x: { time: true, range: function (u, min, max) { return min === max ? [min - 3600, max + 3600] : [min, max] } },
          y: { range: function (u, min, max) { return [0, max > 0 ? Math.ceil(max * 1.1) : 1] } },
        },
        axes: [
          {
            label: 'Time (' + tz + ')',
            incrs: INCRS[el.getAttribute('data-interval')] || INCRS.hour,
            // The time of day on each tick, the date under the first and wherever the day changes; days alone when ticks are a day or more apart.
            values: function (u, splits, axisIdx, space, incr) {
              var last = null
              return splits.map(function (s) {
                var w = wall(s)
                if (incr >= DAY) return w.day
                var out = w.day !== last ? w.time + '\n' + w.day : w.time
                last = w.day
                return out
              })
            },
          },
          { label: 'Opens and clicks' },
        ],
      },
      [d.t, d.opens, d.clicks],
      el,
    )
    el.setAttribute('data-ready', 'true')
    window.addEventListener('resize', function () { chart.setSize({ width: width(), height: 280 }) })
  }
  // The fatigue curve: one point per bucket (x is the bucket's index, labelled), each rate a line
  // with its 95% interval drawn as a band between the low and high series.
  var COLOURS = ['#1565c0', '#b3261e', '#6a1b9a', '#2e7d32']
  function drawFatigue(el) {
    if (typeof uPlot === 'undefined') return
    var d
    try {
      d = JSON.parse(el.getAttribute('data-fatigue'))
    } catch (e) {
      return
    }
    if (!d || !d.labels || d.labels.length === 0) return
    var xs = d.labels.map(function (_, i) { return i })
    var series = [{ label: 'Earlier sends', value: function (u, v) { return v == null ? '' : d.labels[v] } }]
    var data = [xs]
    var bands = []
    // The legend is the four rates (the bands' bounds are not worth a line each); values are in the table.
    var legend = document.createElement('p')
    legend.className = 'chart-legend'
    d.rates.forEach(function (r, i) {
      var c = COLOURS[i % COLOURS.length]
      var at = data.length
      series.push({ label: r.label, stroke: c, width: 2 })
      series.push({ label: r.label + ' high', stroke: c, width: 0, points: { show: false } })
      series.push({ label: r.label + ' low', stroke: c, width: 0, points: { show: false } })
      var key = document.createElement('span')
      key.className = 'chart-key'
      key.style.borderColor = c
      key.textContent = r.label
      legend.appendChild(key)
      data.push(r.value, r.high, r.low)
      bands.push({ series: [at + 1, at + 2], fill: c + '22' })
    })
    var width = function () { return Math.max(280, el.clientWidth) }
    var chart = new uPlot(
      {
        width: width(),
        height: 260,
        series: series,
        bands: bands,
        legend: { show: false },
        scales: {
          x: { time: false, range: function () { return [-0.25, xs.length - 0.75] } },
          y: { range: function (u, min, max) { return [0, max > 0 ? Math.min(100, Math.ceil(max * 1.1)) : 1] } },
        },
        axes: [
          { label: 'Sends in the preceding window', splits: function () { return xs }, values: function (u, v) { return v.map(function (x) { return d.labels[x] == null ? '' : d.labels[x] }) } },
          { label: '% of sends' },
        ],
      },
      data,
      el,
    )
    el.appendChild(legend)
    el.setAttribute('data-ready', 'true')
    window.addEventListener('resize', function () { chart.setSize({ width: width(), height: 260 }) })
  }
  // A sequence's funnel: per step, nested bars (due ⊇ sent ⊇ opened ⊇ clicked), conversions on top.
  function drawFunnel(el) {
    if (typeof uPlot === 'undefined' || !uPlot.paths || !uPlot.paths.bars) return
    var d
    try {
      d = JSON.parse(el.getAttribute('data-funnel'))
    } catch (e) {
      return
    }
    if (!d || !d.labels || d.labels.length === 0) return
    var xs = d.labels.map(function (_, i) { return i })
    var bars = function (size) { return uPlot.paths.bars({ size: [size, 120], align: 0 }) }
    var width = function () { return Math.max(280, el.clientWidth) }
    var chart = new uPlot(
      {
        width: width(),
        height: 280,
        series: [
          {},
          { label: 'Due', fill: 'rgba(74,74,85,0.18)', stroke: '#4a4a55', paths: bars(0.8), points: { show: false } },
          { label: 'Sent', fill: 'rgba(11,87,208,0.35)', stroke: '#0b57d0', paths: bars(0.64), points: { show: false } },
          { label: 'Opened', fill: 'rgba(21,101,192,0.6)', stroke: '#1565c0', paths: bars(0.48), points: { show: false } },
          { label: 'Clicked', fill: 'rgba(179,38,30,0.75)', stroke: '#b3261e', paths: bars(0.32), points: { show: false } },
          { label: 'Converted', fill: '#1b1b1f', stroke: '#1b1b1f', paths: bars(0.16), points: { show: false } },
        ],
        scales: {
          x: { time: false, range: function () { return [-0.5, xs.length - 0.5] } },
          y: { range: function (u, min, max) { return [0, max > 0 ? Math.ceil(max * 1.1) : 1] } },
        },
        axes: [
          { label: 'Step', splits: function () { return xs }, values: function (u, splits) { return splits.map(function (i) { return d.labels[i] || '' }) } },
          { label: 'Recipients' },
        ],
      },
      [xs, d.due, d.sent, d.opened, d.clicked, d.converted],
      el,
    )
    el.setAttribute('data-ready', 'true')
    window.addEventListener('resize', function () { chart.setSize({ width: width(), height: 280 }) })
  }
  // The click map's frame as tall as the e-mail, so no inner scroll bar cuts it. The frame runs no
  // script (its sandbox allows same-origin only): this page measures the e-mail's document once it
  // has loaded (placeholders included) and again when the width changes the layout.
  function fitFrame(frame) {
    function fit() {
      var doc = frame.contentDocument
      if (!doc || !doc.documentElement) return
      // Shrunk first: a document never reports less than the frame's own height.
      frame.style.height = '1px'
      frame.style.height = doc.documentElement.scrollHeight + 'px'
      frame.setAttribute('data-fitted', 'true')
    }
    frame.addEventListener('load', fit)
    if (frame.contentDocument && frame.contentDocument.readyState === 'complete') fit()
    window.addEventListener('resize', fit)
  }
  function init() {
    var frames = document.querySelectorAll('iframe.clickmap')
    for (var k = 0; k < frames.length; k++) fitFrame(frames[k])
    var charts = document.querySelectorAll('[data-series]')
    for (var i = 0; i < charts.length; i++) drawSeries(charts[i])
    var fatigue = document.querySelectorAll('[data-fatigue]')
    for (var j = 0; j < fatigue.length; j++) drawFatigue(fatigue[j])
    var funnels = document.querySelectorAll('[data-funnel]')
    for (var f = 0; f < funnels.length; f++) drawFunnel(funnels[f])
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
