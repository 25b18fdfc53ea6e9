// Charts are an enhancement: the numbers are in the page's tables without this script.
(function () {
  'use strict'
  function drawSeries(el) {
    if (typeof uPlot === 'undefined') return
    var d
    try {
      d = JSON.parse(el.getAttribute('data-series'))
    } catch (e) {
      return
    }
    if (!d || !d.t || d.t.length === 0) return
    var width = function () { return Math.max(280, el.clientWidth) }
    var chart = new uPlot(
      {
        width: width(),
        height: 260,
        series: [
          {},
          { label: 'Opens', stroke: '#1565c0', width: 2, fill: 'rgba(21,101,192,0.08)' },
          { label: 'Clicks', stroke: '#b3261e', width: 2 },
        ],
        scales: {
          // One bucket alone still gets a visible span; counts start at zero.
          x: { time: true, range: function (u, min, max) { return min === max ? [min - 3600, max + 3600] : [min, max] } },
          y: { range: function (u, min, max) { return [0, max > 0 ? Math.ceil(max * 1.1) : 1] } },
        },
        axes: [{}, { label: 'Events' }],
      },
      [d.t, d.opens, d.clicks],
      el,
    )
    el.setAttribute('data-ready', 'true')
    window.addEventListener('resize', function () { chart.setSize({ width: width(), height: 260 }) })
  }
  function init() {
    var charts = document.querySelectorAll('[data-series]')
    for (var i = 0; i < charts.length; i++) drawSeries(charts[i])
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init)
  else init()
})()
