// useColumns - which table columns a user shows, saved in this browser.
// COLUMNS: [{key, label, def (shown by default), fixed (always shown)}].
import { ref, computed } from 'vue'
import { loadJson, saveJson } from '../util'

export function useColumns(storageKey, COLUMNS) {
  const defaults = COLUMNS.filter((c) => c.def || c.fixed).map((c) => c.key)
  const shown = ref(loadJson(storageKey, defaults).filter((k) => COLUMNS.some((c) => c.key === k)))
  const visible = computed(() => COLUMNS.filter((c) => c.fixed || shown.value.includes(c.key)))
  const save = () => saveJson(storageKey, shown.value)
  function reset() {
    shown.value = [...defaults]
    save()
  }
  return { COLUMNS, shown, visible, save, reset }
}
