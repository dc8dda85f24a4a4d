// The venue categories (GET /api/venues/categories → {items:[{code,name}]}),
// loaded once per page load and shared by every page that names them.
import { ref } from 'vue'
import { api } from '../../api'

const categories = ref([])
let pending = null

export function useVenueCategories() {
  function loadCategories() {
    if (categories.value.length) return Promise.resolve(categories.value)
    if (!pending)
      pending = api
        .get('/api/venues/categories')
        .then((r) => (categories.value = r.items))
        .catch(() => [])
        .finally(() => (pending = null))
    return pending
  }
  const categoryName = (code) => (categories.value.find((c) => c.code === code) || {}).name || code
  return { categories, loadCategories, categoryName }
}
