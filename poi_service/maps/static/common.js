/* poi-service maps: shared helpers. Every text goes into the DOM with textContent; the few Leaflet APIs
   that take HTML (attribution, layer names) get escaped strings. No request leaves the page's origin
   unless the operator configured a tile server and the visitor consented. */
(function () {
  'use strict';
  var P = (window.PoiMaps = {});

  P.config = function () {
    return JSON.parse(document.getElementById('poi-map-config').textContent);
  };

  P.fmt = function (text, vars) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return k in vars ? String(vars[k]) : m; });
  };

  /* el('a', {href: url, className: 'x', text: 'label'}, [children]) */
  P.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === null || v === undefined || v === false) return;
      if (k === 'text') node.textContent = String(v);
      else if (k === 'className') node.className = v;
      else if (k === 'hidden') node.hidden = true;
      else if (k === 'href') node.setAttribute('href', v);
      else node.setAttribute(k, v === true ? '' : String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  };

  P.escapeHtml = function (text) {
    return String(text).replace(/[&<>"'`]/g, function (c) { return '&#' + c.charCodeAt(0) + ';'; });
  };

  /* An absolute http(s) URL, or null (javascript:, data:, relative and malformed URLs are refused). */
  P.httpUrl = function (value) {
    if (typeof value !== 'string' || /\s/.test(value.trim())) return null;
    try {
      var u = new URL(value.trim());
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname ? u.href : null;
    } catch (e) {
      return null;
    }
  };

  P.link = function (url, text) {
    var href = P.httpUrl(url);
    if (!href) return document.createTextNode(text || url || '');
    return P.el('a', {href: href, rel: 'noopener noreferrer', target: '_blank', text: text || href});
  };

  P.shortUrl = function (url) {
    try {
      var u = new URL(url);
      var path = u.pathname === '/' ? '' : u.pathname;
      var s = u.hostname.replace(/^www\./, '') + path;
      return s.length > 48 ? s.slice(0, 47) + '…' : s;
    } catch (e) {
      return url;
    }
  };

  /* Plain text with its http(s) URLs as links, as a DOM fragment. */
  P.linkedText = function (text) {
    var frag = document.createDocumentFragment();
    var re = /https?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:)\]]/g;
    var last = 0, m;
    while ((m = re.exec(text)) !== null) {
      frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      frag.appendChild(P.link(m[0], P.shortUrl(m[0])));
      last = m.index + m[0].length;
    }
    frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  };

  P.telLink = function (e164, display) {
    if (typeof e164 !== 'string' || !/^\+?[0-9]{3,20}$/.test(e164)) return document.createTextNode(display || '');
    return P.el('a', {href: 'tel:' + e164, text: display || e164});
  };

  P.fold = function (text) {
    return String(text).toLowerCase().replace(/ß/g, 'ss').normalize('NFD').replace(/[\u0300-\u036f]/g, '');
  };

  P.distance = function (lat1, lon1, lat2, lon2) {
    var r = Math.PI / 180;
    var dLat = (lat2 - lat1) * r, dLon = (lon2 - lon1) * r;
    var h = Math.sin(dLat / 2) * Math.sin(dLat / 2) +
      Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dLon / 2) * Math.sin(dLon / 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(h)));
  };

  P.formatDistance = function (m, lang) {
    var loc = lang === 'de' ? 'de-DE' : 'en-GB';
    if (m < 1000) return new Intl.NumberFormat(loc, {maximumFractionDigits: 0}).format(Math.round(m / 10) * 10) + ' m';
    return new Intl.NumberFormat(loc, {maximumFractionDigits: 1}).format(m / 1000) + ' km';
  };

  function svgUri(svg) {
    return 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg);
  }
  var SVG = '<svg xmlns="http://www.w3.org/2000/svg" ';

  /* A map pin in a category colour; approximate positions get a hollow, dashed pin. */
  P.pinIcon = function (color, approx) {
    var body = approx
      ? '<path d="M12 2C6.5 2 2 6.5 2 12c0 7.6 10 19.5 10 19.5S22 19.6 22 12C22 6.5 17.5 2 12 2z" fill="#ffffff" ' +
        'stroke="' + color + '" stroke-width="2.5" stroke-dasharray="4 2"/><circle cx="12" cy="12" r="4" fill="' + color + '"/>'
      : '<path d="M12 2C6.5 2 2 6.5 2 12c0 7.6 10 19.5 10 19.5S22 19.6 22 12C22 6.5 17.5 2 12 2z" fill="' + color +
        '" stroke="#ffffff" stroke-width="1.5"/><circle cx="12" cy="12" r="4" fill="#ffffff"/>';
    return L.icon({
      iconUrl: svgUri(SVG + 'width="24" height="34" viewBox="0 0 24 34">' + body + '</svg>'),
      iconSize: [24, 34], iconAnchor: [12, 33], popupAnchor: [0, -30], className: 'poi-pin'
    });
  };

  /* A round member symbol; coordinators are larger with a dark ring. dx shifts it sideways so that one
     municipality's memberships in several alliances stay visible side by side. */
  P.dotIcon = function (color, coordinator, dx) {
    var size = coordinator ? 26 : 16;
    var c = size / 2;
    var body = coordinator
      ? '<circle cx="' + c + '" cy="' + c + '" r="' + (c - 2) + '" fill="' + color + '" stroke="#111111" stroke-width="3"/>' +
        '<circle cx="' + c + '" cy="' + c + '" r="' + (c - 6) + '" fill="none" stroke="#ffffff" stroke-width="1.5"/>'
      : '<circle cx="' + c + '" cy="' + c + '" r="' + (c - 1.5) + '" fill="' + color + '" stroke="#ffffff" stroke-width="1.5"/>';
    return L.icon({
      iconUrl: svgUri(SVG + 'width="' + size + '" height="' + size + '" viewBox="0 0 ' + size + ' ' + size + '">' + body + '</svg>'),
      iconSize: [size, size], iconAnchor: [c - (dx || 0), c], popupAnchor: [dx || 0, -c], className: 'poi-dot-icon'
    });
  };

  /* A marker whose icon carries alt text and an accessible name (the label is made when it is shown). */
  P.LabelledMarker = L.Marker.extend({
    _initIcon: function () {
      L.Marker.prototype._initIcon.call(this);
      var label = this.label ? this.label() : '';
      if (this._icon && label) {
        this._icon.setAttribute('alt', label);
        this._icon.setAttribute('aria-label', label);
      }
    }
  });

  P.attribution = function (map, cfg) {
    var control = map.attributionControl;
    if (!control) return;
    control.setPrefix('Leaflet');
    control.addAttribution(cfg.attribution);
  };

  function fetchJson(url) {
    return fetch(url, {credentials: 'same-origin'}).then(function (r) {
      if (!r.ok) throw new Error('HTTP ' + r.status);
      return r.json();
    });
  }
  P.fetchJson = fetchJson;

  /* Data given in the page (inline) or in a script file beside a static page (global), else null. */
  P.given = function (spec) {
    if (!spec) return null;
    if (spec.inline) return spec.inline;
    if (spec.global && window.POI_BASEMAP) return window.POI_BASEMAP[spec.global] || null;
    return null;
  };

  /* The offline basemap: states below zoom 7, districts at 7-9, municipalities (by bounding box) from 10. */
  P.basemap = function (map, cfg) {
    var spec = cfg.basemap;
    if (!spec) return null;
    map.createPane('poi-basemap').style.zIndex = 150;
    var renderer = L.canvas({pane: 'poi-basemap', padding: 0.3});
    var weights = {state: 1.4, district: 1, municipality: 0.7};
    function layerFor(level) {
      return L.geoJSON(null, {
        renderer: renderer, interactive: false,
        style: {color: '#7d8a96', weight: weights[level], fillColor: '#fbfaf5', fillOpacity: 1}
      });
    }
    var layers = {state: layerFor('state'), district: layerFor('district'), municipality: layerFor('municipality')};
    var loaded = {state: false, district: false}, seen = {}, boxes = [];
    var group = L.layerGroup();
    map.createPane('poi-labels').style.zIndex = 650; /* above the markers: dots must not hide the names */
    var labelLayer = L.layerGroup().addTo(map), labelMarkers = {}, labelFeatures = {state: [], district: [], municipality: []};
    function levelFor(z) { return z < 7 ? 'state' : z < 10 ? 'district' : 'municipality'; }
    function addFc(level, fc) {
      fc.features.forEach(function (f) {
        var key = f.properties && f.properties.ags;
        if (key && seen[key]) return;
        if (key) seen[key] = true;
        layers[level].addData(f);
        if (f.properties && f.properties.lp) labelFeatures[level].push(f.properties);
      });
    }
    function ensure(level) {
      var s = spec[level];
      if (!s) return;
      var given = P.given(s);
      if (level !== 'municipality') {
        if (loaded[level]) return;
        loaded[level] = true;
        if (given) { addFc(level, given); labels(); }
        else fetchJson(s.url).then(function (fc) { addFc(level, fc); labels(); });
        return;
      }
      if (given) {
        if (!loaded.municipality) { loaded.municipality = true; addFc(level, given); labels(); }
        return;
      }
      var b = map.getBounds().pad(0.5);
      if (boxes.some(function (box) { return box.contains(b); })) return;
      boxes.push(b);
      var bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) { return v.toFixed(3); });
      fetchJson(s.url + '?bbox=' + bbox.join(',')).then(function (fc) { addFc(level, fc); labels(); });
    }
    /* Area names, largest first, skipping any that would overlap a placed one (decorative: aria-hidden). */
    function labelLevel(z) { return z < 5 ? null : z < 8 ? 'state' : z < 11 ? 'district' : 'municipality'; }
    function labels() {
      var level = labelLevel(map.getZoom());
      if (level === 'municipality' && !spec.municipality) level = 'district';
      var bounds = map.getBounds(), placed = [], keep = {};
      var feats = level ? labelFeatures[level].filter(function (p) {
        return bounds.contains([p.lp[1], p.lp[0]]);
      }) : [];
      feats.sort(function (a, b) { return b.a - a.a; });
      feats.slice(0, 400).forEach(function (p) {
        var pt = map.latLngToContainerPoint([p.lp[1], p.lp[0]]);
        var w = p.name.length * 6.5 + 6, h = 16;
        var box = [pt.x - w / 2, pt.y - h / 2, pt.x + w / 2, pt.y + h / 2];
        var hit = placed.some(function (o) { return box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]; });
        if (hit) return;
        placed.push(box);
        var key = level + p.ags;
        keep[key] = true;
        if (!labelMarkers[key]) {
          var span = P.el('span', {text: p.name});
          labelMarkers[key] = L.marker([p.lp[1], p.lp[0]], {
            icon: L.divIcon({html: span, className: 'poi-area-label poi-area-label-' + level, iconSize: null}),
            interactive: false, keyboard: false, pane: 'poi-labels'
          });
        }
        labelLayer.addLayer(labelMarkers[key]);
      });
      Object.keys(labelMarkers).forEach(function (key) {
        if (!keep[key]) labelLayer.removeLayer(labelMarkers[key]);
      });
    }

    function update() {
      var level = levelFor(map.getZoom());
      if (level === 'municipality' && !spec.municipality) level = 'district';
      ensure(level);
      Object.keys(layers).forEach(function (k) {
        if (k === level) group.addLayer(layers[k]); else group.removeLayer(layers[k]);
      });
    }
    group.addTo(map);
    map.on('zoomend moveend', function () { update(); labels(); });
    update();
    group.labels = labelLayer;
    return group;
  };

  /* Two-click consent (DSGVO) before any tile of an external server is requested. */
  P.tiles = function (map, cfg, onLoad) {
    if (!cfg.tiles) return;
    var t = cfg.t, key = 'poi-tiles-consent:' + cfg.tiles.host;
    var control = null;
    function load() {
      L.tileLayer(cfg.tiles.url, {
        attribution: cfg.tiles.attribution, maxZoom: 19, referrerPolicy: 'strict-origin-when-cross-origin'
      }).addTo(map);
      if (control) control.remove();
      if (onLoad) onLoad();
    }
    try {
      if (window.sessionStorage.getItem(key) === '1') { load(); return; }
    } catch (e) { /* storage disabled: ask every time */ }
    var Consent = L.Control.extend({
      options: {position: 'bottomleft'},
      onAdd: function () {
        var ok = P.el('button', {type: 'button', className: 'poi-button poi-primary', text: t.tiles_consent_ok});
        var cancel = P.el('button', {type: 'button', className: 'poi-button', text: t.tiles_consent_cancel});
        var panel = P.el('div', {className: 'poi-consent-panel', hidden: true, id: 'poi-consent-panel'}, [
          P.el('p', {text: P.fmt(t.tiles_consent_text, {host: cfg.tiles.host})}), ok, cancel
        ]);
        var first = P.el('button', {
          type: 'button', className: 'poi-button', text: t.tiles_consent_button,
          'aria-expanded': 'false', 'aria-controls': 'poi-consent-panel'
        });
        first.addEventListener('click', function () {
          panel.hidden = false; first.hidden = true; first.setAttribute('aria-expanded', 'true'); ok.focus();
        });
        cancel.addEventListener('click', function () {
          panel.hidden = true; first.hidden = false; first.setAttribute('aria-expanded', 'false'); first.focus();
        });
        ok.addEventListener('click', function () {
          try { window.sessionStorage.setItem(key, '1'); } catch (e) { /* not remembered */ }
          load();
        });
        var box = P.el('div', {className: 'poi-consent leaflet-bar'}, [first, panel]);
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        return box;
      }
    });
    control = new Consent().addTo(map);
  };

  /* A button control on the map (locate me, list toggle). */
  P.buttonControl = function (map, opts) {
    var Ctl = L.Control.extend({
      options: {position: opts.position || 'topleft'},
      onAdd: function () {
        var b = P.el('button', {type: 'button', className: 'poi-map-button', title: opts.label, 'aria-label': opts.label});
        b.appendChild(opts.icon ? opts.icon() : document.createTextNode(opts.symbol || ''));
        b.addEventListener('click', opts.onClick);
        var box = P.el('div', {className: 'leaflet-bar leaflet-control'}, [b]);
        L.DomEvent.disableClickPropagation(box);
        return box;
      }
    });
    return new Ctl().addTo(map);
  };

  /* A crosshair drawn with SVG elements (no icon font, no image request). */
  P.locateIcon = function () {
    var ns = 'http://www.w3.org/2000/svg';
    var svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24'); svg.setAttribute('width', '20'); svg.setAttribute('height', '20');
    svg.setAttribute('aria-hidden', 'true'); svg.setAttribute('focusable', 'false');
    [['circle', {cx: 12, cy: 12, r: 6.5, fill: 'none', stroke: 'currentColor', 'stroke-width': 2}],
     ['circle', {cx: 12, cy: 12, r: 2.2, fill: 'currentColor'}],
     ['path', {d: 'M12 1v4M12 19v4M1 12h4M19 12h4', stroke: 'currentColor', 'stroke-width': 2}]].forEach(function (d) {
      var e = document.createElementNS(ns, d[0]);
      Object.keys(d[1]).forEach(function (k) { e.setAttribute(k, String(d[1][k])); });
      svg.appendChild(e);
    });
    return svg;
  };

  function name(el, text) {
    if (!el) return;
    el.setAttribute('title', text);
    el.setAttribute('aria-label', text);
  }

  /* Names the map and Leaflet's own English-labelled buttons in the page language. */
  P.label = function (map, cfg) {
    var t = cfg.t;
    map.getContainer().setAttribute('aria-label', t.map_label);
    if (map.zoomControl) {
      name(map.zoomControl._zoomInButton, t.zoom_in);
      name(map.zoomControl._zoomOutButton, t.zoom_out);
    }
    map.on('popupopen', function (e) { name(e.popup._closeButton, t.close); });
  };

  P.layersControl = function (map, overlays, label) {
    var ctl = L.control.layers(null, overlays, {collapsed: true, position: 'topright'}).addTo(map);
    ctl.getContainer().setAttribute('aria-label', label);
    name(ctl.getContainer().querySelector('.leaflet-control-layers-toggle'), label);
    return ctl;
  };
})();
