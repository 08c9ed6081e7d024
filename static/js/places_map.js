import { call, describeError } from "./api.js";
import { clear, h } from "./dom.js";
import { plural } from "./format.js";
import { unionBounds } from "./geohash.js";
import { mediaUrl } from "./media.js";
import { loadThumbnail } from "./thumbs.js";

const CLUSTER_PAGE = 1000;
const COUNTRIES = "vendor/world-atlas/countries-50m.json";
const SCRIPTS = ["vendor/leaflet/leaflet.js",
  "vendor/topojson-client/topojson-client.min.js"];
const STYLE = "vendor/leaflet/leaflet.css";
// A place opens once one more zoom step would not split it any more.
const LAST_SPLIT_ZOOM = 15;

// How much of a geohash the markers keep at each zoom: a short prefix far out (a
// marker per region), all seven characters close in (a marker per spot).
function precisionFor(zoom) {
  if (zoom <= 2) return 1;
  if (zoom <= 4) return 2;
  if (zoom <= 6) return 3;
  if (zoom <= 9) return 4;
  if (zoom <= 11) return 5;
  if (zoom <= 13) return 6;
  return 7;
}

// The Map page: country outlines shipped with Lumilio (no tile server, so it works
// offline), the library's place clusters merged by geohash prefix so that they split
// as one zooms in, and a panel with the photos of the place clicked.
export class PlacesMap {
  constructor(root) {
    this.root = root;
    this.clusters = [];
    this.layer = null;
    this.map = null;
    this.buildDom();
  }

  buildDom() {
    this.canvas = h("div", { class: "places-map", "data-testid": "places-map" });
    this.message = h("p", { class: "places-message", role: "status",
      "data-testid": "places-message" });
    this.panelTitle = h("h2", { class: "places-title" });
    this.panelGrid = h("ul", { class: "places-photos",
      "data-testid": "place-photos" });
    this.panel = h("aside", { class: "places-panel", hidden: true,
      "aria-label": "Photos of the place" },
      h("header", {}, this.panelTitle,
        h("button", { type: "button", class: "quiet", text: "Close",
          onclick: () => { this.panel.hidden = true; } })),
      this.panelGrid);
    this.root.append(h("div", { class: "places" }, this.canvas, this.panel,
      this.message));
  }

  async show() {
    this.root.hidden = false;
    try {
      if (!this.map) await this.createMap();
      this.map.invalidateSize();
      await this.loadClusters();
    } catch (error) {
      this.message.textContent = describeError(error);
    }
  }

  hide() {
    this.root.hidden = true;
  }

  async createMap() {
    await loadLibraries();
    const L = window.L;
    this.map = L.map(this.canvas, { worldCopyJump: true, minZoom: 1,
      maxZoom: 18, zoomSnap: 1, attributionControl: true });
    this.map.attributionControl.setPrefix(false);
    this.map.attributionControl.addAttribution("Natural Earth");
    this.map.setView([20, 0], 2);

    const topology = await (await fetch(COUNTRIES)).json();
    const countries = window.topojson.feature(topology, topology.objects.countries);
    for (const feature of countries.features) unwrapGeometry(feature.geometry);
    L.geoJSON(countries, { interactive: false,
      style: { className: "places-country", weight: 0.6 } }).addTo(this.map);
    this.map.on("zoomend", () => this.draw());
  }

  async loadClusters() {
    const found = [];
    let total = Infinity;
    while (found.length < total) {
      const page = await call("GET",
        `/locations/clusters?limit=${CLUSTER_PAGE}&offset=${found.length}`);
      found.push(...page.clusters);
      total = page.total;
      if (!page.clusters.length) break;
    }
    this.clusters = found;
    const photos = found.reduce((sum, c) => sum + c.photo_count, 0);
    this.message.textContent = found.length
      ? `${plural(photos, "photo")} in ${plural(found.length, "place")}`
      : "No photos with a location yet.";
    this.draw();
  }

  // Clusters sharing a geohash prefix become one marker at their weighted centre.
  groups() {
    const length = precisionFor(this.map.getZoom());
    const merged = new Map();
    for (const cluster of this.clusters) {
      const key = cluster.geohash.slice(0, length);
      const group = merged.get(key) ?? { key, clusters: [], count: 0, lat: 0, lon: 0 };
      group.clusters.push(cluster);
      group.count += cluster.photo_count;
      group.lat += cluster.centroid_latitude * cluster.photo_count;
      group.lon += cluster.centroid_longitude * cluster.photo_count;
      merged.set(key, group);
    }
    return [...merged.values()].map((g) => ({ ...g, lat: g.lat / g.count,
      lon: g.lon / g.count }));
  }

  draw() {
    const L = window.L;
    if (this.layer) this.layer.remove();
    this.layer = L.layerGroup().addTo(this.map);
    for (const group of this.groups()) {
      const size = Math.round(26 + Math.min(30, Math.log2(group.count) * 5));
      const icon = L.divIcon({ className: "places-marker", iconSize: [size, size],
        html: h("span", { text: String(group.count) }) });
      const marker = L.marker([group.lat, group.lon], { icon, keyboard: true,
        title: placeName(group.clusters) });
      marker.on("click", () => this.open(group));
      marker.addTo(this.layer);
    }
  }

  open(group) {
    const spots = new Set(group.clusters.map((c) => c.geohash));
    if (spots.size > 1 && this.map.getZoom() < LAST_SPLIT_ZOOM) {
      const box = unionBounds([...spots]);
      this.map.fitBounds([[box.south, box.west], [box.north, box.east]],
        { padding: [40, 40], maxZoom: LAST_SPLIT_ZOOM });
      return;
    }
    this.showPhotos(group);
  }

  async showPhotos(group) {
    this.panel.hidden = false;
    this.panelTitle.textContent = placeName(group.clusters);
    clear(this.panelGrid);
    const box = unionBounds(group.clusters.map((c) => c.geohash));
    try {
      const page = await call("POST", "/assets/list", {
        filter: { type: "PHOTO", location: box },
        stack_mode: "expanded",
        pagination: { limit: 100, offset: 0 },
      });
      this.panelGrid.append(...page.items.map(({ asset }) => {
        const img = h("img", { alt: asset.original_filename });
        loadThumbnail(img, asset.asset_id, "small");
        return h("li", {}, h("a", { href: mediaUrl(asset.asset_id, "original"),
          target: "_blank", rel: "noopener", title: asset.original_filename }, img));
      }));
    } catch (error) {
      this.panelGrid.append(h("li", { text: describeError(error) }));
    }
  }
}

// Outlines that cross the 180th meridian jump from +180 to -180 and would be drawn
// as stripes across the whole map; each ring is made continuous instead, going past
// 180 where it has to, which Leaflet draws where it belongs.
function unwrapGeometry(geometry) {
  if (!geometry) return;
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates]
    : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
  for (const polygon of polygons) {
    for (const ring of polygon) {
      let shift = 0;
      for (let i = 1; i < ring.length; i += 1) {
        const step = ring[i][0] + shift - ring[i - 1][0];
        if (step > 180) shift -= 360;
        else if (step < -180) shift += 360;
        ring[i] = [ring[i][0] + shift, ring[i][1]];
      }
    }
  }
}

function placeName(clusters) {
  const named = clusters.find((c) => c.label);
  if (!named) {
    const { centroid_latitude: lat, centroid_longitude: lon } = clusters[0];
    return `${lat.toFixed(4)}, ${lon.toFixed(4)}`;
  }
  if (clusters.length === 1) return named.label;
  const countries = new Set(clusters.map((c) => c.country).filter(Boolean));
  const cities = new Set(clusters.map((c) => c.city).filter(Boolean));
  if (cities.size === 1) return named.label;
  if (countries.size === 1) return [...countries][0];
  return `${countries.size} countries`;
}

let loading = null;

// Leaflet is only fetched when the map is first opened.
function loadLibraries() {
  loading ??= (async () => {
    document.head.append(h("link", { rel: "stylesheet", href: STYLE }));
    for (const src of SCRIPTS) {
      await new Promise((resolve, reject) => {
        document.head.append(h("script", { src, onload: resolve,
          onerror: () => reject(new Error(`cannot load ${src}`)) }));
      });
    }
  })();
  return loading;
}
