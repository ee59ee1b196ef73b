import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

const PAGE_DIR = join(import.meta.dirname, 'page');

/** The page's files: plain HTML, CSS and JS, served as they are (no build step). */
const ASSETS: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/assets/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/assets/blocks.js': { file: 'blocks.js', type: 'text/javascript; charset=utf-8' },
  '/assets/inputs.js': { file: 'inputs.js', type: 'text/javascript; charset=utf-8' },
  '/assets/mrkdwn.js': { file: 'mrkdwn.js', type: 'text/javascript; charset=utf-8' },
  '/assets/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

/** Serves the page (and permalinks, /archives/…, which open it); false for anything else. */
export async function servePage(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (path === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return true;
  }
  const asset = ASSETS[path] ?? (path.startsWith('/archives/') ? ASSETS['/'] : undefined);
  if (!asset) return false;
  const body = await readFile(join(PAGE_DIR, asset.file));
  res.writeHead(200, {
    'content-type': asset.type,
    'cache-control': 'no-cache',
    // The page loads only its own scripts; message text is inserted as text, never as HTML.
    'content-security-policy': "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; connect-src 'self'",
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
