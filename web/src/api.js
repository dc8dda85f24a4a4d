// api.js - the one way the console talks to the server.
//
// Every call goes through request(): JSON in and out, the session cookie
// (HttpOnly, sent by the browser), the CSRF token on every non-GET, and the
// server's error shape {"error":{"code","message","field"}} turned into an
// ApiError whose message is the server's Chinese text. A 401 auth.required
// anywhere but the sign-in itself ends the session in the console: the
// handler installed by main.js returns to the login page with a message.

export class ApiError extends Error {
  constructor(status, code, message, field = null, body = null) {
    super(message)
    this.status = status
    this.code = code
    this.field = field
    this.body = body
    this.handled = false // true when a global handler already told the user
  }
}

let csrf = ''
let hooks = { unauthorized: null, gate: null }

export function setCsrf(token) {
  csrf = token || ''
}

// unauthorized(err): the session ended; gate(err): the server demands the
// password change or the TOTP enrolment first.
export function setApiHooks(h) {
  hooks = { ...hooks, ...h }
}

export function queryString(query) {
  if (!query) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue
    p.append(k, String(v))
  }
  const s = p.toString()
  return s ? '?' + s : ''
}

function failure(status, data) {
  const e = (data && data.error) || {}
  const msg = e.message || (status >= 500 ? `服务器错误（HTTP ${status}），请稍后重试` : `请求失败（HTTP ${status}）`)
  return new ApiError(status, e.code || `http.${status}`, msg, e.field || null, data)
}

function global(err, path) {
  if (err.status === 401 && err.code === 'auth.required' && path !== '/api/auth/login' && hooks.unauthorized) {
    err.handled = true
    hooks.unauthorized(err)
  } else if (
    err.status === 403 &&
    (err.code === 'auth.password_change_required' || err.code === 'auth.totp_setup_required') &&
    hooks.gate
  ) {
    err.handled = true
    hooks.gate(err)
  }
}

export async function request(method, path, { query, body, signal } = {}) {
  const headers = { Accept: 'application/json' }
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-CSRF-Token'] = csrf
  let payload
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let res
  try {
    res = await fetch(path + queryString(query), {
      method,
      headers,
      body: payload,
      credentials: 'same-origin',
      signal,
    })
  } catch (e) {
    if (e && e.name === 'AbortError') throw e
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络后重试')
  }
  if (res.status === 204) return null
  let data = null
  if ((res.headers.get('content-type') || '').includes('application/json')) data = await res.json().catch(() => null)
  if (!res.ok) {
    const err = failure(res.status, data)
    global(err, path)
    throw err
  }
  return data
}

export const api = {
  get: (path, query, opts) => request('GET', path, { query, ...opts }),
  post: (path, body) => request('POST', path, { body }),
  patch: (path, body) => request('PATCH', path, { body }),
  del: (path) => request('DELETE', path),
}

// Loads every page of a list endpoint ({items,total,page,page_size}), up to
// max items - for selects of townships, units and roles.
export async function listAll(path, query = {}, max = 2000) {
  const out = []
  for (let page = 1; ; page++) {
    const r = await api.get(path, { ...query, page, page_size: 200 })
    out.push(...r.items)
    if (out.length >= r.total || r.items.length === 0 || out.length >= max) return out
  }
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

export function fileType(file) {
  const n = (file && file.name ? file.name : '').toLowerCase()
  if (n.endsWith('.xlsx')) return XLSX_TYPE
  if (n.endsWith('.csv') || n.endsWith('.txt')) return 'text/csv'
  return ''
}

// Sends a file as the raw request body with XMLHttpRequest, which (unlike
// fetch) reports upload progress: onProgress(percent). Resolves with
// {status, data}; answers that carry an import result ({errors: [...]},
// e.g. 422 import.invalid_rows) resolve too, other errors reject.
export function upload(path, query, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('POST', path + queryString(query))
    xhr.setRequestHeader('Content-Type', fileType(file) || 'application/octet-stream')
    xhr.setRequestHeader('Accept', 'application/json')
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf)
    xhr.responseType = 'text'
    if (onProgress) {
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable) onProgress(Math.round((e.loaded / e.total) * 100))
      }
    }
    xhr.onerror = () => reject(new ApiError(0, 'network', '无法连接服务器，请检查网络后重试'))
    xhr.onload = () => {
      let data = null
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null
      } catch {
        data = null
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve({ status: xhr.status, data })
      if (data && Array.isArray(data.errors)) return resolve({ status: xhr.status, data })
      const err = failure(xhr.status, data)
      global(err, path)
      reject(err)
    }
    xhr.send(file)
  })
}

// Downloads a GET answer as a file (export): checks the answer first so
// that an error shows as a message, not as a saved JSON file.
export async function download(path, query, fallbackName) {
  let res
  try {
    res = await fetch(path + queryString(query), { credentials: 'same-origin' })
  } catch {
    throw new ApiError(0, 'network', '无法连接服务器，请检查网络后重试')
  }
  if (!res.ok) {
    const data = await res.json().catch(() => null)
    const err = failure(res.status, data)
    global(err, path)
    throw err
  }
  const blob = await res.blob()
  let name = fallbackName
  const cd = res.headers.get('content-disposition') || ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  const plain = /filename="([^"]+)"/i.exec(cd)
  if (star) name = decodeURIComponent(star[1])
  else if (plain) name = plain[1]
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10000)
  return { name, size: blob.size }
}
