// mapbase.js - the console's Leaflet base map, shared by every map (学校位置,
// 周边, 场所, 场所地图, 附近学校). With a tile URL configured (天地图, an
// intranet tile server) that is the base layer; without one the map works
// offline on a plain vector base: a scale bar, a coordinate grid and the
// townships placed at the centre of their schools.
import L from 'leaflet'
import 'leaflet/dist/leaflet.css'

// leaflet-geoman (drawing) is a script that expects a global L
if (typeof window !== 'undefined' && !window.L) window.L = L

export { L }

export function townships(list) {
  const acc = new Map()
  for (const s of list) {
    if (s.lat == null || s.lon == null) continue
    const t = acc.get(s.region_code) || { name: s.region_name || s.region_code, lat: 0, lon: 0, n: 0 }
    t.lat += s.lat
    t.lon += s.lon
    t.n++
    acc.set(s.region_code, t)
  }
  return [...acc.values()].map((t) => ({ name: t.name, lat: t.lat / t.n, lon: t.lon / t.n, n: t.n }))
}

function grid(bounds, layer) {
  layer.clearLayers()
  const span = Math.max(bounds.getNorth() - bounds.getSouth(), bounds.getEast() - bounds.getWest())
  const steps = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5]
  const step = steps.find((s) => span / s <= 12) || 10
  const style = { color: '#c9d3e0', weight: 1, opacity: 0.8, interactive: false }
  for (let lat = Math.floor(bounds.getSouth() / step) * step; lat <= bounds.getNorth(); lat += step)
    L.polyline([[lat, bounds.getWest() - step], [lat, bounds.getEast() + step]], style).addTo(layer)
  for (let lon = Math.floor(bounds.getWest() / step) * step; lon <= bounds.getEast(); lon += step)
    L.polyline([[bounds.getSouth() - step, lon], [bounds.getNorth() + step, lon]], style).addTo(layer)
}

// A map on el centred on center ([lat, lon]) with the base layer; towns:
// schools whose centres place the township names on the offline base.
export function baseMap(el, { tileUrl = '', center, zoom = 15, towns = [], preferCanvas = true } = {}) {
  const map = L.map(el, { zoomControl: true, attributionControl: !!tileUrl, preferCanvas })
  // the view first: vector layers are projected against it when added
  map.setView(center, zoom)
  L.control.scale({ imperial: false, metric: true, position: 'bottomleft' }).addTo(map)
  if (tileUrl) {
    L.tileLayer(tileUrl, { maxZoom: 18, attribution: '底图：已配置的瓦片服务' }).addTo(map)
  } else {
    el.classList.add('offline')
    const g = L.layerGroup().addTo(map)
    map.on('moveend', () => grid(map.getBounds().pad(0.5), g))
    grid(map.getBounds().pad(0.5), g)
    for (const t of townships(towns)) {
      L.circleMarker([t.lat, t.lon], { radius: 5, color: '#8a6d3b', weight: 1, fillColor: '#f0d9a8', fillOpacity: 1, interactive: false })
        .bindTooltip(t.name, { permanent: true, direction: 'right', className: 'town-label', offset: [6, 0] })
        .addTo(map)
    }
  }
  return map
}
