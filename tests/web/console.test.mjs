// console.test.mjs - the web console in a real browser (Debian's chromium,
// driven by playwright-core) against a real xiaoan server with the demo
// county. Prints TAP-like "ok - name" / "not ok - name" lines; screenshots
// of every page go to build/test-output/web/.
//
//   node tests/web/console.test.mjs      (tests/web/run.sh does this)
//
// XIAOAN_BIN (default build/xiaoan), CHROMIUM (default /usr/bin/chromium).
import { createRequire } from 'node:module'
import { spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, readdirSync, unlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import { createHmac } from 'node:crypto'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const require = createRequire(join(root, 'web/package.json'))
const { chromium } = require('playwright-core')

const BIN = resolve(root, process.env.XIAOAN_BIN || 'build/xiaoan')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const OUT = join(root, 'build/test-output/web')
const WEB_ROOT = join(root, 'web/dist')
const STEP_MS = 20000

mkdirSync(OUT, { recursive: true })
for (const f of readdirSync(OUT)) if (f.endsWith('.png') || f.endsWith('.xlsx') || f.endsWith('.csv')) unlinkSync(join(OUT, f))

let passed = 0
let failed = 0
const started = Date.now()
const log = (s) => console.log(s)

// ---- the server -----------------------------------------------------------------

const data = mkdtempSync(join(tmpdir(), 'xiaoan-web-'))
const env = { ...process.env, XIAOAN_PW_COST: 'fast' }
let server = null
let browser = null

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer()
    s.once('error', rej)
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port
      s.close(() => res(p))
    })
  })
}

async function startServer() {
  const init = execFileSync(BIN, ['init', '--data', data], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const adminPw = init.trim().split('\n').pop().trim()
  const demo = execFileSync(BIN, ['demo', '--data', data], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const accounts = {}
  for (const line of demo.split('\n')) {
    const m = /^\s+([a-z][a-z0-9_.-]+)\s+(\S+)\s+\S/.exec(line)
    if (m) accounts[m[1]] = m[2]
  }
  const port = await freePort()
  server = spawn(BIN, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--web-root', WEB_ROOT], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let serverLog = ''
  server.stderr.on('data', (d) => (serverLog = (serverLog + d).slice(-20000)))
  server.on('exit', (code, signal) => {
    // a crash in the middle of the run: say so, with the server's last words
    if (!stopping) log(`# the server exited (${signal || code}); its log ends:\n# ${serverLog.slice(-3000).split('\n').join('\n# ')}`)
    server = null
  })
  const base = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    try {
      const r = await fetch(base + '/healthz')
      if (r.ok) return { base, adminPw, accounts, log: () => serverLog }
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error('server did not start: ' + serverLog.slice(-2000))
}

let stopping = false
function cleanup() {
  stopping = true
  if (server) {
    try {
      server.kill('SIGTERM')
    } catch {
      /* gone */
    }
  }
  rmSync(data, { recursive: true, force: true })
}
process.on('exit', cleanup)
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130))

// ---- helpers ---------------------------------------------------------------------

async function shot(page, name) {
  await page.waitForTimeout(150)
  // toasts from earlier steps would cover the page in the picture
  await page.evaluate(() => document.querySelectorAll('.el-message').forEach((e) => e.remove())).catch(() => {})
  // no hover state left by the last click
  await page.mouse.move(1, 1).catch(() => {})
  // sticky header and menu: a full-page picture is taken from the top
  await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {})
  await page.waitForTimeout(100)
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage: true })
}

function withTimeout(p, ms, what) {
  let t
  return Promise.race([p, new Promise((_, rej) => (t = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms)))]).finally(
    () => clearTimeout(t),
  )
}

let currentPage = null
async function step(name, fn) {
  try {
    await withTimeout(fn(), STEP_MS, name)
    passed++
    log(`ok - ${name}`)
    return true
  } catch (e) {
    failed++
    log(`not ok - ${name}`)
    log(`#   ${String(e && e.message ? e.message : e).split('\n').slice(0, 6).join('\n#   ')}`)
    if (currentPage) {
      const safe = name.replace(/[^\w\u4e00-\u9fa5-]+/g, '_').slice(0, 60)
      await currentPage.screenshot({ path: join(OUT, `FAIL-${safe}.png`), fullPage: true }).catch(() => {})
    }
    return false
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg)
}

const NEW_PW = 'Safe-School-2024!'

// RFC 6238 code (SHA-1, 6 digits, 30 s) for a base32 secret at time step.
function totp(secret, step) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secret.replace(/[\s=]/g, '').toUpperCase()) bits += alpha.indexOf(c).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(step))
  const h = createHmac('sha1', key).update(msg).digest()
  const o = h[h.length - 1] & 15
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0')
}

// the page's session does a write, as the console would (CSRF token from me)
async function apiWrite(page, method, path, body) {
  return page.evaluate(
    async ([m, p, b]) => {
      const me = await (await fetch('/api/auth/me')).json()
      const r = await fetch(p, {
        method: m,
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf },
        body: JSON.stringify(b),
      })
      return { status: r.status, body: await r.json().catch(() => null) }
    },
    [method, path, body],
  )
}

// A page's own errors: uncaught exceptions, console errors (a CSP violation
// is reported as one), failed requests for the console's own files.
function watch(page, problems) {
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    const t = m.text()
    // answers the console expects and shows (401 after expiry, 4xx on bad input)
    if (/the server responded with a status of (4\d\d)/.test(t)) return
    problems.push(`console: ${t}`)
  })
}

async function login(page, base, username, password) {
  await page.goto(base + '/login')
  await page.locator('input[name=username]').fill(username)
  await page.locator('input[name=password]').fill(password)
  await page.locator('[data-test=login-submit]').click()
}

async function changePassword(page, oldPw, newPw) {
  await page.locator('[data-test=forced]').waitFor()
  await page.locator('input[name=old_password]').fill(oldPw)
  await page.locator('input[name=new_password]').fill(newPw)
  await page.locator('input[name=confirm]').fill(newPw)
  await page.locator('[data-test=password-submit]').click()
}

async function apiGet(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { credentials: 'same-origin' })
    return { status: r.status, body: await r.json().catch(() => null) }
  }, path)
}

// ---- the scenario ------------------------------------------------------------------

async function main() {
  const srv = await startServer()
  const { base } = srv
  log(`# server ${base}, data ${data}`)
  // playwright gives every launch a fresh temporary profile (user-data dir)
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--lang=zh-CN',
    ],
  })
  const problems = []

  // ---------- desktop ----------
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 820 }, locale: 'zh-CN', acceptDownloads: true })
  ctx.setDefaultTimeout(10000)
  const page = await ctx.newPage()
  currentPage = page
  watch(page, problems)

  await step('a deep link without a session lands on the login page', async () => {
    await page.goto(base + '/schools?q=x')
    await page.waitForURL(/\/login\?redirect=/)
    await page.locator('input[name=username]').waitFor()
    await shot(page, '01-login')
  })

  await step('the console is served with the strict CSP and hashed assets cached long', async () => {
    const r = await fetch(base + '/schools/1')
    const csp = r.headers.get('content-security-policy') || ''
    assert(r.ok && (await r.text()).includes('<div id="app">'), 'history fallback did not answer index.html')
    assert(csp.includes("script-src 'self'") && !csp.includes('unsafe-eval'), `CSP: ${csp}`)
    const html = await (await fetch(base + '/')).text()
    const js = /src="(\/assets\/[^"]+\.js)"/.exec(html)
    assert(js, 'no hashed script in index.html')
    const a = await fetch(base + js[1])
    assert(/max-age=31536000/.test(a.headers.get('cache-control') || ''), 'assets lack long cache headers')
  })

  await step('a wrong password shows the server message', async () => {
    await login(page, base, 'admin', 'not-the-password-1A')
    await page.locator('[data-test=login-error]').waitFor()
    const t = await page.locator('[data-test=login-error]').innerText()
    assert(t.includes('用户名或密码错误'), `message: ${t}`)
  })

  await step('first sign-in meets the forced password change', async () => {
    await page.locator('input[name=password]').fill(srv.adminPw)
    await page.locator('[data-test=login-submit]').click()
    await page.waitForURL(/\/password$/)
    await page.locator('[data-test=forced]').waitFor()
    await shot(page, '02-forced-password')
  })

  await step('a server error marks the form field it names (原密码不正确)', async () => {
    await page.locator('input[name=old_password]').fill('Wrong-Old-Pass-1')
    await page.locator('input[name=new_password]').fill(NEW_PW)
    await page.locator('input[name=confirm]').fill(NEW_PW)
    await page.locator('[data-test=password-submit]').click()
    const item = page.locator('.el-form-item.is-error', { hasText: '原密码不正确' })
    await item.waitFor()
    await shot(page, '03-password-field-error')
  })

  await step('changing the password opens the dashboard with charts from the API', async () => {
    await page.locator('input[name=old_password]').fill(srv.adminPw)
    await page.locator('[data-test=password-submit]').click()
    await page.waitForURL(base + '/')
    await page.locator('[data-test=chart-stage] canvas').waitFor()
    await page.locator('[data-test=chart-region] canvas').waitFor()
    const stats = await apiGet(page, '/api/schools/stats')
    const total = await page.locator('[data-test=card-total] .card-value').innerText()
    assert(total.startsWith(String(stats.body.total)), `card ${total} vs API ${stats.body.total}`)
    const todo = await page.locator('[data-test=todo]').innerText()
    assert(todo.includes('台账') && !/\d/.test(todo), `to-do card: ${todo}`)
    const who = await page.locator('[data-test=who]').innerText()
    assert(who.includes('系统管理') && who.includes('全部'), `header: ${who}`)
    await shot(page, '04-dashboard')
  })

  let schoolId = null
  let duzhiPw = null
  await step('find a school by name in the list', async () => {
    await page.locator('.el-menu-item', { hasText: '学校名录' }).click()
    await page.waitForURL(/\/schools/)
    await page.locator('[data-test=school-table] .el-table__row').first().waitFor()
    await shot(page, '05-schools')
    await page.locator('input[data-test=filter-q]').fill('实验小学')
    await page.locator('input[data-test=filter-q]').press('Enter')
    await page.waitForURL(/q=/)
    const row = page.locator('[data-test=school-table] .el-table__body-wrapper .el-table__row', { hasText: '示范县实验小学' })
    await row.first().waitFor()
    const rows = await page.locator('[data-test=school-table] .el-table__body-wrapper .el-table__row').count()
    const api = await apiGet(page, '/api/schools?q=' + encodeURIComponent('实验小学'))
    assert(rows === api.body.items.length, `rows ${rows} vs API ${api.body.items.length}`)
    await shot(page, '06-schools-search')
    await row.first().locator('a', { hasText: '示范县实验小学' }).click()
    await page.waitForURL(/\/schools\/\d+$/)
    schoolId = /\/schools\/(\d+)/.exec(page.url())[1]
    await page.locator('[data-test=school-title]', { hasText: '示范县实验小学' }).waitFor()
    await shot(page, '07-school-info')
  })

  await step('the school on its map: marker, 200 m circle, scale bar, offline base', async () => {
    await page.locator('.el-tabs__item', { hasText: '位置' }).click()
    await page.locator('[data-test=school-map].leaflet-container').waitFor()
    await page.locator('.leaflet-control-scale-line').waitFor()
    await page.locator('.leaflet-tooltip', { hasText: '示范县实验小学' }).waitFor()
    assert((await page.locator('[data-test=school-map] canvas').count()) > 0, 'no vector layer drawn')
    const towns = await page.locator('.town-label').count()
    assert(towns > 0, 'no township labels on the offline base')
    await shot(page, '08-school-map')
  })

  let guards = null
  await step('a taken school code is refused and marked on the 学校标识码 field', async () => {
    await page.locator('[data-test=edit]').click()
    await page.waitForURL(/\/edit$/)
    await page.locator('[data-test=school-form] input[name=code]').waitFor()
    const other = await apiGet(page, '/api/schools?page_size=2&sort=-code')
    const taken = other.body.items.find((s) => String(s.id) !== schoolId).code
    await page.locator('input[name=code]').fill(taken)
    await page.locator('[data-test=save]').click()
    await page.locator('.el-form-item.is-error', { hasText: '学校标识码已存在' }).waitFor()
    await shot(page, '09-school-form-error')
  })

  await step('edit a field and see the change in 操作记录', async () => {
    await page.goto(`${base}/schools/${schoolId}/edit`)
    await page.locator('input[name=code]').waitFor()
    const before = await apiGet(page, `/api/schools/${schoolId}`)
    guards = (before.body.guard_count || 0) + 1
    await page.locator('.el-form-item:has-text("专职保安数") input').fill(String(guards))
    await page.locator('[data-test=save]').click()
    await page.waitForURL(new RegExp(`/schools/${schoolId}$`))
    await page.locator('.el-tabs__item', { hasText: '操作记录' }).click()
    const entry = page.locator('[data-test=audit] .el-timeline-item').first()
    await entry.waitFor()
    const text = await entry.innerText()
    assert(text.includes('admin') && text.includes('修改'), `entry: ${text}`)
    assert(text.includes('专职保安数') && text.includes(String(guards)) && text.includes(String(guards - 1)), `diff: ${text}`)
    await shot(page, '10-school-audit')
  })

  // ---------- the surroundings (周边) ----------
  // A venue of our own 120 m east of the school, an internet café: without a
  // campus boundary the engine falls back to point-to-point (at most 需审查);
  // with a boundary drawn round the school it is measured from the boundary
  // and the national 200 m rule forbids it (禁止).
  let cafe = null
  const cafeName = '浏览器测试网吧'
  await step('the 周边 tab: boundary, gates, buffer, venues coloured by verdict and the list', async () => {
    const cats = await apiGet(page, '/api/venues/categories')
    assert(cats.status === 200, `categories: ${cats.status}`)
    const net = cats.body.items.find((c) => c.name.includes('互联网上网'))
    assert(net, 'no internet café category')
    const s = (await apiGet(page, `/api/schools/${schoolId}`)).body
    const clear = await apiWrite(page, 'PATCH', `/api/schools/${schoolId}`, { boundary: null, entrances: [] })
    assert(clear.status === 200, `clearing the boundary: ${clear.status} ${JSON.stringify(clear.body)}`)
    const dLon = 120 / (111320 * Math.cos((s.lat * Math.PI) / 180))
    const made = await apiWrite(page, 'POST', '/api/venues', {
      name: cafeName, category: net.code, region_code: s.region_code, status: '营业',
      lat: s.lat, lon: +(s.lon + dLon).toFixed(7), address: '测试路 1 号',
    })
    assert(made.status === 201 || made.status === 200, `venue create: ${made.status} ${JSON.stringify(made.body)}`)
    cafe = made.body
    await page.goto(`${base}/schools/${schoolId}?tab=zone`)
    await page.locator('[data-test=surroundings-map].leaflet-container').waitFor()
    const row = page.locator('[data-test=surroundings-list] .el-table__row', { hasText: cafeName })
    await row.waitFor()
    const t = await row.innerText()
    assert(t.includes('需审查') && t.includes('回退'), `without a boundary: ${t}`)
    assert((await page.locator(`path.venue-mk.venue-${cafe.id}.v-review`).count()) === 1, 'the café is not an orange marker')
    assert((await page.locator('path.venue-mk').count()) >= 1, 'no venue markers')
    const sur = await apiGet(page, `/api/schools/${schoolId}/surroundings?radius=200`)
    const rows = await page.locator('[data-test=surroundings-list] .el-table__body-wrapper .el-table__row').count()
    assert(rows === sur.body.items.length, `list ${rows} vs API ${sur.body.items.length}`)
    await row.click()
    await page.locator('.leaflet-tooltip', { hasText: cafeName }).waitFor()
    await shot(page, '40-school-surroundings')
  })

  // the school's point on the screen, and a ring of clicks round it
  const schoolXY = async () => {
    const b = await page.locator('path.school-point').boundingBox()
    return { x: b.x + b.width / 2, y: b.y + b.height / 2 }
  }
  const drawRing = async (pts) => {
    await page.locator('[data-test=draw-boundary]').click()
    for (const [x, y] of pts) {
      await page.mouse.click(x, y)
      await page.waitForTimeout(120)
    }
    await page.mouse.click(pts[0][0], pts[0][1]) // the first vertex closes the ring
    await page.waitForTimeout(200)
  }

  await step('a self-intersecting boundary is refused with the server\'s Chinese message', async () => {
    await page.locator('[data-test=edit-boundary]').click()
    await page.locator('[data-test=gate-editor]').waitFor()
    const { x, y } = await schoolXY()
    await drawRing([[x - 30, y - 30], [x + 30, y + 30], [x + 30, y - 30], [x - 30, y + 30]])
    await page.locator('[data-test=save-geometry]').click()
    const err = page.locator('[data-test=geometry-error]')
    await err.waitFor()
    const t = await err.innerText()
    assert(t.includes('自相交'), `error: ${t}`)
    await shot(page, '41-boundary-self-intersection')
  })

  await step('a valid boundary and a pupils\' gate are saved and turn the café to 禁止', async () => {
    await page.locator('[data-test=clear-boundary]').click()
    const { x, y } = await schoolXY()
    await drawRing([[x - 30, y - 30], [x + 30, y - 30], [x + 30, y + 30], [x - 30, y + 30]])
    await page.locator('[data-test=add-gate]').click()
    await page.mouse.click(x + 30, y + 10)
    await page.locator('[data-test=gate-editor] .gate-row').first().waitFor()
    await page.locator('[data-test=save-geometry]').click()
    const row = page.locator('[data-test=surroundings-list] .el-table__row', { hasText: cafeName })
    await page.locator('[data-test=surroundings-list] .el-table__row', { hasText: cafeName }).filter({ hasText: '禁止' }).waitFor()
    const t = await row.innerText()
    assert(t.includes('校园边界直线') && !t.includes('回退'), `with a boundary: ${t}`)
    await page.locator(`path.venue-mk.venue-${cafe.id}.v-forbid`).waitFor()
    const s = (await apiGet(page, `/api/schools/${schoolId}`)).body
    assert(s.boundary && s.boundary.type === 'MultiPolygon', `boundary: ${JSON.stringify(s.boundary)}`)
    assert(s.entrances.length === 1 && s.entrances[0].pupils === true, `entrances: ${JSON.stringify(s.entrances)}`)
    assert((await page.locator('.gate-icon.pupils').count()) >= 1, 'the pupils\' gate is not drawn')
    await shot(page, '42-boundary-saved')
  })

  await step('周边发现: stats, the verdict filter, exempt refused without a reason and done with one', async () => {
    await page.goto(base + '/zone/findings')
    await page.locator('[data-test=finding-stats] .card').first().waitFor()
    await page.locator('[data-test=finding-table] .el-table__row').first().waitFor()
    await shot(page, '43-findings')
    await page.locator('[data-test=stat-禁止]').click()
    await page.waitForURL(/verdict=/)
    await page.locator('[data-test=finding-table] .el-table__body-wrapper .el-table__row', { hasText: cafeName }).waitFor()
    const tags = await page.locator('[data-test=finding-table] .el-table__body-wrapper .el-table__row').allInnerTexts()
    assert(tags.every((r) => r.includes('禁止')), 'a row that is not 禁止 under the 禁止 filter')
    const api = await apiGet(page, '/api/zone/findings?verdict=' + encodeURIComponent('禁止') + '&page_size=20')
    assert(tags.length === Math.min(20, api.body.total), `rows ${tags.length} vs API ${api.body.total}`)
    const refused = await apiWrite(page, 'POST', `/api/zone/findings/${api.body.items.find((f) => f.venue_id === cafe.id).id}/exempt`, { reason: '' })
    assert(refused.status >= 400 && refused.status < 500, `the server took an empty reason: ${refused.status}`)
    await page.locator('[data-test=finding-table] .el-table__row', { hasText: cafeName }).click()
    await page.locator('[data-test=finding-drawer] [data-test=finding-events]').or(page.locator('[data-test=finding-drawer] .el-empty')).first().waitFor()
    await page.locator('[data-test=act-exempt]').click()
    await page.locator('[data-test=act-submit]').click()
    await page.locator('[data-test=act-form] .el-form-item.is-error', { hasText: '豁免理由' }).waitFor()
    await shot(page, '44-finding-exempt-refused')
    await page.locator('[data-test=act-form] textarea').fill('经现场核查，该店已于本月停止上网服务，仅经营饮品。')
    await page.locator('[data-test=act-submit]').click()
    await page.locator('[data-test=drawer-state]', { hasText: '已豁免' }).waitFor()
    await page.locator('[data-test=finding-events]', { hasText: '豁免' }).waitFor()
    await shot(page, '45-finding-exempted')
    const after = await apiGet(page, '/api/zone/findings?venue_id=' + cafe.id)
    assert(after.body.items.some((f) => f.state === '已豁免'), `state: ${JSON.stringify(after.body.items.map((f) => f.state))}`)
    // 确认 after all, with a note; then a walking distance, which this finding's rule (campus boundary) does not take
    await page.locator('[data-test=act-confirm]').click()
    await page.locator('[data-test=act-form] textarea').fill('复核：该店仍提供上网服务，确认。')
    await page.locator('[data-test=act-submit]').click()
    await page.locator('[data-test=drawer-state]', { hasText: '已确认' }).waitFor()
    await page.locator('[data-test=finding-events]', { hasText: '确认' }).waitFor()
    await page.locator('[data-test=act-measure]').click()
    await page.locator('[data-test=act-form] input[name=walking_m]').fill('150')
    await page.locator('[data-test=act-submit]').click()
    await page.locator('[data-test=act-form] .el-form-item.is-error', { hasText: '不按步行距离测量' }).waitFor()
    await shot(page, '45b-finding-measure-refused')
    const confirmed = await apiGet(page, '/api/zone/findings?venue_id=' + cafe.id)
    assert(confirmed.body.items.some((f) => f.state === '已确认' && f.walking_m === null),
      `after confirm and a refused measurement: ${JSON.stringify(confirmed.body.items)}`)
  })

  await step('周边规则: sources, confidence badges, 无 for rules without a number', async () => {
    await page.goto(base + '/zone/rules')
    await page.locator('[data-test=rule-table] .el-table__row').first().waitFor()
    const src = await page.locator('[data-test=rule-table]').innerText()
    assert(src.includes('互联网上网服务营业场所管理条例'), 'the internet café rule\'s source is missing')
    assert(src.includes('V 已核实'), 'no V confidence badge')
    assert(src.includes('校园边界直线'), 'methods are not in Chinese')
    assert(src.includes('全国'), 'no national rule')
    await shot(page, '46-rules')
  })

  await step('周边规则: an administrator edits a rule and finds the new version in 版本记录', async () => {
    const code = 'L-WN-TOB'
    const before = (await apiGet(page, '/api/zone/rules')).body.items.find((r) => r.code === code)
    const row = page.locator('[data-test=rule-table] .el-table__row', { hasText: code })
    await row.getByRole('button', { name: '编辑' }).click()
    const dlg = page.locator('.el-dialog', { hasText: `编辑规则 ${code}` })
    await dlg.locator('textarea').fill('征求意见稿，正式发布前不启用（浏览器测试）')
    await dlg.getByRole('button', { name: '保存' }).click()
    await dlg.waitFor({ state: 'hidden' })
    const after = (await apiGet(page, '/api/zone/rules')).body.items.find((r) => r.code === code)
    assert(after.version === before.version + 1 && after.note.startsWith('征求意见稿，正式发布前不启用'),
      `rule after the edit: ${JSON.stringify(after)}`)
    await row.getByRole('button', { name: '版本记录' }).click()
    const vd = page.locator('.el-dialog', { hasText: `${code} 的版本记录` })
    await vd.locator('.el-timeline-item').nth(1).waitFor()
    const text = await vd.innerText()
    assert(text.includes(`第 ${after.version} 版`) && text.includes('第 1 版'), `versions: ${text}`)
    await shot(page, '46b-rule-versions')
    await page.keyboard.press('Escape')
    await vd.waitFor({ state: 'hidden' })
  })

  await step('场所: the create dialog validates, picks the point on the map and creates', async () => {
    await page.goto(base + '/venues')
    await page.locator('[data-test=venue-table] .el-table__row').first().waitFor()
    await shot(page, '47-venues')
    await page.locator('[data-test=venue-new]').click()
    await page.locator('[data-test=point-picker].leaflet-container').waitFor()
    await page.locator('[data-test=venue-save]').click()
    await page.locator('[data-test=venue-form] .el-form-item.is-error', { hasText: '请填写场所名称' }).waitFor()
    await page.locator('[data-test=venue-form] .el-form-item.is-error', { hasText: '请在地图上点选' }).first().waitFor()
    await shot(page, '48-venue-dialog-errors')
    await page.locator('[data-test=venue-form] input[name=name]').fill('浏览器测试文具店')
    await page.locator('[data-test=category]').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '文具' }).first().click()
    await page.locator('[data-test=venue-region]').click()
    await page.locator('.el-select-dropdown__item:visible', { hasText: '城东' }).first().click()
    await page.locator('[data-test=venue-form] input[name=operator_phone]').fill('13800138000')
    const b = await page.locator('[data-test=point-picker]').boundingBox()
    await page.mouse.click(b.x + b.width / 2, b.y + b.height / 2)
    await page.locator('[data-test=pick-mode] .el-radio-button', { hasText: '添加出入口' }).click()
    await page.mouse.click(b.x + b.width / 2 + 20, b.y + b.height / 2)
    await page.locator('.ent-row').first().waitFor()
    await shot(page, '49-venue-dialog-filled')
    await page.locator('[data-test=venue-save]').click()
    await page.waitForURL(/\/venues\/\d+$/)
    await page.locator('[data-test=venue-title]', { hasText: '浏览器测试文具店' }).waitFor()
    const id = /\/venues\/(\d+)/.exec(page.url())[1]
    const v = (await apiGet(page, `/api/venues/${id}`)).body
    assert(v.lat != null && v.entrances.length === 1, `venue: ${JSON.stringify(v)}`)
    await page.locator('.el-tabs__item', { hasText: '位置' }).click()
    await page.locator('[data-test=venue-map].leaflet-container').waitFor()
    await shot(page, '50-venue-detail-map')
  })

  await step('场所地图 draws every venue of the filter; the dashboard counts link to the findings', async () => {
    await page.goto(base + '/venues/map')
    await page.locator('[data-test=venues-map] canvas').first().waitFor()
    await page.locator('[data-test=venue-count]', { hasText: '地图上' }).waitFor()
    await shot(page, '51-venue-map')
    await page.goto(base + '/')
    await page.locator('[data-test=zone-panel] .zone-card').first().waitFor()
    const stats = await apiGet(page, '/api/zone/findings/stats')
    const v = await page.locator('[data-test=zone-禁止] .zone-value').innerText()
    assert(Number(v) === (stats.body.by_verdict['禁止'] || 0), `card ${v} vs API ${JSON.stringify(stats.body.by_verdict)}`)
    await page.locator('[data-test=zone-待核实]').click()
    await page.waitForURL(/\/zone\/findings\?state=/)
    await shot(page, '52-findings-from-dashboard')
  })

  const good = '学校名称,学校标识码,学段,办学性质,所属乡镇（街道）,专职保安数\n'
  await step('import a CSV with one bad row and see the row error', async () => {
    await page.goto(base + '/schools/import')
    const csv = good + '浏览器测试小学,3134089901,小学,公办,城东街道,2\n坏数据学校,12345,大学,公办,城东街道,1\n'
    await page.locator('[data-test=upload] input[type=file]').setInputFiles({ name: '学校-有错.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
    await page.locator('[data-test=preview]').waitFor()
    await page.locator('[data-test=mapping] .el-table__row').first().waitFor()
    await shot(page, '11-import-preview')
    await page.locator('[data-test=dry-run]').click()
    const errs = page.locator('[data-test=row-errors] .el-table__body-wrapper .el-table__row')
    await errs.first().waitFor()
    const t = await page.locator('[data-test=row-errors]').innerText()
    assert(t.includes('学校标识码') && t.includes('3'), `row errors: ${t}`)
    assert((await page.locator('[data-test=commit]').count()) === 0, 'commit offered despite errors')
    await shot(page, '12-import-row-errors')
  })

  await step('import a corrected CSV: dry run, commit with progress, school appears', async () => {
    const csv = good + '浏览器测试小学,3134089901,小学,公办,城东街道,2\n'
    await page.locator('[data-test=upload] input[type=file]').setInputFiles({ name: '学校-已改.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
    await page.locator('[data-test=file-name]', { hasText: '已改' }).waitFor()
    await page.locator('[data-test=dry-run]').click()
    await page.locator('[data-test=commit]').click()
    await page.locator('.el-message-box__btns .el-button--primary').click()
    await page.locator('[data-test=import-done]').waitFor()
    const pct = await page.locator('[data-test=progress]').innerText()
    assert(pct.includes('100'), `progress: ${pct}`)
    await shot(page, '13-import-done')
    const r = await apiGet(page, '/api/schools?q=' + encodeURIComponent('浏览器测试小学'))
    assert(r.body.total === 1, `imported school not found (${r.body.total})`)
  })

  await step('export Excel honouring the filters: a zip with the Chinese header row', async () => {
    await page.goto(base + '/schools?stage=' + encodeURIComponent('小学'))
    await page.locator('[data-test=school-table] .el-table__row').first().waitFor()
    const [dl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-test=export-xlsx]').click()])
    const file = join(OUT, 'export.xlsx')
    await dl.saveAs(file)
    assert(dl.suggestedFilename().endsWith('.xlsx'), `file name ${dl.suggestedFilename()}`)
    const buf = readFileSync(file)
    assert(buf[0] === 0x50 && buf[1] === 0x4b, 'not a zip file')
    const py = [
      'import sys, zipfile, re',
      'z = zipfile.ZipFile(sys.argv[1])',
      "s = ''.join(z.read(n).decode('utf-8') for n in z.namelist() if n.startswith('xl/') and n.endswith('.xml'))",
      "print(len(re.findall(r'<row ', s)))",
      "print('学校名称' in s and '学校标识码' in s and '所属乡镇（街道）' in s)",
      "print('幼儿园' in s)",
    ].join('\n')
    const [rows, header, kinder] = execFileSync('python3', ['-c', py, file], { encoding: 'utf8' }).trim().split('\n')
    assert(header === 'True', 'Chinese header row missing')
    const api = await apiGet(page, '/api/schools?page_size=1&stage=' + encodeURIComponent('小学'))
    assert(Number(rows) === api.body.total + 1, `rows ${rows} vs ${api.body.total} schools + header`)
    assert(kinder === 'False', 'the stage filter was not applied to the export')
    await shot(page, '14-schools-filtered')
  })

  await step('system pages: users (reset password shows it once), roles, units, regions, audit', async () => {
    await page.goto(base + '/admin/users')
    const row = page.locator('[data-test=users] .el-table__body-wrapper .el-table__row', { hasText: 'duzhi' })
    await row.waitFor()
    await shot(page, '15-users')
    await page.locator('.el-table__fixed-right .el-table__row, .el-table__body-wrapper .el-table__row', { hasText: 'duzhi' })
    const idx = await page.locator('[data-test=users] .el-table__body-wrapper .el-table__row').evaluateAll(
      (rs) => rs.findIndex((r) => r.innerText.includes('duzhi')),
    )
    await page.locator('[data-test=users] .el-table__row').nth(idx).getByRole('button', { name: '重置密码' }).click()
    await page.locator('.el-message-box__btns .el-button--primary').click()
    await page.locator('[data-test=otp]').waitFor()
    const pw = (await page.locator('[data-test=otp]').innerText()).trim()
    assert(pw.length >= 12, `one-time password: ${pw}`)
    duzhiPw = pw
    await shot(page, '16-users-otp')
    await page.getByRole('button', { name: '我已记下' }).click()
    for (const [path, sel, name] of [
      ['/admin/roles', '[data-test=roles] .el-table__row', '17-roles'],
      ['/admin/units', '[data-test=units] .el-table__row', '18-units'],
      ['/admin/regions', '[data-test=regions] .el-table__row', '19-regions'],
      ['/admin/audit', '[data-test=audit-log] .el-table__row', '20-audit'],
    ]) {
      await page.goto(base + path)
      await page.locator(sel).first().waitFor()
      await shot(page, name)
    }
    await page.goto(base + '/admin/roles')
    await page.locator('[data-test=roles] .el-table__body-wrapper .el-table__row').first().waitFor()
    await page.locator('.el-table__body-wrapper .el-table__row', { hasText: '督导只读' }).first().waitFor()
    const i = await page.locator('[data-test=roles] .el-table__body-wrapper .el-table__row').evaluateAll((rs) =>
      rs.findIndex((r) => r.innerText.includes('督导只读')),
    )
    await page.locator('[data-test=roles] .el-table__row').nth(i).getByRole('button', { name: '编辑' }).click()
    await page.locator('.el-dialog .el-checkbox').first().waitFor()
    await shot(page, '21-role-edit')
    await page.locator('.el-dialog').getByRole('button', { name: '取消' }).click()
  })

  await step('a role that requires TOTP: enrolment page, then the TOTP step at login', async () => {
    const r = await apiWrite(page, 'PATCH', '/api/roles/inspector', { require_totp: true })
    assert(r.status === 200, `role patch: ${r.status} ${JSON.stringify(r.body)}`)
    const c2 = await browser.newContext({ viewport: { width: 1366, height: 820 }, locale: 'zh-CN' })
    c2.setDefaultTimeout(10000)
    const p2 = await c2.newPage()
    watch(p2, problems)
    currentPage = p2
    try {
      await login(p2, base, 'duzhi', duzhiPw)
      await changePassword(p2, duzhiPw, NEW_PW)
      await p2.waitForURL(/\/totp$/)
      const secret = (await p2.locator('[data-test=totp-secret]').innerText()).replace(/\s/g, '')
      assert(/^[A-Z2-7]{16,}$/.test(secret), `secret ${secret}`)
      assert((await p2.locator('textarea[data-test=totp-uri]').inputValue()).startsWith('otpauth://totp/'), 'no otpauth URI')
      await shot(p2, '24-totp-setup')
      const now = Math.floor(Date.now() / 1000 / 30)
      await p2.locator('input[autocomplete=one-time-code]').fill(totp(secret, now - 1))
      await p2.getByRole('button', { name: '完成绑定' }).click()
      await p2.waitForURL(base + '/')
      await p2.locator('[data-test=who]', { hasText: '督导' }).or(p2.locator('[data-test=who]')).waitFor()
      // the inspector reads, so the menu has no 系统管理 entries that need writes
      await p2.locator('[data-test=user-menu]').click()
      await p2.locator('[data-test=logout]').click()
      await p2.locator('.el-message-box__btns .el-button--primary').click()
      await p2.waitForURL(/\/login$/)
      await login(p2, base, 'duzhi', NEW_PW)
      await p2.locator('input[name=totp]').waitFor()
      await shot(p2, '25-login-totp')
      await p2.locator('input[name=totp]').fill(totp(secret, Math.floor(Date.now() / 1000 / 30)))
      await p2.locator('[data-test=login-submit]').click()
      await p2.waitForURL(base + '/')
      await p2.locator('.el-menu-item', { hasText: '学校名录' }).waitFor()
      assert((await p2.locator('.el-menu-item', { hasText: '导入学校' }).count()) === 0, 'menu offers 导入 to a read-only role')
      await shot(p2, '26-inspector-dashboard')
    } finally {
      currentPage = page
      await c2.close()
    }
  })

  await step('an expired session returns to login with 会话已过期，请重新登录', async () => {
    await page.goto(base + '/schools')
    await page.locator('[data-test=school-table] .el-table__row').first().waitFor()
    await ctx.clearCookies()
    await page.locator('[data-test=filter-search]').click()
    await page.waitForURL(/\/login/)
    const t = await page.locator('[data-test=notice]').innerText()
    assert(t.includes('会话已过期，请重新登录'), `notice: ${t}`)
    await shot(page, '22-session-expired')
  })

  await step('log in again and log out from the user menu', async () => {
    await page.locator('input[name=username]').fill('admin')
    await page.locator('input[name=password]').fill(NEW_PW)
    await page.locator('[data-test=login-submit]').click()
    await page.waitForURL(/\/schools/) // back where the session ended
    await page.locator('[data-test=user-menu]').click()
    await page.locator('[data-test=logout]').click()
    await page.locator('.el-message-box__btns .el-button--primary').click()
    await page.waitForURL(/\/login$/)
    const me = await apiGet(page, '/api/auth/me')
    assert(me.status === 401, `still signed in: ${me.status}`)
    await shot(page, '23-logged-out')
  })
  await ctx.close()

  // ---------- a phone at 375 px ----------
  const phone = await browser.newContext({
    viewport: { width: 375, height: 760 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: 'zh-CN',
  })
  phone.setDefaultTimeout(10000)
  const mp = await phone.newPage()
  currentPage = mp
  watch(mp, problems)
  const noOverflow = async (what) => {
    const w = await mp.evaluate(() => document.documentElement.scrollWidth)
    assert(w <= 376, `${what}: page is ${w} px wide at 375`)
  }

  await step('phone 375 px: login and the forced password change', async () => {
    await login(mp, base, 'zongzhi', srv.accounts.zongzhi)
    await mp.waitForURL(/\/password$/)
    await noOverflow('password page')
    await shot(mp, '30-phone-password')
    await changePassword(mp, srv.accounts.zongzhi, NEW_PW)
    await mp.waitForURL(base + '/')
    await mp.locator('[data-test=chart-stage] canvas').waitFor()
    await noOverflow('dashboard')
    await shot(mp, '31-phone-dashboard')
  })

  await step('phone 375 px: the menu is a drawer; the school list fits', async () => {
    await mp.locator('.header .toggle').click()
    await mp.locator('.menu-drawer .el-menu-item', { hasText: '学校名录' }).waitFor()
    await shot(mp, '32-phone-menu')
    await mp.locator('.menu-drawer .el-menu-item', { hasText: '学校名录' }).click()
    await mp.waitForURL(/\/schools/)
    await mp.locator('[data-test=school-table] .el-table__row').first().waitFor()
    await mp.waitForTimeout(400)
    await noOverflow('school list')
    await shot(mp, '33-phone-schools')
  })

  await step('phone 375 px: a school form stacks and validates', async () => {
    await mp.goto(base + `/schools/${schoolId}/edit`)
    await mp.locator('input[name=principal_phone]').waitFor()
    await mp.locator('input[name=principal_phone]').fill('12345')
    await mp.locator('[data-test=save]').click()
    await mp.locator('.el-form-item.is-error', { hasText: '校长电话' }).first().waitFor()
    await noOverflow('school form')
    await shot(mp, '34-phone-form')
    await mp.goto(base + `/schools/${schoolId}?tab=map`)
    await mp.locator('.leaflet-control-scale-line').waitFor()
    await noOverflow('school map')
    await shot(mp, '35-phone-map')
  })
  await step('phone 375 px: the 周边 tab stacks the map over the list', async () => {
    await mp.goto(base + `/schools/${schoolId}?tab=zone`)
    await mp.locator('[data-test=surroundings-map].leaflet-container').waitFor()
    await mp.locator('[data-test=surroundings-list] .el-table__row').first().waitFor()
    await noOverflow('surroundings')
    await shot(mp, '36-phone-surroundings')
  })
  await phone.close()

  await step('no script errors or CSP violations in the browser', async () => {
    assert(problems.length === 0, problems.slice(0, 5).join('\n'))
  })
}

const overall = setTimeout(() => {
  log('not ok - browser tests finished within 170 s')
  process.exit(1)
}, 170000)

try {
  await main()
} catch (e) {
  failed++
  log(`not ok - browser test setup: ${String(e && e.message ? e.message : e).split('\n')[0]}`)
} finally {
  clearTimeout(overall)
  if (browser) await browser.close().catch(() => {})
  cleanup()
}
log(`# ${passed} passed, ${failed} failed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in build/test-output/web/`)
process.exit(failed ? 1 : 0)
