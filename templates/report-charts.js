// Interactive time charts for the report: hover to read every series at a second, drag to zoom on
// a time range (every chart follows), double-click to zoom out, click a legend entry to hide or
// show its series. Built with uPlot from the JSON in #chart-data; without script (or in print) the
// static SVG under each chart is shown instead.
(function () {
  var holder = document.getElementById('chart-data');
  if (!holder || typeof uPlot === 'undefined') { return; }
  var charts = JSON.parse(holder.textContent);
  var plots = [];
  var following = false;
  document.body.classList.add('interactive');

  function elapsed(s) {
    if (s == null) { return '–'; }
    var t = Math.round(s), sign = t < 0 ? '-' : '';
    t = Math.abs(t);
    var h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), sec = t % 60;
    var mm = (h ? String(m).padStart(2, '0') : String(m)), ss = String(sec).padStart(2, '0');
    return sign + (h ? h + ':' : '') + mm + ':' + ss;
  }

  function readable(v) {
    if (v == null) { return '–'; }
    var a = Math.abs(v);
    if (a >= 1000) { return Math.round(v).toLocaleString('en-US'); }
    return String(Number(v.toPrecision(4)));
  }

  // phases as alternating grey bands with their names, the judged window of each step or probe as
  // a light blue band with its number and rate, faults as red bands, breaches as red lines
  function markers(chart) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height, band = 0;
          ctx.save();
          ctx.font = (10 * devicePixelRatio) + 'px sans-serif';
          chart.spans.forEach(function (s) {
            var x0 = u.valToPos(s.start, 'x', true), x1 = u.valToPos(s.end, 'x', true);
            if (s.kind === 'phase') {
              if (band++ % 2) { ctx.fillStyle = 'rgba(100,116,139,0.07)'; ctx.fillRect(x0, top, x1 - x0, height); }
              ctx.fillStyle = '#475569';
              ctx.fillText(s.label, x0 + 3 * devicePixelRatio, top + 11 * devicePixelRatio);
            } else if (s.kind === 'step') {
              ctx.fillStyle = 'rgba(59,130,246,0.06)';
              ctx.fillRect(x0, top, x1 - x0, height);
              ctx.fillStyle = '#1d4ed8';
              ctx.fillText(s.label, x0 + 2 * devicePixelRatio, top + 23 * devicePixelRatio);
            } else {
              ctx.fillStyle = 'rgba(220,38,38,0.12)';
              ctx.fillRect(x0, top, x1 - x0, height);
              ctx.fillStyle = '#b91c1c';
              ctx.fillText(s.label, x0 + 3 * devicePixelRatio, top + height - 4 * devicePixelRatio);
            }
          });
          ctx.strokeStyle = '#dc2626';
          ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
          chart.instants.forEach(function (m) {
            var x = u.valToPos(m.at, 'x', true);
            ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
          });
          ctx.restore();
        }]
      }
    };
  }

  // a zoom on one chart is applied to all of them
  function follow(u, key) {
    if (key !== 'x' || following) { return; }
    following = true;
    plots.forEach(function (other) {
      if (other !== u) { other.setScale('x', { min: u.scales.x.min, max: u.scales.x.max }); }
    });
    following = false;
  }

  function width(el) { return Math.max(320, el.clientWidth - 8); }

  document.querySelectorAll('figure[data-chart]').forEach(function (figure) {
    var chart = charts[Number(figure.getAttribute('data-chart'))];
    var box = document.createElement('div');
    box.className = 'ichart';
    figure.insertBefore(box, figure.firstChild);
    chart.panels.forEach(function (panel) {
      var series = [{ label: 'elapsed', value: function (u, v) { return elapsed(v); } }];
      panel.series.forEach(function (s) {
        series.push({ label: s.label, stroke: s.color, width: 1.2, dash: s.dashed ? [5, 4] : undefined,
                      value: function (u, v) { return readable(v); } });
      });
      var opts = {
        title: panel.title + (panel.bucket_s > 1 ? ' · each point the mean of ' + panel.bucket_s + ' s' : ''),
        width: width(box), height: 230,
        cursor: { sync: { key: 'orchestrate' }, drag: { x: true, y: false } },
        scales: { x: { time: false },
                  y: chart.log ? { distr: 3 } : { range: function (u, min, max) { return [0, max > 0 ? max * 1.05 : 1]; } } },
        axes: [{ values: function (u, vals) { return vals.map(elapsed); } },
               { label: panel.ylabel, size: 64, values: function (u, vals) { return vals.map(readable); } }],
        series: series,
        hooks: { setScale: [follow] },
        plugins: [markers(chart)]
      };
      plots.push(new uPlot(opts, [panel.x].concat(panel.series.map(function (s) { return s.y; })), box));
    });
  });

  window.orchestrateCharts = plots;  // for tests and for a reader's console
  window.addEventListener('resize', function () {
    plots.forEach(function (u) { u.setSize({ width: width(u.root.parentNode), height: 230 }); });
  });
}());
