import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import './style.css'

import App from './App.vue'
import router from './router'
import { setApiHooks } from './api'
import { useAuth } from './stores/auth'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(router)
app.use(ElementPlus, { locale: zhCn })

const auth = useAuth(pinia)
setApiHooks({
  // the session expired or was ended elsewhere: back to the login page
  unauthorized() {
    if (router.currentRoute.value.name === 'login') return
    auth.expire('会话已过期，请重新登录')
    const here = router.currentRoute.value.fullPath
    router.replace({ name: 'login', query: here && here !== '/' ? { redirect: here } : {} })
  },
  // the server wants the password changed or TOTP bound first
  async gate() {
    try {
      await auth.fetchMe()
    } catch {
      return
    }
    router.replace(auth.me.must_change_password ? { name: 'password' } : { name: 'totp' })
  },
})

app.mount('#app')
