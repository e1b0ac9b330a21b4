import { readFileSync } from 'node:fs';
import { defineConfig } from 'vite';

const source = 'src/client/millrace-client.ts';
// The module's own doc comment (usage) goes on top of the served file, where a reader of /millrace-client.js sees it.
const usage = readFileSync(source, 'utf8').match(/^\/\*\*[\s\S]*?\*\//)?.[0] ?? '';

// The browser client module, built on its own as one readable ES module with a stable name, so that application
// pages can `import { MillraceClient } from '/millrace-client.js'`. Added to dist/ after the dashboard build.
export default defineConfig({
  build: {
    outDir: 'dist',
    emptyOutDir: false,
    minify: false,
    lib: {
      entry: source,
      formats: ['es'],
      fileName: () => 'millrace-client.js',
    },
    rollupOptions: {
      output: {
        banner: `${usage}\n// Types: /millrace-client.d.ts. Protocol: docs/PROTOCOL.md, "WebSocket".\n`,
      },
    },
  },
});
