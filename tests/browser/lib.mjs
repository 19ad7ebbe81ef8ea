// Shared pieces of the browser tests: the environment tests/browser.rs passes, Chromium, axe-core,
// the outbox, and keyboard helpers.
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the browser tests through \`cargo nextest run\` (tests/browser.rs), which starts Assent and sets it`);
  }
  return value;
}

export const env = {
  base: required('ASSENT_URL'),
  dataDir: required('ASSENT_DATA_DIR'),
  ownerEmail: process.env.ASSENT_OWNER_EMAIL,
  ownerPassword: process.env.ASSENT_OWNER_PASSWORD,
  chromium: process.env.ASSENT_CHROMIUM || '/usr/bin/chromium',
};

export const url = (p) => new URL(p, env.base).href;

/** Debian's Chromium, headless, in a fresh temporary profile (Playwright makes one per launch). */
export function launch() {
  return chromium.launch({
    executablePath: env.chromium,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

const require = createRequire(import.meta.url);
const axeSource = await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Every page scanned, as the browser holds it (what → HTML), for the Nu HTML checker at the end. */
export const seen = new Map();

/**
 * Runs the W3C Nu HTML checker (vnu-jar, on Java) over `documents` (name → HTML) and returns its
 * errors, a line each naming the document.
 */
export async function nuErrors(documents) {
  const { mkdtemp, writeFile } = await import('node:fs/promises');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const dir = await mkdtemp(path.join(tmpdir(), 'assent-nu-'));
  const names = new Map();
  const files = [];
  for (const [name, html] of documents) {
    const file = path.join(dir, `${String(files.length).padStart(3, '0')}.html`);
    await writeFile(file, html);
    names.set(`file:${file}`, name);
    files.push(file);
  }
  const jar = require.resolve('vnu-jar/build/dist/vnu.jar');
  const run = spawnSync('java', ['-jar', jar, '--errors-only', '--format', 'json', '--exit-zero-always', ...files], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(run.status, 0, `the Nu HTML checker did not run: ${run.error ?? run.stderr}`);
  const report = JSON.parse(run.stderr.trim() || run.stdout.trim());
  return report.messages
    .filter((m) => m.type === 'error' || m.subType === 'fatal')
    .map((m) => `${names.get(m.url) ?? m.url}: line ${m.lastLine}: ${m.message}\n    ${(m.extract ?? '').replace(/\s+/g, ' ')}`);
}

/** The rules run: WCAG 2.0, 2.1 and 2.2, levels A and AA. */
const WCAG_22_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22a', 'wcag22aa'];

/**
 * Runs axe-core's WCAG 2.2 A and AA rules on the page as it is and fails on any violation, whatever
 * its impact, listing each with the elements concerned (axe's other best-practice findings are
 * printed, not failed). The script is evaluated through the DevTools protocol, which the page's
 * CSP (`default-src 'self'`) does not govern, so the page is scanned with its real CSP.
 */
export async function assertAccessible(page, what) {
  seen.set(`${what} (${new URL(page.url()).pathname})`, await page.content());
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async (tags) => {
    const result = await window.axe.run(document, { resultTypes: ['violations'] });
    const wcag = (v) => v.tags.some((t) => tags.includes(t));
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      wcag: wcag(v),
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${n.failureSummary.replace(/\s+/g, ' ')}`),
    }));
  }, WCAG_22_AA);
  const bad = violations.filter((v) => v.wcag);
  const advice = violations.filter((v) => !v.wcag);
  if (advice.length) {
    console.log(`# axe on ${what}: ${advice.length} best-practice finding(s): ${advice.map((v) => `${v.id} (${v.impact})`).join(', ')}`);
  }
  assert.deepEqual(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.join('\n    ')}`),
    [],
    `axe-core found WCAG 2.2 A/AA violations on ${what} (${page.url()})`,
  );
}

/** Presses Tab until `selector` has focus (at most `max` times); returns the ids passed on the way. */
export async function tabTo(page, selector, max = 40) {
  const passed = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate((s) => {
      const a = document.activeElement;
      return { matches: !!a && a.matches(s), id: a ? a.id || a.tagName.toLowerCase() : '' };
    }, selector);
    passed.push(here.id);
    if (here.matches) {
      return passed;
    }
  }
  assert.fail(`${selector} was not reached with ${max} presses of Tab (focus went through ${passed.join(', ')})`);
}

export const activeId = (page) => page.evaluate(() => document.activeElement && document.activeElement.id);

/** A unique address per run. */
export const uniqueEmail = (who) => `${who}.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}@example.com`;

/** Decodes one MIME part body (quoted-printable or base64) to text. */
function decodePart(headers, body) {
  if (/content-transfer-encoding:\s*base64/i.test(headers)) {
    return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  }
  if (/content-transfer-encoding:\s*quoted-printable/i.test(headers)) {
    const bytes = body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    return Buffer.from(bytes, 'latin1').toString('utf8');
  }
  return body;
}

/**
 * Waits (up to 15 s) for a mail to `to` in Assent's outbox folder (no SMTP server is configured in
 * these tests) and returns its decoded text parts.
 */
export async function waitForMail(to, subjectPart) {
  const outbox = path.join(env.dataDir, 'outbox');
  const deadline = Date.now() + 15000;
  while (Date.now() < deadline) {
    let names = [];
    try {
      names = await readdir(outbox);
    } catch {
      // not created yet
    }
    for (const name of names) {
      const raw = await readFile(path.join(outbox, name), 'utf8').catch(() => '');
      if (!raw.includes(to)) {
        continue;
      }
      const parts = raw.split(/\r?\n--[^\r\n]+\r?\n/).map((part) => {
        const split = part.search(/\r?\n\r?\n/);
        return split < 0 ? part : decodePart(part.slice(0, split), part.slice(split).trim());
      });
      const text = parts.join('\n');
      if (!subjectPart || raw.includes(subjectPart) || text.includes(subjectPart)) {
        return text;
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`no mail to ${to} in ${outbox} within 15 s`);
}

/** The HTML part of every mail in the outbox, by file name. */
export async function mailHtmlParts() {
  const outbox = path.join(env.dataDir, 'outbox');
  const parts = new Map();
  for (const name of await readdir(outbox).catch(() => [])) {
    const raw = await readFile(path.join(outbox, name), 'utf8').catch(() => '');
    for (const part of raw.split(/\r?\n--[^\r\n]+\r?\n/)) {
      const split = part.search(/\r?\n\r?\n/);
      if (split > 0 && /content-type:\s*text\/html/i.test(part.slice(0, split))) {
        parts.set(`mail ${name}`, decodePart(part.slice(0, split), part.slice(split).trim()));
      }
    }
  }
  return parts;
}

/** The first link to `pathPrefix` (on Assent) in a mail's text. */
export function linkIn(text, pathPrefix) {
  const escaped = (env.base + pathPrefix).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = text.match(new RegExp(`${escaped}[^\\s"<>]*`));
  assert.ok(match, `no ${pathPrefix} link in the mail:\n${text}`);
  return match[0].replace(/&amp;/g, '&');
}
