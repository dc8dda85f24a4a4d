// zone.js - the vocabulary of the surroundings (场所, 周边发现, 周边规则),
// mirroring the server's codes: verdicts and their colours, measuring
// methods, finding states, rule confidence, venue statuses.

export const VERDICTS = ['禁止', '需审查', '重点关注']
// map and tag colours: 禁止 red, 需审查 orange, 重点关注 blue, none grey
export const VERDICT_COLOR = { 禁止: '#d03050', 需审查: '#f08c00', 重点关注: '#1c7ed6', '': '#8a94a6' }
export const VERDICT_TAG = { 禁止: 'danger', 需审查: 'warning', 重点关注: 'primary', '': 'info' }
export const verdictText = (v) => v || '无'

export const METHODS = {
  boundary_straight: '校园边界直线',
  entrance_straight: '出入口直线',
  gate_radius: '校门半径',
  walking: '步行距离',
  point: '点到点（回退）',
}
export const METHOD_HELP = {
  boundary_straight: '从校园围墙或边界上任意一点量起的直线距离（在边界内为 0）',
  entrance_straight: '学校与场所最近的一对出入口之间的直线距离',
  gate_radius: '以学生通行的校门为圆心的半径',
  walking: '出入口之间按交通行走规则量得的步行距离；直线距离是它的下限，超出下限即可排除，否则待民警录入实测步行距离',
  point: '所需数据缺失（没有边界或出入口）时按学校坐标点到场所坐标点计算，结论最多为“需审查”',
}
export function methodText(method, fallback) {
  const m = METHODS[method] || method || ''
  return fallback && method !== 'point' ? `${m}（回退）` : m
}

export const STATES = ['待核实', '已确认', '已豁免', '已消除']
export const STATE_TAG = { 待核实: 'warning', 已确认: 'danger', 已豁免: 'info', 已消除: 'success' }

export const EFFECTS = ['禁止', '需审查', '重点关注']

export const CONFIDENCE = {
  V: { label: 'V 已核实', tag: 'success', help: '已对照原文核实' },
  S: { label: 'S 二手资料', tag: 'primary', help: '来自二手资料（新闻、解读），未见原文' },
  M: { label: 'M 未核实', tag: 'warning', help: '尚未核实，须对照原文确认后再用于执法' },
  草案: { label: '草案', tag: 'info', help: '草案或征求意见稿，未生效' },
}

export const VENUE_STATUSES = ['营业', '停业', '取缔', '注销']
export const VENUE_STATUS_TAG = { 营业: 'success', 停业: 'warning', 取缔: 'danger', 注销: 'info' }

// colours for venue categories on the 场所地图 (by position in the code table)
export const CATEGORY_PALETTE = [
  '#d03050', '#e8590c', '#f08c00', '#9c36b5', '#6741d9', '#3b5bdb', '#1c7ed6', '#0c8599', '#099268',
  '#2f9e44', '#66a80f', '#a61e4d', '#5c940d', '#862e9c', '#364fc7', '#c2255c', '#495057', '#0b7285', '#868e96',
]
export const STATUS_COLOR = { 营业: '#2f9e44', 停业: '#f08c00', 取缔: '#d03050', 注销: '#868e96' }

export const fmtMetres = (m) => (m == null ? '—' : `${Number(m) < 10 ? Number(m).toFixed(1) : Math.round(Number(m))} 米`)

export const EVENT_LABELS = {
  created: '生成',
  opened: '生成',
  rejudged: '重新判定',
  confirm: '确认',
  confirmed: '确认',
  exempt: '豁免',
  exempted: '豁免',
  measure: '录入步行距离',
  measured: '录入步行距离',
  cleared: '消除',
  reopened: '重新打开',
}

// the venue registry's field labels (audit diffs, import columns)
export const VENUE_LABELS = {
  name: '场所名称',
  category: '类别',
  category_name: '类别',
  licence_no: '许可证号',
  operator_name: '经营者',
  operator_phone: '经营者电话',
  region_code: '所属乡镇（街道）',
  region_name: '所属乡镇（街道）',
  address: '地址',
  lat: '纬度',
  lon: '经度',
  entrances: '出入口',
  status: '状态',
  unit_id: '责任单位',
  unit_name: '责任单位',
  note: '备注',
  deleted: '已删除',
}
