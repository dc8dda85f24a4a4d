// The signed-in user (GET /api/auth/me), the client configuration and the
// sign-in / sign-out actions.
import { defineStore } from 'pinia'
import { api, setCsrf } from '../api'
import { useRefs } from './refs'

export const useAuth = defineStore('auth', {
  state: () => ({
    me: null,
    config: { tile_url: '', version: '', title: '' },
    configLoaded: false,
    notice: '', // shown once on the login page ("会话已过期，请重新登录")
  }),
  getters: {
    perms: (s) => new Set(s.me ? s.me.permissions : []),
    title: (s) => s.config.title || '校安',
  },
  actions: {
    can(perm) {
      return !perm || this.perms.has(perm)
    },
    setMe(me) {
      // another user (or none): cached reference lists may differ
      if (!me || !this.me || this.me.id !== me.id) useRefs().reset()
      this.me = me
      setCsrf(me ? me.csrf : '')
    },
    async fetchMe() {
      this.setMe(await api.get('/api/auth/me'))
      return this.me
    },
    async loadConfig() {
      if (this.configLoaded) return this.config
      try {
        this.config = { ...this.config, ...(await api.get('/api/client-config')) }
        this.configLoaded = true
      } catch {
        /* the offline map base and the default title do without it */
      }
      return this.config
    },
    async login(username, password, totp) {
      const body = { username, password }
      if (totp) body.totp = totp
      this.setMe(await api.post('/api/auth/login', body))
      this.notice = ''
      return this.me
    },
    async logout() {
      try {
        await api.post('/api/auth/logout')
      } finally {
        this.setMe(null)
      }
    },
    expire(message) {
      this.setMe(null)
      this.notice = message
    },
  },
})
