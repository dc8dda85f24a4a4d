// Vite builds the console into web/dist, which `xiaoan serve --web-root web/dist`
// serves at / (hashed files under /assets/ get long cache headers).
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    emptyOutDir: true,
    // the CSP forbids inline scripts: no polyfill snippets, only files
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 1600,
    // under 4 KiB images become data: URLs (the CSP allows img-src data:)
    assetsInlineLimit: 4096,
  },
  server: {
    // `npm run dev` against a running `xiaoan serve` (make run)
    proxy: { '/api': 'http://127.0.0.1:8080' },
  },
})
