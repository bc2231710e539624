/* poi-service maps: opening hours and wheelchair access of places (used by places.js through PoiMaps.hours).
   The payload carries raw opening_hours (oh) and wheelchair values (wc); whether a place is open now
   comes from /maps/places/open.json (the server's parser, in the place's time zone), refreshed every
   few minutes. "Open now" keeps only places known to be open; unclear or missing hours never count. */
(function () {
  'use strict';
  var P = window.PoiMaps;
  var SVG = 'http://www.w3.org/2000/svg';
  var REFRESH_MS = 5 * 60 * 1000;
  var WC = {yes: 1, limited: 2, no: 3}, WC_NAMES = ['', 'yes', 'limited', 'no'];
  var WC_COLOURS = ['', '#1e6b30', '#7a4f00', '#8e1b1b'];
  var D = null, t = null, n = 0, raw = {}, wc = null, state = null, when = {};
  var openOnly = false, wheelOnly = false, reschedule = null, openUrl = null;

  function svg(tag, attrs) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }

  /* The wheelchair symbol; struck through for "no". Always shown beside its text. */
  function wheelchairIcon(code) {
    var icon = svg('svg', {viewBox: '0 0 24 24', width: '18', height: '18', 'aria-hidden': 'true', focusable: 'false',
      'class': 'poi-wc-icon'});
    var line = {fill: 'none', stroke: 'currentColor', 'stroke-width': '2.2', 'stroke-linecap': 'round',
      'stroke-linejoin': 'round'};
    icon.appendChild(svg('circle', {cx: '11', cy: '4', r: '2.3', fill: 'currentColor'}));
    icon.appendChild(svg('path', Object.assign({d: 'M11 7.5v6h5.5l2.5 5.5'}, line)));
    icon.appendChild(svg('path', Object.assign({d: 'M8 10.5a6 6 0 1 0 8.5 6.5'}, line)));
    if (code === 3) icon.appendChild(svg('path', Object.assign({d: 'M3 3l18 18'}, line)));
    if (code === 2) icon.appendChild(svg('path', Object.assign({d: 'M19 3v5', 'stroke-dasharray': '2 2'}, line)));
    icon.style.verticalAlign = '-4px';
    icon.style.marginRight = '6px';
    icon.style.flex = 'none';
    return icon;
  }

  function changeText(i) {
    var w = when[i];
    if (!w || !w[0]) return '';
    var day = w[1] >= 0 ? t.weekdays.split(',')[w[1]] + ' ' : '';
    return (state[i] === 1 ? t.closes : t.opens) + ' ' + day + w[0];
  }

  /* "geöffnet · schließt 18:00", "geschlossen · öffnet Mo 09:00"; null before the state is known. */
  function stateLine(i) {
    if (!state || !raw[i]) return null;
    var s = state[i];
    if (s !== 1 && s !== 2) return P.el('p', {className: 'poi-hours-state', text: t.hours_unclear});
    var word = P.el('strong', {text: s === 1 ? t.is_open : t.is_closed});
    word.style.color = s === 1 ? '#1e6b30' : '#8e1b1b';
    var change = changeText(i);
    return P.el('p', {className: 'poi-hours-state', 'data-open': s === 1 ? '1' : '0'},
      change ? [word, ' · ' + change] : [word]);
  }

  function details(i, into) {
    var line = stateLine(i);
    if (line) into.appendChild(line);
    if (raw[i]) into.appendChild(P.el('p', {className: 'poi-hours-raw', text: t.opening_hours + ': ' + raw[i]}));
    var code = wc[i];
    if (code) {
      var p = P.el('p', {className: 'poi-wheelchair', 'data-wheelchair': WC_NAMES[code]},
        [wheelchairIcon(code), t['wheelchair_' + WC_NAMES[code]]]);
      p.style.color = WC_COLOURS[code];
      into.appendChild(p);
    }
  }

  function matches(i) {
    if (openOnly && (!state || state[i] !== 1)) return false;
    if (wheelOnly && wc[i] !== 1 && wc[i] !== 2) return false;
    return true;
  }

  function loadState() {
    if (!openUrl) return;
    P.fetchJson(openUrl).then(function (body) {
      if (body.n !== n) return; /* rows of another payload version: wait for the next round */
      var next = new Int8Array(n);
      when = {};
      body.rows.forEach(function (r) {
        next[r[0]] = r[1] === 1 ? 1 : r[1] === 0 ? 2 : 3;
        when[r[0]] = [r[2], r[3]];
      });
      state = next;
      window.poiMapState.hoursAt = body.at;
      if (reschedule) reschedule();
    }).catch(function (err) { window.poiMapState.hoursError = String(err); });
  }

  function toggle(id, label, onChange) {
    var input = P.el('input', {type: 'checkbox', id: id});
    input.addEventListener('change', function () { onChange(input.checked); if (reschedule) reschedule(); });
    return P.el('label', {className: 'poi-check', 'for': id}, [input, label]);
  }

  function buildFilters() {
    var cats = document.getElementById('poi-categories');
    if (!cats) return;
    var hasHours = openUrl !== null, hasWheel = false;
    for (var i = 0; i < n && !hasWheel; i++) if (wc[i] === 1 || wc[i] === 2) hasWheel = true;
    if (!hasHours && !hasWheel) return;
    var fieldset = P.el('fieldset', {className: 'poi-categories poi-filters', id: 'poi-filters'},
      [P.el('legend', {text: t.filters_legend})]);
    if (hasHours) fieldset.appendChild(toggle('poi-open-now', t.open_now_filter, function (on) { openOnly = on; }));
    if (hasWheel) fieldset.appendChild(toggle('poi-wheelchair', t.wheelchair_filter, function (on) { wheelOnly = on; }));
    cats.parentNode.insertBefore(fieldset, cats);
  }

  P.hours = {
    init: function (data, cfg, schedule) {
      D = data; t = cfg.t; n = D.n; reschedule = schedule;
      raw = {};
      (D.oh || []).forEach(function (r) { raw[r[0]] = r[1]; });
      wc = new Int8Array(n);
      (D.wc || []).forEach(function (r) { wc[r[0]] = WC[r[1]] || 0; });
      /* Static maps (poi-service maps build) have no server to ask: they show the hours as given. */
      if (cfg.dataUrl && cfg.dataUrl.indexOf('/maps/places/data.json') >= 0 && (D.oh || []).length) {
        openUrl = cfg.dataUrl.replace('/maps/places/data.json', '/maps/places/open.json');
        loadState();
        window.setInterval(loadState, REFRESH_MS);
      }
      buildFilters();
    },
    matches: matches,
    details: details
  };
})();
