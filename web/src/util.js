// util.js - formatting, the school registry's vocabulary (mirroring the
// server's field table in src/schools/schools_api.c) and form helpers.
import { ref, onMounted, onBeforeUnmount } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'

const pad = (n) => String(n).padStart(2, '0')

// "2026-11-24T01:02:40Z" → "2026-11-24" in the browser's time zone.
export function fmtDate(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  if (isNaN(d)) return String(iso).slice(0, 10)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`
}

export function fmtDateTime(iso) {
  if (!iso) return ''
  const d = new Date(iso)
  if (isNaN(d)) return String(iso)
  return `${fmtDate(iso)} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

// a local calendar day → the UTC instant the server's timestamps compare with
export function dayStartUtc(day) {
  const d = new Date(`${day}T00:00:00`)
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}
export function dayEndUtc(day) {
  const d = new Date(`${day}T23:59:59`)
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z')
}

export const STAGES = ['幼儿园', '小学', '初中', '九年一贯制', '高中', '完全中学', '十二年一贯制', '中职', '特殊教育', '高校']
export const OWNERSHIPS = ['公办', '民办']
export const STATUSES = ['正常', '停办', '撤并']
export const CRS = [
  { value: 'wgs84', label: 'WGS84（GPS、天地图）' },
  { value: 'gcj02', label: 'GCJ-02（高德、腾讯地图）' },
  { value: 'bd09', label: 'BD-09（百度地图）' },
]
export const UNIT_TYPES = [
  '综治办/政法委', '公安局', '派出所', '交警', '教育局', '市场监管局', '城管局', '文旅局',
  '交通局', '司法局', '卫健委', '法院', '检察院', '乡镇街道', '学校', '其他',
]

export const SCHOOL_LABELS = {
  name: '学校名称',
  code: '学校标识码',
  stage: '学段',
  ownership: '办学性质',
  boarding: '是否寄宿',
  region_code: '所属乡镇（街道）',
  region_name: '所属乡镇（街道）',
  address: '地址',
  lat: '纬度',
  lon: '经度',
  enrollment: '在校学生数',
  staff_count: '教职工数',
  guard_count: '专职保安数',
  principal_name: '校长（第一责任人）',
  principal_phone: '校长电话',
  safety_officer_name: '安全干部',
  safety_officer_phone: '安全干部电话',
  legal_vp_name: '法治副校长',
  legal_vp_unit: '法治副校长单位',
  legal_vp_phone: '法治副校长电话',
  police_unit_id: '责任派出所',
  police_unit_name: '责任派出所',
  unit_id: '学校单位',
  status: '状态',
  boundary: '校园边界',
  entrances: '校门和出入口',
  area_m2: '占地面积（平方米）',
  deleted: '已删除',
}

export const ENTITY_LABELS = { venue: '场所', zone_rule: '周边规则', zone_finding: '周边发现', school: '学校', user: '用户', role: '角色', unit: '单位', region: '行政区划' }

export const ACTION_LABELS = {
  create: '新建',
  update: '修改',
  delete: '删除',
  disable: '停用',
  enable: '启用',
  import_create: '导入新建',
  import_update: '导入更新',
  login: '登录',
  login_failed: '登录失败',
  logout: '退出',
  password_change: '修改密码',
  reset_password: '重置密码',
  reset_totp: '重置动态验证码',
  totp_enable: '绑定动态验证码',
  read: '查看个人信息',
}

export const SCOPE_KINDS = { all: '全部', region: '行政区划', unit: '单位', school: '学校' }

// an element of a list: a gate or entrance by its name and position
function fmtItem(x) {
  if (x && typeof x === 'object') {
    if (x.lat != null && x.lon != null)
      return `${x.name || '出入口'}（${Number(x.lat).toFixed(6)}, ${Number(x.lon).toFixed(6)}${x.pupils ? '，学生通行' : ''}）`
    return JSON.stringify(x)
  }
  return String(x)
}

// A value as a person reads it in a table or a diff.
export function fmtValue(v) {
  if (v === null || v === undefined || v === '') return '（空）'
  if (v === true) return '是'
  if (v === false) return '否'
  if (Array.isArray(v)) return v.length ? v.map(fmtItem).join('、') : '（空）'
  if (typeof v === 'object' && /Polygon$/.test(v.type || ''))
    return `${v.type === 'Polygon' ? 1 : (v.coordinates || []).length} 块边界`
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}

// The server's checks, mirrored so a form says what is wrong before sending.
export const PHONE_RE = /^(1[3-9]\d{9}|0\d{2,3}-\d{7,8}(-\d{1,6})?|0\d{9,11})$/
export const PHONE_MSG = '须为 11 位手机号或带区号的固定电话（如 0551-12345678）'

export function phoneRule(label) {
  return {
    validator: (_r, v, cb) => (!v || PHONE_RE.test(v) ? cb() : cb(new Error(`${label}${PHONE_MSG}`))),
    trigger: 'blur',
  }
}
export function requiredRule(label, trigger = 'blur') {
  return { required: true, message: `请填写${label}`, trigger }
}
export function maxRule(label, max) {
  return { max, message: `${label}最多 ${max} 个字符`, trigger: 'blur' }
}

// Latitude and longitude typed as text, checked as a pair: rules for the
// form item of `key` ('lat' or 'lon') of the model m. missing: the message
// when both are empty (null: both empty is fine).
export function coordRule(m, key, missing = null) {
  const [label, lo, hi, other] = key === 'lat' ? ['纬度', -90, 90, 'lon'] : ['经度', -180, 180, 'lat']
  return {
    validator: (_r, v, cb) => {
      if (v === '' && m[other] === '') return missing ? cb(new Error(missing)) : cb()
      if (v === '') return cb(new Error(missing ? '纬度和经度须同时填写' : '纬度和经度须同时填写（或同时清空）'))
      const n = Number(v)
      if (!/^-?\d+(\.\d+)?$/.test(v) || isNaN(n)) return cb(new Error(`${label}须为数字`))
      if (n < lo || n > hi) return cb(new Error(`${label}须在 ${lo} 到 ${hi} 之间`))
      cb()
    },
    trigger: 'blur',
  }
}

// Validates an el-form; false (and a hint) when a field is marked.
export async function formValid(formRef) {
  try {
    await formRef.value.validate()
    return true
  } catch {
    ElMessage.warning('请按提示修改标红的项目')
    return false
  }
}

// equal as the server stores them: null, undefined and '' alike
export function sameValue(x, y) {
  return JSON.stringify(x ?? null) === JSON.stringify(y ?? null) || ((x ?? '') === '' && (y ?? '') === '')
}

// ElMessageBox confirmation of a deletion; true when confirmed.
export async function confirmDelete(title, message) {
  try {
    await ElMessageBox.confirm(message, title, {
      type: 'warning',
      confirmButtonText: '删除',
      cancelButtonText: '取消',
      confirmButtonClass: 'el-button--danger',
    })
    return true
  } catch {
    return false
  }
}

// Password policy of src/auth/password.c.
export function passwordProblem(pw, username) {
  if (!pw) return '密码不能为空'
  const chars = [...pw]
  if (chars.length < 10) return '密码至少 10 个字符'
  if (chars.length > 128) return '密码最多 128 个字符'
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^a-zA-Z0-9]/].filter((re) => re.test(pw)).length
  if (classes < 3) return '密码须包含大写字母、小写字母、数字、符号中的至少三类'
  if (username && [...username].length >= 3 && pw.toLowerCase().includes(username.toLowerCase()))
    return '密码不能包含用户名'
  return null
}

// Shows an API error: the message, and the form field it names marked
// (errors is a reactive {field: message} bound to each el-form-item's
// :error). Returns true when a field was marked.
export function showError(err, errors) {
  if (!err) return false
  if (err.handled) return false
  if (errors) for (const k of Object.keys(errors)) delete errors[k]
  const field = err.field
  if (errors && field) {
    errors[field] = err.message
    ElMessage({ type: 'error', message: err.message, grouping: true })
    return true
  }
  ElMessage({ type: 'error', message: err.message || String(err), grouping: true })
  return false
}

export function clearErrors(errors) {
  for (const k of Object.keys(errors)) delete errors[k]
}

// Narrow screens (phones at 护学岗): the menu becomes a drawer, forms stack.
export function useMobile(query = '(max-width: 768px)') {
  const mq = window.matchMedia(query)
  const isMobile = ref(mq.matches)
  const on = (e) => (isMobile.value = e.matches)
  onMounted(() => mq.addEventListener('change', on))
  onBeforeUnmount(() => mq.removeEventListener('change', on))
  return isMobile
}

export function loadJson(key, fallback) {
  try {
    const v = JSON.parse(localStorage.getItem(key))
    return v ?? fallback
  } catch {
    return fallback
  }
}
export function saveJson(key, v) {
  try {
    localStorage.setItem(key, JSON.stringify(v))
  } catch {
    /* private mode: the choice lasts for the page */
  }
}
