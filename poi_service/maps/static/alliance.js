/* poi-service alliance membership map: one layer per alliance, coordinators highlighted, a choropleth of
   members per state, a year slider showing growth, a legend and a member table (the text alternative). */
(function () {
  'use strict';
  var P = window.PoiMaps, cfg = P.config(), t = cfg.t, lang = cfg.lang;
  var map = window[cfg.map];
  var $ = function (id) { return document.getElementById(id); };
  var status = $('poi-status');
  var BREAKS = [1, 5, 10, 20, 40];
  var CLASS_COLOURS = ['#f4f2f8', '#dadaeb', '#bcbddc', '#9e9ac8', '#756bb1', '#54278f'];
  var OFFSET = {buendnis: 0, international: 7, seebruecke_declared: -7};

  var D = null, rows = [], groups = {}, active = {}, markers = [], stateLayer = null, stateCounts = {};
  var lastKnown = null;
  var yearInput = $('al-year'), yearOut = $('al-year-out'), unknownBox = $('al-unknown'), playBtn = $('al-play');
  var popup = L.popup({maxWidth: 320, className: 'poi-popup-wrap'}), returnFocus = null, playTimer = null;
  window.poiMapState = {ready: false};

  P.label(map, cfg);
  P.attribution(map, cfg);
  var basemap = P.basemap(map, cfg);
  P.tiles(map, cfg, function () { if (basemap) { map.removeLayer(basemap); map.removeLayer(basemap.labels); } });

  function say(text) { if (status) status.textContent = text; }
  function allianceLabel(code) {
    var a = D.alliances.filter(function (x) { return x.code === code; })[0];
    return a ? a[lang] : code;
  }
  function roleLabel(code) { return (D.roles[lang] || {})[code] || code; }
  function place(r) { return r.state || r.country || ''; }

  function popupContent(r) {
    var box = P.el('div', {className: 'poi-popup'}, [
      P.el('h2', {className: 'poi-popup-title', tabindex: '-1', text: r.name}),
      P.el('p', {className: 'poi-cat', text: allianceLabel(r.a)}),
      P.el('p', {text: t.role + ': ' + roleLabel(r.r)}),
      P.el('p', {text: [r.kind, place(r)].filter(Boolean).join(', ')}),
      P.el('p', {text: t.joined + ': ' + (r.joined || t.unknown)})
    ]);
    if (r.src && P.httpUrl(r.src)) box.appendChild(P.el('p', {}, [t.source + ': ', P.link(r.src, P.shortUrl(r.src))]));
    return box;
  }

  function openPopup(k, focus) {
    var r = rows[k];
    popup.setLatLng([r.lat, r.lon]).setContent(popupContent(r)).openOn(map);
    var title = popup.getElement() && popup.getElement().querySelector('.poi-popup-title');
    if (focus && title) title.focus();
  }
  map.on('popupclose', function () {
    if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
    returnFocus = null;
  });

  function isShown(r) {
    if (!active[r.a]) return false;
    if (r.year === null || r.year === undefined) return unknownBox.checked;
    return r.year <= Number(yearInput.value);
  }

  function classOf(count) {
    var k = 0;
    while (k < BREAKS.length && count >= BREAKS[k]) k++;
    return k;
  }

  function styleState(feature) {
    var count = stateCounts[feature.properties.ags] || 0;
    return {color: '#5b5670', weight: 0.8, fillColor: CLASS_COLOURS[classOf(count)], fillOpacity: 0.75};
  }

  function refresh() {
    var shown = [];
    stateCounts = {};
    Object.keys(groups).forEach(function (a) { groups[a].clearLayers(); });
    rows.forEach(function (r, k) {
      if (!isShown(r)) return;
      shown.push(k);
      groups[r.a].addLayer(markers[k]);
      if (r.st) stateCounts[r.st] = (stateCounts[r.st] || 0) + 1;
    });
    if (stateLayer) stateLayer.setStyle(styleState);
    var year = Number(yearInput.value), unknown = lastKnown !== null && year > lastKnown;
    yearOut.textContent = yearInput.value + (unknown ? ' (' + t.unknown_short + ')' : '');
    map.getContainer().classList.toggle('poi-year-unknown', unknown);
    renderStates();
    renderTable(shown);
    window.poiMapState.visible = shown.length;
    window.poiMapState.unknownYear = unknown;
    say(unknown ? P.fmt(t.year_unknown, {year: year, last: lastKnown, n: shown.length})
      : P.fmt(t.members_shown, {n: shown.length}) + ' (' + t.year_label + ' ' + yearInput.value + ')');
  }

  /* The choropleth classes as a legend: swatch and range ("1–4", "40+"). */
  function renderClasses() {
    var box = $('al-classes');
    if (!box || box.childNodes.length) return;
    var bounds = [0].concat(BREAKS);
    bounds.forEach(function (lo, k) {
      var hi = k < BREAKS.length ? BREAKS[k] - 1 : null;
      var text = hi === null ? lo + '+' : lo === hi ? String(lo) : lo + '–' + hi;
      var sw = P.el('span', {className: 'poi-swatch', 'aria-hidden': 'true'});
      sw.style.backgroundColor = CLASS_COLOURS[k];
      box.appendChild(P.el('li', {}, [sw, text]));
    });
  }

  function renderStates() {
    renderClasses();
    var body = $('al-states').tBodies[0];
    body.textContent = '';
    D.states.forEach(function (s) {
      var count = stateCounts[s.ags] || 0;
      var sw = P.el('span', {className: 'poi-swatch', 'aria-hidden': 'true'});
      sw.style.backgroundColor = CLASS_COLOURS[classOf(count)];
      body.appendChild(P.el('tr', {}, [
        P.el('th', {scope: 'row'}, [sw, s.name]), P.el('td', {text: String(count)})
      ]));
    });
  }

  function renderTable(shown) {
    var body = $('al-table').tBodies[0];
    body.textContent = '';
    var frag = document.createDocumentFragment();
    shown.forEach(function (k) {
      var r = rows[k];
      var button = P.el('button', {type: 'button', className: 'poi-linkish', text: r.name, 'data-k': k});
      var src = r.src && P.httpUrl(r.src) ? P.link(r.src, P.shortUrl(r.src)) : document.createTextNode('');
      frag.appendChild(P.el('tr', {}, [
        P.el('th', {scope: 'row'}, [button]),
        P.el('td', {text: allianceLabel(r.a)}),
        P.el('td', {text: roleLabel(r.r)}),
        P.el('td', {text: place(r)}),
        P.el('td', {text: r.joined || t.unknown}),
        P.el('td', {}, [src])
      ]));
    });
    body.appendChild(frag);
  }

  $('al-table').addEventListener('click', function (e) {
    var b = e.target.closest('button[data-k]');
    if (!b) return;
    var k = Number(b.getAttribute('data-k'));
    returnFocus = b;
    map.setView([rows[k].lat, rows[k].lon], Math.max(map.getZoom(), 9));
    var mainEl = $('poi-main');
    if (mainEl && mainEl.getBoundingClientRect().top < -50) mainEl.scrollIntoView();
    openPopup(k, true);
  });

  function setActive(code, on) {
    active[code] = on;
    var box = document.querySelector('#al-alliances input[value="' + code + '"]');
    if (box) box.checked = on;
    if (D) refresh();
  }

  var AllianceLayer = L.LayerGroup.extend({
    onAdd: function (m) { L.LayerGroup.prototype.onAdd.call(this, m); setActive(this.code, true); },
    onRemove: function (m) { L.LayerGroup.prototype.onRemove.call(this, m); setActive(this.code, false); }
  });

  function init(data) {
    D = data; rows = D.rows;
    var overlays = {};
    if (cfg.states) {
      stateLayer = L.geoJSON(null, {style: styleState, interactive: false});
      overlays[P.escapeHtml(t.choropleth)] = stateLayer;
      stateLayer.addTo(map);
      var s = cfg.states;
      (P.given(s) ? Promise.resolve(P.given(s)) : P.fetchJson(s.url)).then(function (fc) {
        stateLayer.addData(fc);
        stateLayer.setStyle(styleState);
      });
    }
    D.alliances.forEach(function (a) {
      var g = new AllianceLayer();
      g.code = a.code;
      groups[a.code] = g;
      active[a.code] = true;
      overlays['<span class="poi-swatch poi-swatch-' + a.code + '"></span>' + P.escapeHtml(a[lang])] = g;
    });
    var icons = {};
    var years = [];
    rows.forEach(function (r, k) {
      var coord = r.r === 'coordinator' || r.r === 'state_coordinator';
      var key = r.a + (coord ? ':c' : '');
      var color = (D.alliances.filter(function (x) { return x.code === r.a; })[0] || {}).color || '#444444';
      icons[key] = icons[key] || P.dotIcon(color, coord, OFFSET[r.a] || 0);
      var m = new P.LabelledMarker([r.lat, r.lon], {icon: icons[key], keyboard: true, riseOnHover: true,
        zIndexOffset: coord ? 1000 : 0});
      m.label = function () { return r.name + ' – ' + allianceLabel(r.a) + ' – ' + roleLabel(r.r); };
      m.k = k;
      m.on('click', function (e) { openPopup(k, false); });
      m.on('keypress', function (e) {
        var key2 = e.originalEvent && e.originalEvent.key;
        if (key2 === 'Enter' || key2 === ' ') { e.originalEvent.preventDefault(); returnFocus = m._icon; openPopup(k, true); }
      });
      markers[k] = m;
      if (r.year) years.push(r.year);
    });
    var minYear = years.length ? Math.min.apply(null, years) : new Date().getFullYear();
    var maxYear = years.length ? Math.max.apply(null, years) : minYear;
    /* The slider runs to this year, but the years after the last dated join are unknown, not the last
       state carried forward: refresh() says so and greys the map. */
    lastKnown = maxYear;
    yearInput.min = String(minYear); yearInput.max = String(Math.max(maxYear, new Date().getFullYear()));
    yearInput.value = String(maxYear);
    Object.keys(groups).forEach(function (a) { groups[a].addTo(map); });
    P.layersControl(map, overlays, t.layers_title);
    var de = rows.filter(function (r) { return r.country === 'DE'; });
    var pts = (de.length ? de : rows).map(function (r) { return [r.lat, r.lon]; });
    if (pts.length) map.fitBounds(pts, {padding: [20, 20], maxZoom: 9});
    refresh();
    window.poiMapState.ready = true;
    window.poiMapState.markers = rows.length;
    document.documentElement.setAttribute('data-poi-ready', '1');
  }

  Array.prototype.forEach.call(document.querySelectorAll('#al-alliances input'), function (box) {
    box.addEventListener('change', function () {
      var g = groups[box.value];
      if (!g) return;
      if (box.checked) map.addLayer(g); else map.removeLayer(g);
    });
  });
  yearInput.addEventListener('input', function () { if (D) refresh(); });
  unknownBox.addEventListener('change', function () { if (D) refresh(); });
  function stop() {
    window.clearInterval(playTimer); playTimer = null; playBtn.textContent = t.play;
  }
  playBtn.addEventListener('click', function () {
    if (playTimer) { stop(); return; }
    yearInput.value = yearInput.min;
    refresh();
    playBtn.textContent = t.stop;
    playTimer = window.setInterval(function () {
      if (Number(yearInput.value) >= Number(yearInput.max)) { stop(); return; }
      yearInput.value = String(Number(yearInput.value) + 1);
      refresh();
    }, 1200);
  });

  (cfg.data ? Promise.resolve(cfg.data) : P.fetchJson(cfg.dataUrl)).then(init).catch(function (err) {
    say(t.load_failed);
    window.poiMapState.error = String(err);
  });
})();
