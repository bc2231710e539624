/* poi-service OGC pages: draws the page's features (fetched as GeoJSON from the same origin) on a
   Leaflet map over the offline basemap. Text goes into the DOM with textContent only. */
(function () {
  'use strict';
  var node = document.getElementById('ogc-map');
  var cfgNode = document.getElementById('ogc-map-config');
  if (!node || !cfgNode || !window.L) return;
  var cfg = JSON.parse(cfgNode.textContent);
  var map = L.map(node, {zoomSnap: 0.25}).setView([51.16, 10.45], 5);
  map.attributionControl.setPrefix(false);
  var credit = document.createElement('span');
  credit.textContent = cfg.attribution;
  map.attributionControl.addAttribution(credit.innerHTML);
  if (window.PoiMaps && window.PoiMaps.basemap && cfg.basemap) window.PoiMaps.basemap(map, cfg);

  function popup(feature) {
    var p = feature.properties || {};
    var box = document.createElement('div');
    var a = document.createElement('a');
    a.href = cfg.itemBase + encodeURIComponent(feature.id) + '?f=html';
    a.textContent = p.name || String(feature.id);
    box.appendChild(a);
    if (p.address || p.state) {
      var line = document.createElement('div');
      line.textContent = p.address || p.state;
      box.appendChild(line);
    }
    return box;
  }

  fetch(cfg.dataUrl, {credentials: 'same-origin', headers: {Accept: 'application/geo+json'}})
    .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
    .then(function (data) {
      var layer = L.geoJSON(data, {
        style: {color: '#0a58ca', weight: 1.5, fillOpacity: 0.15},
        pointToLayer: function (f, latlng) {
          return L.circleMarker(latlng, {radius: 6, color: '#ffffff', weight: 1.5, fillColor: '#0a58ca', fillOpacity: 0.9});
        },
        onEachFeature: function (f, l) { l.bindPopup(function () { return popup(f); }); }
      }).addTo(map);
      var bounds = layer.getBounds();
      if (bounds.isValid()) map.fitBounds(bounds, {maxZoom: 14, padding: [20, 20]});
      node.setAttribute('data-features', String(layer.getLayers().length));
    })
    .catch(function () { node.setAttribute('data-error', 'the features could not be loaded'); });
})();
