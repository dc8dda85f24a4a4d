// Reference lists shared by pages (townships, police stations), loaded once
// per session. A user without region.read / unit.read falls back to what
// the school registry itself names.
import { defineStore } from 'pinia'
import { api, listAll } from '../api'
import { useAuth } from './auth'

export const useRefs = defineStore('refs', {
  state: () => ({ regions: null, police: null }),
  actions: {
    // counties and townships the user may pick: [{code, name, level}]
    async loadRegions() {
      if (this.regions) return this.regions
      const auth = useAuth()
      let list = []
      if (auth.can('region.read')) {
        const all = await listAll('/api/regions', { disabled: 0 })
        list = all.filter((r) => r.level === 'county' || r.level === 'township').map((r) => ({ code: r.code, name: r.name, level: r.level }))
      } else if (auth.can('school.read')) {
        const s = await api.get('/api/schools/stats')
        list = s.by_region.map((r) => ({ code: r.region_code, name: r.region_name, level: 'township' }))
      }
      this.regions = list
      return list
    },
    async loadPolice() {
      if (this.police) return this.police
      const auth = useAuth()
      this.police = auth.can('unit.read') ? (await listAll('/api/units', { type: '派出所', disabled: 0 })).map((u) => ({ id: u.id, name: u.name, code: u.code })) : []
      return this.police
    },
    reset() {
      this.regions = null
      this.police = null
    },
  },
})
