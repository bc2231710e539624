/* poi-service resident map and embed widget: clustered markers from a compact column payload, one
   layer per category, lazy popups, search, locate-me and a list that is the map's text alternative. */
(function () {
  'use strict';
  var P = window.PoiMaps, cfg = P.config(), t = cfg.t, lang = cfg.lang;
  var map = window[cfg.map];
  var $ = function (id) { return document.getElementById(id); };
  var status = $('poi-status'), listEl = $('poi-list'), moreBtn = $('poi-more'), sortEl = $('poi-sort');
  var searchInput = $('poi-q');
  var PAGE = 50;

  var D = null, n = 0, markers = [], icons = [], approxByPrec = [], catLayers = [], catActive = [], boxes = [];
  var sparse = {phone: {}, web: {}, desc: {}, src: {}};
  var visible = [], listed = [], listLimit = PAGE, haystack = null, terms = [];
  var ref = null, refKind = null, refMarker = null, cluster = null, ready = false, pending = null;
  var popup = L.popup({maxWidth: 320, autoPanPadding: [16, 16], className: 'poi-popup-wrap'});
  var returnFocus = null, lastAdded = [];
  /* t: milliseconds since navigation start of each step of the first render (read by bench/map_bench.py) */
  window.poiMapState = {ready: false, t: {}};
  function mark(step) { window.poiMapState.t[step] = Math.round(performance.now()); }

  P.label(map, cfg);
  P.attribution(map, cfg);
  var basemap = P.basemap(map, cfg);
  P.tiles(map, cfg, function () { if (basemap) { map.removeLayer(basemap); map.removeLayer(basemap.labels); } });

  function say(text) { if (status) status.textContent = text; }

  function catLabel(c) { return D.categories[c][lang] || D.categories[c].slug; }
  function precLabel(i) { return D.precision_labels[lang][D.precisions[D.prec[i]]]; }
  function isApprox(i) { return approxByPrec[D.prec[i]]; }

  function sparseMap(rows) {
    var out = {};
    (rows || []).forEach(function (r) { out[r[0]] = r.slice(1); });
    return out;
  }

  function markerLabel() {
    var i = this.i;
    return D.name[i] + ' – ' + catLabel(D.cat[i]) + (isApprox(i) ? ' (' + precLabel(i) + ')' : '');
  }

  function clusterIcon(c) {
    var count = c.getChildCount();
    var size = count < 10 ? 34 : count < 100 ? 40 : count < 1000 ? 46 : 52;
    var Icon = L.DivIcon.extend({
      createIcon: function (old) {
        var div = L.DivIcon.prototype.createIcon.call(this, old);
        div.setAttribute('aria-label', P.fmt(t.cluster, {n: count}));
        return div;
      }
    });
    var inner = P.el('div', {}, [P.el('span', {text: String(count), 'aria-hidden': 'true'})]);
    return new Icon({html: inner, className: 'poi-cluster', iconSize: L.point(size, size)});
  }

  function markReady() {
    mark('ready');
    window.poiMapState.ready = true;
    window.poiMapState.readyAt = performance.now();
    window.poiMapState.markers = n;
    document.documentElement.setAttribute('data-poi-ready', '1');
  }

  function load() {
    if (cfg.data) return Promise.resolve(cfg.data);
    return P.fetchJson(cfg.dataUrl);
  }

  /* -- popups ------------------------------------------------------------------------------------ */

  function details(i, into, heading) {
    var c = D.cat[i];
    var dot = P.el('span', {className: 'poi-dot', 'aria-hidden': 'true'});
    dot.style.backgroundColor = D.categories[c].color;
    into.appendChild(heading);
    into.appendChild(P.el('p', {className: 'poi-cat'}, [dot, catLabel(c)]));
    if (D.addr[i]) into.appendChild(P.el('p', {className: 'poi-addr', text: D.addr[i]}));
    if (isApprox(i)) into.appendChild(P.el('p', {className: 'poi-approx', text: precLabel(i)}));
    if (P.hours) P.hours.details(i, into); /* opening hours, wheelchair access: hours.js */
    var ph = sparse.phone[i];
    if (ph) into.appendChild(P.el('p', {}, [t.phone + ': ', P.telLink(ph[0], ph[1])]));
    var web = sparse.web[i];
    if (web && P.httpUrl(web[0])) into.appendChild(P.el('p', {}, [t.website + ': ', P.link(web[0], P.shortUrl(web[0]))]));
    if (ref) {
      var d = P.distance(ref.lat, ref.lng, D.lat[i], D.lon[i]);
      into.appendChild(P.el('p', {className: 'poi-distance', text: t.distance + ': ' + P.formatDistance(d, lang)}));
    }
    return into;
  }

  function popupContent(i) {
    var box = P.el('div', {className: 'poi-popup'});
    details(i, box, P.el('h2', {className: 'poi-popup-title', tabindex: '-1', text: D.name[i]}));
    var desc = sparse.desc[i];
    if (desc) box.appendChild(P.el('p', {className: 'poi-desc', text: desc[0]}));
    var src = sparse.src[i];
    if (src) box.appendChild(P.el('p', {className: 'poi-src'}, [t.source + ': ', P.linkedText(src[0])]));
    return box;
  }

  function openPopup(i, focus) {
    popup.setLatLng([D.lat[i], D.lon[i]]).setContent(popupContent(i)).openOn(map);
    var title = popup.getElement() && popup.getElement().querySelector('.poi-popup-title');
    if (focus && title) title.focus();
  }

  map.on('popupclose', function () {
    if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
    returnFocus = null;
  });

  function showOnMap(i, button) {
    var mainEl = $('poi-main');
    if (mainEl && mainEl.getBoundingClientRect().top < -50) mainEl.scrollIntoView();
    returnFocus = button;
    cluster.zoomToShowLayer(markers[i], function () { openPopup(i, true); });
  }

  /* -- filtering and the list ------------------------------------------------------------------ */

  function buildHaystack() {
    haystack = new Array(n);
    /* as the API's q: a search also finds the places of a category it names, in either language */
    var labels = D.categories.map(function (c) { return ' ' + (c.de || '') + ' ' + (c.en || ''); });
    for (var i = 0; i < n; i++) haystack[i] = P.fold(D.name[i] + ' ' + D.addr[i] + labels[D.cat[i]]);
  }

  function matches(i) {
    if (!catActive[D.cat[i]]) return false;
    if (P.hours && !P.hours.matches(i)) return false;
    for (var k = 0; k < terms.length; k++) if (haystack[i].indexOf(terms[k]) < 0) return false;
    return true;
  }

  function refresh() {
    pending = null;
    var vis = [];
    for (var i = 0; i < n; i++) if (matches(i)) vis.push(i);
    visible = vis;
    var add = new Array(vis.length);
    for (var k = 0; k < vis.length; k++) add[k] = markers[vis[k]];
    cluster.clearLayers();
    cluster.addLayers(add);
    lastAdded = add;
    listLimit = PAGE;
    renderList();
    say(P.fmt(t.count_places, {n: vis.length, total: n}));
    window.poiMapState.visible = vis.length;
  }

  function schedule() {
    if (!ready || pending) return;
    pending = window.setTimeout(refresh, 0);
  }

  function sortListed() {
    if (ref) {
      var dist = {};
      visible.forEach(function (i) { dist[i] = P.distance(ref.lat, ref.lng, D.lat[i], D.lon[i]); });
      listed = visible.slice().sort(function (a, b) { return dist[a] - dist[b]; });
      sortEl.textContent = refKind === 'user' ? t.located : t.sorted_by_distance;
    } else {
      listed = visible; /* the server sends the rows sorted by name */
      sortEl.textContent = t.sorted_by_name;
    }
  }

  function listItem(i) {
    var button = P.el('button', {type: 'button', className: 'poi-linkish', text: D.name[i], 'data-i': i});
    var li = P.el('li', {className: 'poi-item'});
    details(i, li, P.el('h3', {className: 'poi-item-title'}, [button]));
    return li;
  }

  function renderList(append) {
    if (!listEl) return;
    if (!append) { sortListed(); listEl.textContent = ''; }
    var start = append ? listEl.children.length : 0, end = Math.min(listLimit, listed.length);
    var frag = document.createDocumentFragment();
    for (var k = start; k < end; k++) frag.appendChild(listItem(listed[k]));
    listEl.appendChild(frag);
    if (!listed.length) listEl.appendChild(P.el('li', {className: 'poi-empty', text: t.no_results}));
    if (moreBtn) moreBtn.hidden = end >= listed.length;
    return start;
  }

  if (listEl) listEl.addEventListener('click', function (e) {
    var b = e.target.closest('button[data-i]');
    if (b) showOnMap(Number(b.getAttribute('data-i')), b);
  });
  if (moreBtn) moreBtn.addEventListener('click', function () {
    listLimit += PAGE;
    var start = renderList(true);
    var b = listEl.children[start] && listEl.children[start].querySelector('button');
    if (b) b.focus();
  });

  var searchTimer = null;
  function onSearch() {
    if (!ready) return;
    window.clearTimeout(searchTimer);
    searchTimer = window.setTimeout(function () {
      if (!haystack) buildHaystack();
      terms = P.fold(searchInput.value).split(/\s+/).filter(Boolean);
      schedule();
    }, 200);
  }
  if (searchInput) {
    searchInput.addEventListener('input', onSearch);
    $('poi-search-form').addEventListener('submit', function (e) { e.preventDefault(); onSearch(); });
  }

  /* -- location ------------------------------------------------------------------------------- */

  function setRef(latlng, kind, accuracy) {
    ref = latlng; refKind = kind;
    if (refMarker) map.removeLayer(refMarker);
    refMarker = L.layerGroup().addTo(map);
    if (kind === 'user') {
      if (accuracy) L.circle(latlng, {radius: accuracy, interactive: false, className: 'poi-accuracy'}).addTo(refMarker);
      L.circleMarker(latlng, {radius: 8, className: 'poi-you', interactive: false}).addTo(refMarker);
    }
    if (ready) renderList();
  }

  function locate() {
    if (!navigator.geolocation) { say(t.locate_failed); return; }
    say(t.locating);
    navigator.geolocation.getCurrentPosition(function (pos) {
      var ll = L.latLng(pos.coords.latitude, pos.coords.longitude);
      setRef(ll, 'user', pos.coords.accuracy);
      map.setView(ll, Math.max(map.getZoom(), 14));
      say(t.located);
    }, function () { say(t.locate_failed); }, {timeout: 10000, maximumAge: 60000});
  }
  P.buttonControl(map, {label: t.locate, icon: P.locateIcon, onClick: locate});
  if ($('poi-locate')) $('poi-locate').addEventListener('click', locate);

  var toggle = $('poi-list-toggle');
  if (toggle) toggle.addEventListener('click', function () {
    var panel = $('poi-panel'), open = panel.hidden;
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    toggle.textContent = open ? t.hide_list : t.show_list;
    if (open) $('poi-list-section').focus();
  });

  /* -- categories as layers ------------------------------------------------------------------- */

  var CategoryLayer = L.Layer.extend({
    initialize: function (c) { this.c = c; },
    onAdd: function () { setActive(this.c, true); },
    onRemove: function () { setActive(this.c, false); }
  });

  function setActive(c, on) {
    catActive[c] = on;
    var box = boxes[c];
    if (box) box.checked = on;
    schedule();
  }

  function buildCategories(counts, initial) {
    var fieldset = $('poi-categories');
    var overlays = {};
    D.categories.forEach(function (cat, c) {
      catLayers[c] = new CategoryLayer(c);
      catActive[c] = false;
      if (!counts[c]) return;
      var on = !initial.length || initial.indexOf(cat.slug) >= 0;
      var label = catLabel(c);
      overlays['<span class="poi-dot poi-dot-' + c + '"></span>' + P.escapeHtml(label + ' (' + counts[c] + ')')] = catLayers[c];
      if (fieldset) {
        var input = P.el('input', {type: 'checkbox', value: cat.slug});
        var dot = P.el('span', {className: 'poi-dot', 'aria-hidden': 'true'});
        dot.style.backgroundColor = cat.color;
        input.checked = on;
        input.addEventListener('change', function () {
          if (input.checked) map.addLayer(catLayers[c]); else map.removeLayer(catLayers[c]);
        });
        boxes[c] = input;
        fieldset.appendChild(P.el('label', {className: 'poi-check'}, [input, dot, label + ' (' + counts[c] + ')']));
      }
      if (on) map.addLayer(catLayers[c]);
    });
    var ctl = P.layersControl(map, overlays, t.categories_legend);
    /* colour dots inside the Leaflet control (CSSOM, allowed by the CSP) */
    D.categories.forEach(function (cat, c) {
      Array.prototype.forEach.call(ctl.getContainer().querySelectorAll('.poi-dot-' + c), function (d) {
        d.style.backgroundColor = cat.color;
      });
    });
  }

  /* -- start ---------------------------------------------------------------------------------- */

  function init(data) {
    mark('data');
    D = data; n = D.n;
    D.cat = new Int16Array(n); D.prec = new Int8Array(n); D.addr = new Array(n);
    for (var j = 0; j < n; j++) {
      D.cat[j] = Math.floor(D.kp[j] / D.prec_base); D.prec[j] = D.kp[j] % D.prec_base;
      var town = D.towns[D.town[j]];
      D.addr[j] = D.street[j] && town ? D.street[j] + ', ' + town : (D.street[j] || town);
    }
    Object.keys(sparse).forEach(function (k) { sparse[k] = sparseMap(D[k]); });
    var approxSet = {};
    D.approximate.forEach(function (p) { approxSet[p] = true; });
    approxByPrec = D.precisions.map(function (p) { return !!approxSet[p]; });
    icons = D.categories.map(function (c) { return [P.pinIcon(c.color, false), P.pinIcon(c.color, true)]; });
    cluster = L.markerClusterGroup({
      chunkedLoading: true, chunkInterval: 250, chunkDelay: 10, showCoverageOnHover: false,
      maxClusterRadius: 50, spiderfyOnMaxZoom: true, iconCreateFunction: clusterIcon,
      chunkProgress: function (done, total) {
        if (done === total && !window.poiMapState.ready) {
          /* the clusters are drawn right after this call: mark the first frame that shows them */
          window.requestAnimationFrame(markReady);
        }
      }
    });
    var counts = [], opts = {keyboard: true, riseOnHover: true};
    var minLat = 90, maxLat = -90, minLon = 180, maxLon = -180;
    for (var i = 0; i < n; i++) {
      var lat = D.lat[i], lon = D.lon[i], c = D.cat[i];
      opts.icon = icons[c][approxByPrec[D.prec[i]] ? 1 : 0];
      var m = new P.LabelledMarker([lat, lon], opts);
      m.i = i; m.label = markerLabel;
      markers[i] = m;
      counts[c] = (counts[c] || 0) + 1;
      if (lat < minLat) minLat = lat; if (lat > maxLat) maxLat = lat;
      if (lon < minLon) minLon = lon; if (lon > maxLon) maxLon = lon;
    }
    mark('markers');
    cluster.on('click', function (e) { if (e.layer && e.layer.i !== undefined) openPopup(e.layer.i, false); });
    cluster.on('keypress', function (e) {
      var key = e.originalEvent && e.originalEvent.key;
      if ((key === 'Enter' || key === ' ') && e.layer && e.layer.i !== undefined) {
        e.originalEvent.preventDefault();
        returnFocus = e.layer._icon;
        openPopup(e.layer.i, true);
      }
    });
    cluster.on('clusterkeypress', function (e) {
      var key = e.originalEvent && e.originalEvent.key;
      if (key !== 'Enter' && key !== ' ') return;
      e.originalEvent.preventDefault();
      if (map.getZoom() >= map.getMaxZoom()) e.layer.spiderfy();
      else e.layer.zoomToBounds({padding: [24, 24]});
      map.getContainer().focus();
    });
    map.addLayer(cluster);

    var filter = cfg.filter || {};
    buildCategories(counts, filter.categories || []);
    if (searchInput && searchInput.value.trim()) {
      buildHaystack();
      terms = P.fold(searchInput.value).split(/\s+/).filter(Boolean);
    }
    if (P.hours) P.hours.init(D, cfg, schedule);
    ready = true;
    refresh();
    var view = cfg.view || {};
    if (view.center) {
      var center = L.latLng(view.center[0], view.center[1]);
      map.setView(center, view.zoom || 13);
      if (view.radius_m) L.circle(center, {radius: view.radius_m, interactive: false, className: 'poi-radius'}).addTo(map);
      setRef(center, 'center');
    } else if (n) {
      if (visible.length && visible.length < n) {  /* a preset filter: fit the view to its markers */
        minLat = 90; maxLat = -90; minLon = 180; maxLon = -180;
        visible.forEach(function (k) {
          minLat = Math.min(minLat, D.lat[k]); maxLat = Math.max(maxLat, D.lat[k]);
          minLon = Math.min(minLon, D.lon[k]); maxLon = Math.max(maxLon, D.lon[k]);
        });
      }
      /* room for the controls (zoom and locate on the left, layers on the right, credits below), so no
         marker or cluster hides under them */
      map.fitBounds([[minLat, minLon], [maxLat, maxLon]],
                    {maxZoom: view.zoom || 15, paddingTopLeft: [72, 52], paddingBottomRight: [60, 48]});
    } else {
      markReady();
    }
    mark('list');
  }

  load().then(init).catch(function (err) {
    say(t.load_failed);
    window.poiMapState.error = String(err);
  });
})();
