// History-mode routes; the server answers index.html for any path that is
// not a file or /api/ (src/core/server.c serve_static).
import { createRouter, createWebHistory } from 'vue-router'
import { useAuth } from './stores/auth'
import MainLayout from './layouts/MainLayout.vue'

const routes = [
  { path: '/login', name: 'login', component: () => import('./views/Login.vue'), meta: { public: true, title: '登录' } },
  { path: '/password', name: 'password', component: () => import('./views/ChangePassword.vue'), meta: { title: '修改密码' } },
  { path: '/totp', name: 'totp', component: () => import('./views/TotpSetup.vue'), meta: { title: '绑定动态验证码' } },
  {
    path: '/',
    component: MainLayout,
    children: [
      { path: '', name: 'dashboard', component: () => import('./views/Dashboard.vue'), meta: { title: '工作台' } },
      {
        path: 'schools',
        name: 'schools',
        component: () => import('./views/schools/SchoolList.vue'),
        meta: { title: '学校名录', perm: 'school.read', crumbs: ['学校管理'] },
      },
      {
        path: 'schools/new',
        name: 'school-new',
        component: () => import('./views/schools/SchoolForm.vue'),
        meta: { title: '新增学校', perm: 'school.write', crumbs: ['学校管理', { title: '学校名录', to: '/schools' }] },
      },
      {
        path: 'schools/import',
        name: 'school-import',
        component: () => import('./views/schools/SchoolImport.vue'),
        meta: { title: '导入学校', perm: 'school.import', crumbs: ['学校管理', { title: '学校名录', to: '/schools' }] },
      },
      {
        path: 'schools/:id(\\d+)',
        name: 'school',
        component: () => import('./views/schools/SchoolDetail.vue'),
        meta: { title: '学校详情', perm: 'school.read', crumbs: ['学校管理', { title: '学校名录', to: '/schools' }] },
      },
      {
        path: 'schools/:id(\\d+)/edit',
        name: 'school-edit',
        component: () => import('./views/schools/SchoolForm.vue'),
        meta: { title: '编辑学校', perm: 'school.write', crumbs: ['学校管理', { title: '学校名录', to: '/schools' }] },
      },
      {
        path: 'venues',
        name: 'venues',
        component: () => import('./views/venues/VenueList.vue'),
        meta: { title: '场所名录', perm: 'venue.read', crumbs: ['周边治理'] },
      },
      {
        path: 'venues/map',
        name: 'venue-map',
        component: () => import('./views/venues/VenueMap.vue'),
        meta: { title: '场所地图', perm: 'venue.read', crumbs: ['周边治理', { title: '场所名录', to: '/venues' }] },
      },
      {
        path: 'venues/import',
        name: 'venue-import',
        component: () => import('./views/venues/VenueImport.vue'),
        meta: { title: '导入场所', perm: 'venue.import', crumbs: ['周边治理', { title: '场所名录', to: '/venues' }] },
      },
      {
        path: 'venues/:id(\\d+)',
        name: 'venue',
        component: () => import('./views/venues/VenueDetail.vue'),
        meta: { title: '场所详情', perm: 'venue.read', crumbs: ['周边治理', { title: '场所名录', to: '/venues' }] },
      },
      {
        path: 'zone/findings',
        name: 'findings',
        component: () => import('./views/zone/Findings.vue'),
        meta: { title: '周边发现', perm: 'zone.read', crumbs: ['周边治理'] },
      },
      {
        path: 'zone/rules',
        name: 'rules',
        component: () => import('./views/zone/Rules.vue'),
        meta: { title: '周边规则', perm: 'zone.read', crumbs: ['周边治理'] },
      },
      {
        path: 'zone/nearby',
        name: 'nearby',
        component: () => import('./views/zone/Nearby.vue'),
        meta: { title: '附近学校', perm: 'school.read', crumbs: ['周边治理'] },
      },
      {
        path: 'admin/users',
        name: 'users',
        component: () => import('./views/admin/Users.vue'),
        meta: { title: '用户管理', perm: 'user.read', crumbs: ['系统管理'] },
      },
      {
        path: 'admin/roles',
        name: 'roles',
        component: () => import('./views/admin/Roles.vue'),
        meta: { title: '角色权限', perm: 'role.read', crumbs: ['系统管理'] },
      },
      {
        path: 'admin/units',
        name: 'units',
        component: () => import('./views/admin/Units.vue'),
        meta: { title: '成员单位', perm: 'unit.read', crumbs: ['系统管理'] },
      },
      {
        path: 'admin/regions',
        name: 'regions',
        component: () => import('./views/admin/Regions.vue'),
        meta: { title: '行政区划', perm: 'region.read', crumbs: ['系统管理'] },
      },
      {
        path: 'admin/audit',
        name: 'audit',
        component: () => import('./views/admin/AuditLog.vue'),
        meta: { title: '操作日志', perm: 'audit.read', crumbs: ['系统管理'] },
      },
      { path: 'forbidden', name: 'forbidden', component: () => import('./views/Forbidden.vue'), meta: { title: '无权访问' } },
      { path: ':rest(.*)*', name: 'notfound', component: () => import('./views/NotFound.vue'), meta: { title: '页面不存在' } },
    ],
  },
]

const router = createRouter({
  history: createWebHistory(),
  routes,
  scrollBehavior: () => ({ top: 0 }),
})

router.beforeEach(async (to) => {
  const auth = useAuth()
  auth.loadConfig()
  if (to.meta.public) return true
  if (!auth.me) {
    try {
      await auth.fetchMe()
    } catch {
      return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
    }
  }
  // the server's gates, in its order: the password first, then TOTP
  if (auth.me.must_change_password) return to.name === 'password' ? true : { name: 'password' }
  if (auth.me.totp_setup_required) return to.name === 'totp' ? true : { name: 'totp' }
  if (to.meta.perm && !auth.can(to.meta.perm)) return { name: 'forbidden', query: { from: to.fullPath } }
  return true
})

router.afterEach((to) => {
  const auth = useAuth()
  document.title = `${to.meta.title ? to.meta.title + ' - ' : ''}${auth.title}`
})

export default router
