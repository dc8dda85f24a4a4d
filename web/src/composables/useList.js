// useList - a paged, filtered, sortable list kept in the address bar, so
// back and reload keep filters, sort and page. Every registry list (学校,
// 场所, 周边发现) uses it.
//
//   const list = useList('/api/venues', { q: '', region: '', status: '' })
//   list.f.q, list.rows, list.total, list.page, list.pageSize, list.loading,
//   list.failure, list.load(keepPage), list.search(), list.reset(),
//   list.onSort({prop, order}), list.defaultSort, list.filterQuery()
//
// The page size goes out as page_size, as every list of the API takes it.
import { ref, reactive } from 'vue'
import { useRoute, useRouter } from 'vue-router'
import { ElMessage } from 'element-plus'
import { api, download } from '../api'
import { showError } from '../util'

// sortStyle 'prefix': sort=-name (schools); 'order': sort=name&order=desc
// (the surroundings' endpoints).
export function useList(path, filters, { sortKey = (p) => p, pageSize: size0 = 20, syncUrl = true, sortStyle = 'prefix' } = {}) {
  const route = useRoute()
  const router = useRouter()
  const q0 = syncUrl ? route.query : {}
  const empty = { ...filters }
  const f = reactive(Object.fromEntries(Object.keys(filters).map((k) => [k, q0[k] ?? filters[k]])))
  const sort = ref(q0.sort || '')
  const page = ref(Number(q0.page) || 1)
  const pageSize = ref(Number(q0.page_size) || size0)
  const defaultSort = sort.value
    ? { prop: sort.value.replace(/^-/, ''), order: sort.value.startsWith('-') ? 'descending' : 'ascending' }
    : undefined
  const rows = ref([])
  const total = ref(0)
  const loading = ref(false)
  const failure = ref('')
  let seq = 0

  function filterQuery() {
    if (sortStyle === 'prefix' || !sort.value) return { ...f, sort: sort.value }
    const desc = sort.value.startsWith('-')
    return { ...f, sort: sort.value.replace(/^-/, ''), order: desc ? 'desc' : 'asc' }
  }

  async function load(keepPage) {
    if (keepPage !== true) page.value = 1
    const query = { ...filterQuery(), page: page.value, page_size: pageSize.value }
    if (syncUrl) {
      const clean = Object.fromEntries(
        Object.entries({ ...f, sort: sort.value, page: page.value, page_size: pageSize.value }).filter(
          ([k, v]) => v !== '' && v != null && !(k === 'page' && v === 1) && !(k === 'page_size' && v === size0),
        ),
      )
      router.replace({ query: { ...(route.query.tab ? { tab: route.query.tab } : {}), ...clean } })
    }
    const mine = ++seq
    loading.value = true
    failure.value = ''
    try {
      const r = await api.get(path, { ...query, page_size: pageSize.value })
      if (mine !== seq) return
      rows.value = r.items
      total.value = r.total
    } catch (e) {
      if (mine !== seq) return
      if (!e.handled) failure.value = e.message
      rows.value = []
      total.value = 0
    } finally {
      if (mine === seq) loading.value = false
    }
  }

  const search = () => load(false)

  function reset() {
    Object.assign(f, empty)
    sort.value = ''
    search()
  }

  function onSort({ prop, order }) {
    const key = sortKey(prop)
    sort.value = order ? (order === 'descending' ? '-' : '') + key : ''
    search()
  }

  return { f, sort, page, pageSize, rows, total, loading, failure, defaultSort, filterQuery, load, search, reset, onSort }
}

// The 导出 buttons of a list: exporting is the format being fetched.
export function useExport(path, fileBase, query) {
  const exporting = ref('')
  async function exportAs(format) {
    exporting.value = format
    try {
      const r = await download(path, { ...query(), format }, `${fileBase}.${format}`)
      ElMessage.success(`已导出：${r.name}`)
    } catch (e) {
      showError(e)
    } finally {
      exporting.value = ''
    }
  }
  return { exporting, exportAs }
}
