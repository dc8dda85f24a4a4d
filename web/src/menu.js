// The left menu. A page a user may not open is not shown: each entry names
// the permission its page needs (GET /api/auth/me "permissions").
import { markRaw } from 'vue'
import { Odometer, School, Setting, MapLocation } from '@element-plus/icons-vue'

export const MENU = [
  { path: '/', title: '工作台', icon: markRaw(Odometer) },
  {
    key: 'schools',
    title: '学校管理',
    icon: markRaw(School),
    children: [
      { path: '/schools', title: '学校名录', perm: 'school.read' },
      { path: '/schools/import', title: '导入学校', perm: 'school.import' },
    ],
  },
  {
    key: 'zone',
    title: '周边治理',
    icon: markRaw(MapLocation),
    children: [
      { path: '/zone/findings', title: '周边发现', perm: 'zone.read' },
      { path: '/venues', title: '场所名录', perm: 'venue.read' },
      { path: '/venues/map', title: '场所地图', perm: 'venue.read' },
      { path: '/venues/import', title: '导入场所', perm: 'venue.import' },
      { path: '/zone/rules', title: '周边规则', perm: 'zone.read' },
      { path: '/zone/nearby', title: '附近学校', perm: 'school.read' },
    ],
  },
  {
    key: 'admin',
    title: '系统管理',
    icon: markRaw(Setting),
    children: [
      { path: '/admin/users', title: '用户管理', perm: 'user.read' },
      { path: '/admin/roles', title: '角色权限', perm: 'role.read' },
      { path: '/admin/units', title: '成员单位', perm: 'unit.read' },
      { path: '/admin/regions', title: '行政区划', perm: 'region.read' },
      { path: '/admin/audit', title: '操作日志', perm: 'audit.read' },
    ],
  },
]

export function menuFor(can) {
  const out = []
  for (const m of MENU) {
    if (m.children) {
      const children = m.children.filter((c) => can(c.perm))
      if (children.length) out.push({ ...m, children })
    } else if (can(m.perm)) {
      out.push(m)
    }
  }
  return out
}
