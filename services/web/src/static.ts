import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** The page's own files, next to `dist/` in the package. */
const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

/** The standalone (global `LightweightCharts`) production build, served from node_modules: no CDN. */
export function lightweightChartsPath(): string {
  const pkg = createRequire(import.meta.url).resolve('lightweight-charts/package.json');
  return join(dirname(pkg), 'dist', 'lightweight-charts.standalone.production.js');
}

export interface StaticFile {
  readonly path: string;
  readonly body: Buffer;
  readonly type: string;
}

/** Everything the page needs, read once at start-up (a missing file fails start-up, not a request). */
export function loadStaticFiles(): StaticFile[] {
  const file = (path: string, disk: string, type: string): StaticFile => ({ path, body: readFileSync(disk), type });
  return [
    file('/', join(PUBLIC_DIR, 'index.html'), 'text/html; charset=utf-8'),
    file('/app.js', join(PUBLIC_DIR, 'app.js'), 'text/javascript; charset=utf-8'),
    file('/fold.js', join(PUBLIC_DIR, 'fold.js'), 'text/javascript; charset=utf-8'),
    file('/app.css', join(PUBLIC_DIR, 'app.css'), 'text/css; charset=utf-8'),
    file('/vendor/lightweight-charts.js', lightweightChartsPath(), 'text/javascript; charset=utf-8'),
  ];
}

/** Same-origin only; lightweight-charts sets inline styles, hence `'unsafe-inline'` for styles. */
const CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export function serveStatic(f: StaticFile) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': f.type,
      'content-length': f.body.length,
      'cache-control': f.path === '/' ? 'no-cache' : 'public, max-age=300',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
    });
    res.end(f.body);
  };
}
