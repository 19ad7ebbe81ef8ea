// A customer's own web site on another origin: a tiny HTTP server on two free ports, i.e. two
// origins: the shop (which the owner allows in the form builder) and a stranger's site (not
// allowed). Each serves pages that contain an Assent embed snippet.
import { createServer } from 'node:http';

export async function startEmbedder() {
  const pages = new Map();
  const servers = [];
  const listen = () =>
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
      // Port 0: the system picks a free port, so nothing else can be holding it.
      s.listen(0, '127.0.0.1', () => {
        servers.push(s);
        resolve(`http://127.0.0.1:${s.address().port}`);
      });
    });
  const close = () => Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  let shop;
  let stranger;
  try {
    shop = await listen();
    stranger = await listen();
  } catch (e) {
    await close();
    throw e;
  }
  let n = 0;
  return {
    /** The shop's origin (allowed by the form the owner builds). */
    shop,
    /** Another site's origin, which no form allows. */
    stranger,
    /** Serves `snippet` inside a page on `origin`; returns the page's URL. */
    page(origin, snippet) {
      const path = `/page-${++n}.html`;
      pages.set(
        path,
        `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A shop</title></head>` +
          `<body><main><h1>Our shop</h1><p>Sign up below.</p>\n${snippet}\n<p>Footer of the shop.</p></main></body></html>`,
      );
      return `${origin}${path}`;
    },
    close,
  };
}
