/* poi-service street basemap: the service's own vector tiles (OpenMapTiles schema, built by
   `poi-service osm tiles`) drawn on canvas by the vendored protomaps-leaflet, with paint rules written for
   that schema. Runs only when the page config carries basemap.streets; every request goes to the tile URL
   given there (the service itself). Text is drawn with the browser's own fonts: no glyph downloads. */
(function () {
  'use strict';

  var ROAD = {
    motorway: {fill: '#e892a2', casing: '#c24e6b', w: 1.6},
    trunk: {fill: '#f9b29c', casing: '#c84e2f', w: 1.5},
    primary: {fill: '#fcd6a4', casing: '#a06b00', w: 1.4},
    secondary: {fill: '#f7fabf', casing: '#707d05', w: 1.25},
    tertiary: {fill: '#ffffff', casing: '#8f8f8f', w: 1.1},
    minor: {fill: '#ffffff', casing: '#a9a9a9', w: 0.9},
    service: {fill: '#ffffff', casing: '#b5b5b5', w: 0.55},
    track: {fill: '#ffffff', casing: '#b5a18b', w: 0.45}
  };
  var LANDCOVER = {grass: '#cdebb0', wood: '#add19e', farmland: '#eef0d5', wetland: '#d5e6d3', sand: '#f5e9c6',
                   rock: '#e4dfda', ice: '#ddecec'};
  var LANDUSE = {residential: '#ece8e1', commercial: '#f2dad9', retail: '#f6d9d6', industrial: '#ebdbe8',
                 railway: '#e6e1da', cemetery: '#aacbaf', hospital: '#f6eee6', school: '#f6efd8',
                 university: '#f6efd8', college: '#f6efd8', kindergarten: '#f6efd8', stadium: '#cfe8d6',
                 pitch: '#aae0cb', playground: '#d5f1e5', zoo: '#d9ecc5', military: '#f0dcd9',
                 garages: '#dedcd3', quarry: '#ddd6d1', theme_park: '#e8dceb', bus_station: '#e6e1da'};
  var WATER = '#9fcbe0', BACKGROUND = '#f4f1ea';

  function prop(f, key) { var v = f && f.props ? f.props[key] : undefined; return v === undefined ? '' : v; }
  function roadClass(f) {
    var c = String(prop(f, 'class'));
    if (c === 'street' || c === 'residential' || c === 'unclassified' || c === 'living_street') return 'minor';
    return c;
  }
  /* Line widths grow by 1.6x a zoom level from z13 (streets read as streets at 15-18, not hairlines). */
  function width(base) {
    return function (z) { return Math.max(0.5, base * Math.pow(1.6, z - 13) * 1.4); };
  }
  function roadRules(P) {
    var rules = [];
    var paved = ['motorway', 'trunk', 'primary', 'secondary', 'tertiary', 'minor', 'service', 'track'];
    // Casings first, all of them, so that crossings do not show the casing of the road below.
    paved.slice().reverse().forEach(function (c) {
      var s = ROAD[c], w = width(s.w);
      rules.push({
        dataLayer: 'transportation', minzoom: c === 'service' || c === 'track' ? 14 : 10,
        filter: function (z, f) { return roadClass(f) === c && prop(f, 'brunnel') !== 'tunnel'; },
        symbolizer: new P.LineSymbolizer({color: s.casing, width: function (z) { return w(z) + (z >= 14 ? 2 : 1); },
                                          lineCap: 'round', lineJoin: 'round'})
      });
    });
    paved.slice().reverse().forEach(function (c) {
      var s = ROAD[c];
      rules.push({
        dataLayer: 'transportation', minzoom: c === 'service' || c === 'track' ? 14 : 10,
        filter: function (z, f) { return roadClass(f) === c; },
        symbolizer: new P.LineSymbolizer({color: s.fill, width: width(s.w), lineCap: 'round', lineJoin: 'round',
                                          opacity: function (z, f) { return prop(f, 'brunnel') === 'tunnel' ? 0.5 : 1; }})
      });
    });
    rules.push({
      dataLayer: 'transportation', minzoom: 14,
      filter: function (z, f) { return roadClass(f) === 'path'; },
      // Footways and sidewalks: a fine dashed line, quieter than the streets they run beside.
      symbolizer: new P.LineSymbolizer({color: '#b09c8e', width: 1.2, dash: [3, 2], dashColor: '#b09c8e', dashWidth: 1.2})
    });
    rules.push({
      dataLayer: 'transportation', minzoom: 11,
      filter: function (z, f) { var c = roadClass(f); return (c === 'rail' || c === 'transit') && prop(f, 'brunnel') !== 'tunnel'; },
      symbolizer: new P.LineSymbolizer({color: '#8d8d8d', width: 2.2, dash: [6, 6], dashColor: '#ffffff', dashWidth: 1.2})
    });
    return rules;
  }

  function paintRules(P) {
    return [
      {dataLayer: 'landuse', symbolizer: new P.PolygonSymbolizer({fill: function (z, f) { return LANDUSE[prop(f, 'class')] || BACKGROUND; }})},
      {dataLayer: 'landcover', symbolizer: new P.PolygonSymbolizer({fill: function (z, f) { return LANDCOVER[prop(f, 'class')] || '#cdebb0'; }})},
      {dataLayer: 'park', symbolizer: new P.PolygonSymbolizer({fill: '#c8e6a8'})},
      {dataLayer: 'water', symbolizer: new P.PolygonSymbolizer({fill: WATER})},
      {dataLayer: 'waterway', symbolizer: new P.LineSymbolizer({color: WATER, width: function (z, f) {
        return prop(f, 'class') === 'river' ? Math.max(1.5, z - 9) : 1.5; }})},
      {dataLayer: 'aeroway', symbolizer: new P.PolygonSymbolizer({fill: '#dadae0'})},
      {dataLayer: 'building', minzoom: 14, symbolizer: new P.PolygonSymbolizer({
        fill: '#dcd2c8', stroke: '#bfb0a3', width: function (z) { return z >= 16 ? 1 : 0; }})}
    ].concat(roadRules(P));
  }

  /* Douglas-Peucker in screen pixels. protomaps-leaflet looks for label room in runs that end one vertex
     after the text's length, so a straight street mapped with a vertex every few metres never has room
     for its name; dropping the vertices that do not bend the line gives it back. */
  function simplify(pts, tol) {
    if (pts.length < 3) return pts;
    var keep = new Array(pts.length), stack = [[0, pts.length - 1]];
    keep[0] = keep[pts.length - 1] = true;
    while (stack.length) {
      var range = stack.pop(), a = pts[range[0]], b = pts[range[1]], dx = b.x - a.x, dy = b.y - a.y;
      var len = Math.sqrt(dx * dx + dy * dy) || 1e-9, worst = -1, at = -1;
      for (var i = range[0] + 1; i < range[1]; i++) {
        var d = Math.abs(dy * pts[i].x - dx * pts[i].y + b.x * a.y - b.y * a.x) / len;
        if (d > worst) { worst = d; at = i; }
      }
      if (worst > tol) { keep[at] = true; stack.push([range[0], at], [at, range[1]]); }
    }
    return pts.filter(function (p, i) { return keep[i]; });
  }
  function straightened(symbolizer) {
    return {place: function (layout, geom, feature) {
      return symbolizer.place(layout, geom.map(function (line) { return simplify(line, 2); }), feature);
    }};
  }

  function labelRules(P, lang) {
    var names = ['name:' + lang, 'name:latin', 'name'];
    var halo = 'rgba(255,255,255,0.92)';
    return [
      {dataLayer: 'place', symbolizer: new P.CenteredTextSymbolizer({
        labelProps: names, fill: '#2b2b2b', stroke: halo, width: 3,
        font: function (z, f) { var c = prop(f, 'class'); return c === 'city' || c === 'town' ? '600 17px sans-serif' : '600 14px sans-serif'; }
      }), filter: function (z, f) { return ['city', 'town', 'village', 'suburb', 'quarter', 'neighbourhood'].indexOf(prop(f, 'class')) >= 0; }},
      {dataLayer: 'water_name', symbolizer: new P.CenteredTextSymbolizer({
        labelProps: names, fill: '#1f5f86', stroke: halo, width: 2, font: 'italic 500 13px sans-serif'})},
      {dataLayer: 'transportation_name', minzoom: 13, symbolizer: straightened(new P.LineLabelSymbolizer({
        labelProps: names, fill: '#222222', stroke: halo, width: 3, font: '500 13px sans-serif', repeatDistance: 300})),
        filter: function (z, f) { return roadClass(f) !== 'rail' && roadClass(f) !== 'transit'; }},
      {dataLayer: 'housenumber', minzoom: 18, symbolizer: new P.CenteredTextSymbolizer({
        labelProps: ['housenumber'], fill: '#6b5a4e', stroke: halo, width: 2, font: '400 11px sans-serif'})}
    ];
  }

  function start() {
    var P = window.PoiMaps, pm = window.protomapsL;
    if (!P || !pm || !window.L) return;
    var cfg = P.config(), spec = cfg.basemap && cfg.basemap.streets;
    var map = window[cfg.map];
    if (!spec || !map) return;
    // Above the boundary basemap (150), below an operator's raster tiles (200) and the markers.
    map.createPane('poi-streets').style.zIndex = 180;
    var b = spec.bounds;
    var layer = pm.leafletLayer({
      url: spec.url, maxDataZoom: spec.maxzoom, minZoom: spec.minzoom, maxZoom: 19, pane: 'poi-streets',
      bounds: L.latLngBounds([b[1], b[0]], [b[3], b[2]]), paintRules: paintRules(pm),
      labelRules: labelRules(pm, cfg.lang), attribution: P.escapeHtml(spec.attribution), lang: cfg.lang
    });
    /* The land colour only inside the extract's box, drawn beneath what the tile already holds: the
       renderer would fill whole tiles, hiding the boundary basemap around a small extract. */
    var render = layer.renderTile;
    layer.renderTile = function (coords, element, key, done) {
      return render.call(this, coords, element, key, done).then(function () {
        if (element.key !== key || !element.width) return;
        var origin = L.point(coords.x, coords.y).multiplyBy(256);
        var nw = map.project([b[3], b[0]], coords.z).subtract(origin);
        var se = map.project([b[1], b[2]], coords.z).subtract(origin);
        var ctx = element.getContext('2d');
        ctx.save();
        ctx.globalCompositeOperation = 'destination-over';
        ctx.fillStyle = BACKGROUND;
        ctx.fillRect(nw.x, nw.y, se.x - nw.x, se.y - nw.y);
        ctx.restore();
      });
    };
    // For the browser tests and the benchmark: whether the visible street tiles have been drawn.
    window.poiStreets = {loaded: false};
    layer.on('loading', function () { window.poiStreets.loaded = false; });
    layer.on('load', function () { window.poiStreets.loaded = true; });
    layer.addTo(map);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
