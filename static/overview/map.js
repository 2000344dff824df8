// The map of LKS (/map): Leaflet (installed from the npm registry into
// /static/vendor/) draws the LKS from GET /api/v1/map/lks with the page's own
// filter. Markers do not depend on the tiles: when the tile server cannot be
// reached the markers, popups and legend still work on a blank background.
// With many LKS (more than GROUP_FROM) nearby ones are grouped
// (leaflet.markercluster), so that 100,000 stay usable. Open incidents are
// a layer of their own, on top: drawn one by one while there are few, in red
// groups of their own when there are many. A city's few hundred LKS are
// drawn one by one: each shows its status.
(function () {
  "use strict";
  var el = document.getElementById("lks-map");
  var configEl = document.getElementById("map-config");
  if (!el || !configEl || !window.L) return; // the table under the map stays open
  var cfg = JSON.parse(configEl.textContent);
  var status = document.getElementById("map-status");
  var table = document.getElementById("map-table");
  var GROUP_FROM = 300;
  var GROUP_INCIDENTS_FROM = 100;
  var SYMBOL = { incident: "!", unregistered: "?", expired: "×", registered: "✓", closed: "–" };

  function say(text) { if (status) status.textContent = text; }
  function format(template, n) { return template.replace("%(num)s", n.toLocaleString(document.documentElement.lang || "id")); }

  el.hidden = false; // hidden in the HTML: without a script there is no map, only the table
  var map = L.map(el, { zoomControl: true, attributionControl: true, keyboard: true }).setView(cfg.centre, 12);
  map.createPane("incidents").style.zIndex = 650; // above the other markers (600), below popups (700)
  L.tileLayer(cfg.tiles.url, { maxZoom: 19, attribution: escapeHtml(cfg.tiles.attribution) }).addTo(map);
  el.setAttribute("aria-label", cfg.texts.map);

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text || "";
    return div.innerHTML;
  }

  function icon(category) {
    return L.divIcon({
      className: "map-marker map-marker--" + category,
      html: "<span>" + (SYMBOL[category] || "") + "</span>",
      iconSize: [22, 22],
      iconAnchor: [11, 11],
      popupAnchor: [0, -10],
    });
  }
  var icons = {};
  Object.keys(SYMBOL).forEach(function (c) { icons[c] = icon(c); });

  function link(href, text) {
    var a = document.createElement("a");
    a.href = href;
    a.textContent = text;
    a.className = "map-popup-link";
    return a;
  }

  function popup(feature) {
    var p = feature.properties;
    var box = document.createElement("div");
    box.className = "map-popup";
    var name = document.createElement("strong");
    name.textContent = p.n;
    box.appendChild(name);
    var meta = document.createElement("div");
    meta.className = "muted small";
    meta.textContent = (cfg.kinds[p.k] || p.k) + " · " + (cfg.statuses[p.r] || p.r);
    box.appendChild(meta);
    var cat = document.createElement("div");
    cat.className = "map-popup-category map-popup-category--" + p.c;
    cat.textContent = cfg.categories[p.c] || p.c;
    box.appendChild(cat);
    box.appendChild(link("/lks/" + feature.id, cfg.texts.open_lks));
    if (p.o) box.appendChild(link("/sightings/" + p.o, cfg.texts.open_report));
    return box;
  }

  function clusterIcon(className) {
    return function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? 32 : n < 100 ? 38 : n < 1000 ? 44 : 52;
      return L.divIcon({
        className: className,
        html: "<span>" + n.toLocaleString(document.documentElement.lang || "id") + "</span>",
        iconSize: [size, size],
      });
    };
  }

  // One layer: markers one by one up to ``from``, grouped beyond.
  function layerFor(count, from, className, pane) {
    if (count <= from) return L.featureGroup();
    var options = {
      chunkedLoading: true,
      showCoverageOnHover: false,
      maxClusterRadius: 45,
      disableClusteringAtZoom: 17,
      iconCreateFunction: clusterIcon(className),
    };
    if (pane) options.clusterPane = pane;
    return L.markerClusterGroup(options);
  }

  function fill(layer, markers) {
    if (layer.addLayers) layer.addLayers(markers);
    else markers.forEach(function (m) { layer.addLayer(m); });
  }

  say(cfg.texts.loading);
  fetch(cfg.api + window.location.search, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    })
    .then(function (data) {
      var markers = [];
      var incidents = [];
      var counts = {};
      var bounds = [];
      data.features.forEach(function (f) {
        var c = f.properties.c;
        var latlng = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
        var marker = L.marker(latlng, {
          icon: icons[c] || icons.unregistered,
          title: f.properties.n,
          alt: f.properties.n,
          riseOnHover: true,
          pane: c === "incident" ? "incidents" : "markerPane",
        });
        marker.bindPopup(function () { return popup(f); });
        counts[c] = (counts[c] || 0) + 1;
        bounds.push(latlng);
        (c === "incident" ? incidents : markers).push(marker);
      });
      var grouped = layerFor(markers.length, GROUP_FROM, "map-cluster");
      var alarming = layerFor(incidents.length, GROUP_INCIDENTS_FROM, "map-cluster map-cluster--incident", "incidents");
      var clusterLegend = document.getElementById("legend-cluster");
      if (clusterLegend) clusterLegend.hidden = !(grouped.addLayers || alarming.addLayers);
      fill(alarming, incidents); // the incidents first: with many LKS the rest arrive in chunks
      fill(grouped, markers);
      map.addLayer(alarming);
      map.addLayer(grouped);
      document.querySelectorAll(".map-legend .count[data-category]").forEach(function (span) {
        span.textContent = "(" + (counts[span.getAttribute("data-category")] || 0).toLocaleString(document.documentElement.lang || "id") + ")";
      });
      if (bounds.length) {
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 });
        say(format(cfg.texts.shown, data.features.length));
      } else {
        say(cfg.texts.none);
      }
      el.setAttribute("data-markers", String(data.features.length));
      if (table) table.open = false;
    })
    .catch(function (error) {
      if (window.console) console.error(error);
      say(cfg.texts.failed);
      if (table) table.open = true;
    });
})();
