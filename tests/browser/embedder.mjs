// A customer's own web site on another origin: a tiny HTTP server (two ports, i.e. two origins:
// one the form allows, one it does not) serving pages that contain an Assent embed snippet.
import { createServer } from 'node:http';
import { env } from './lib.mjs';

export async function startEmbedder() {
  const pages = new Map();
  const server = (port) =>
    new Promise((resolve, reject) => {
      const s = createServer((req, res) => {
        const body = pages.get(req.url.split('?')[0]);
        if (!body) {
          res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
          return;
        }
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
      });
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve(s));
    });
  const servers = [await server(env.embedPort), await server(env.foreignPort)];
  let n = 0;
  return {
    /** Serves `snippet` inside a page of the shop on `port`; returns the page's URL. */
    page(port, snippet) {
      const path = `/page-${++n}.html`;
      pages.set(
        path,
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title></head>` +
          `<body><main><h1>Our shop</h1><p>Sign up below.</p>\n${snippet}\n<p>Footer of the shop.</p></main></body></html>`,
      );
      return `http://127.0.0.1:${port}${path}`;
    },
    close: () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))),
  };
}
