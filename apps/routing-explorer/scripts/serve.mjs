// A static file server for the built page (the test starts one; `npm run serve` starts one for people).
// It serves only the folder it is given, from 127.0.0.1 by default, with the MIME types a page needs
// (application/wasm lets tfjs compile its binaries while they download).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.safetensors': 'application/octet-stream',
};

/** Serves `root` on `host:port` (port 0: any free one); resolves to its URL and a `close()`. */
export function serveStatic(root, { port = 0, host = '127.0.0.1' } = {}) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(base, path.endsWith('/') ? `${path}index.html` : path));
    const info = file === base || file.startsWith(base + sep) ? await stat(file).catch(() => null) : null;
    if (req.method !== 'GET' || info === null || !info.isFile()) {
      res.writeHead(info === null ? 404 : 405, { 'content-type': 'text/plain' }).end(`${path}: not found\n`);
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': 'no-cache',
    });
    createReadStream(file).pipe(res);
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const { port: bound } = server.address();
      done({ url: `http://${host}:${bound}/`, close: () => new Promise((ok) => server.close(() => ok())) });
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const app = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const root = resolve(process.argv[2] ?? join(app, 'dist'));
  const info = await stat(join(root, 'index.html')).catch(() => null);
  if (info === null) {
    console.error(
      `${root}/index.html does not exist: build the page first (npm run build -w apps/routing-explorer).`,
    );
    process.exit(2);
  }
  const { url } = await serveStatic(root, { port: Number(process.env.PORT ?? 8080) });
  console.error(`routing explorer: ${url} (Ctrl-C to stop)`);
}
