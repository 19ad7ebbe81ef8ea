// Assent in a real browser: accessibility (axe-core), keyboard use, embedding across origins and
// the site owner's console. Started by tests/browser.rs (`cargo nextest run`), which runs Assent
// on a fresh database and passes its address in the environment (see lib.mjs).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { activeId, assertAccessible, env, launch, linkIn, mailHtmlParts, nuErrors, seen, tabTo, uniqueEmail, url, waitForMail } from './lib.mjs';
import { startEmbedder } from './embedder.mjs';

let browser;
/** The site owner's signed-in context, shared by the console tests (see ownerPage). */
let ownerContext;
/** The customer's shop and a stranger's site, each on an origin of its own (embedder.mjs). */
let embedder;
before(async () => {
  browser = await launch();
  embedder = await startEmbedder();
});
after(async () => {
  await ownerContext?.close();
  await browser?.close();
  await embedder?.close();
});

/** A fresh context (own cookies) and page; closed by the caller through `t.after`. */
async function newPage(t, options = {}) {
  const context = await browser.newContext({ locale: 'en-GB', ...options });
  t.after(() => context.close());
  return context.newPage();
}

/** What the keyboard tests read on the page, in each language they run in. */
const WORDS = {
  en: { thanks: 'Thank you', usedFor: /^Used for: / },
  ja: { thanks: 'ありがとうございます', usedFor: /^利用目的: / },
};

describe('accessibility (axe-core: no WCAG 2.2 A or AA violation)', () => {
  for (const lang of ['en', 'ko', 'ja']) {
    test(`public form /f/newsletter?lang=${lang}`, async (t) => {
      const page = await newPage(t);
      const response = await page.goto(url(`/f/newsletter?lang=${lang}`));
      assert.equal(response.status(), 200);
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await assertAccessible(page, `the newsletter form (${lang})`);
    });
  }

  test('public form re-rendered with errors (submitted empty)', async (t) => {
    const page = await newPage(t);
    await page.goto(url('/f/newsletter?lang=en'));
    const [response] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByRole('button', { name: 'Subscribe' }).or(page.locator('button[type=submit]')).first().click()]);
    assert.equal(response.status(), 422);
    await page.waitForLoadState();
    assert.ok(await page.locator('#error-summary').isVisible(), 'the error summary is shown');
    await assertAccessible(page, 'the newsletter form with errors');
  });

  test('thanks page and policy page', async (t) => {
    const page = await newPage(t);
    await page.goto(url('/f/newsletter?lang=en'));
    await page.fill('#field-email', uniqueEmail('thanks'));
    await page.check('#purpose-service');
    await Promise.all([page.waitForURL(/\/f\/newsletter\/thanks/), page.click('button[type=submit]')]);
    await assertAccessible(page, 'the thanks page');
    for (const lang of ['ko', 'ja']) {
      await page.goto(url(`/policies/service/v1?lang=${lang}`));
      assert.equal(await page.getAttribute('html', 'lang'), lang);
      await assertAccessible(page, `a policy page (${lang})`);
    }
  });

  test('preference center /me: sign-in page, and the signed-in page', async (t) => {
    const page = await newPage(t);
    const email = uniqueEmail('me');
    // Someone who gave consent through the form, so the signed-in page has values, consents and history.
    await page.goto(url('/f/newsletter?lang=en'));
    await page.fill('#field-email', email);
    await page.fill('#field-name', 'Kim Minji');
    await page.check('#purpose-service');
    await page.check('#purpose-personalisation');
    await Promise.all([page.waitForURL(/\/thanks/), page.click('button[type=submit]')]);

    for (const lang of ['en', 'ko', 'ja']) {
      await page.goto(url(`/me?lang=${lang}`));
      await assertAccessible(page, `the /me sign-in page (${lang})`);
    }
    await page.goto(url('/me?lang=en'));
    await page.fill('#field-email', email);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
    await assertAccessible(page, 'the "check your mail" page');

    const mail = await waitForMail(email, '/me/login');
    await page.goto(linkIn(mail, '/me/login'));
    await assertAccessible(page, 'the "continue signing in" page');
    await Promise.all([page.waitForURL(/\/me\?lang=/), page.click('button[type=submit]')]);
    assert.ok(await page.getByText(email).first().isVisible(), 'signed in, the page shows whose data it is');
    await assertAccessible(page, 'the signed-in preference center');

    // On the narrowest phone, in every language, nothing scrolls sideways; tables become rows.
    await page.setViewportSize({ width: 320, height: 640 });
    const wide = [];
    for (const lang of ['en', 'ko', 'ja']) {
      for (const path of ['/me', '/f/newsletter', '/', '/policies/service/v1']) {
        await page.goto(url(`${path}?lang=${lang}`));
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        if (width > 320) {
          wide.push(`${path}?lang=${lang}: ${width}px`);
        }
      }
    }
    assert.deepEqual(wide, [], 'pages wider than a 320 px screen');
    await page.goto(url('/me?lang=ko'));
    const row = page.locator('table.stack tbody tr').first();
    assert.equal(await row.evaluate((r) => getComputedStyle(r).display), 'block', 'a table row is a block on a phone');
    await assertAccessible(page, 'the signed-in preference center on a 320 px screen (ko)');
  });
});

describe('a customer on a phone, in every language', () => {
  // Form, thank-you page, the link to the preference center, signing in by mail, withdrawing a
  // purpose: on a 320 px screen, with axe at every step, no sideways scroll and no raw code.
  const words = {
    en: { withdrawn: /Withdrawn/ },
    ko: { withdrawn: /철회/ },
    ja: { withdrawn: /撤回/ },
  };
  for (const lang of ['en', 'ko', 'ja']) {
    test(`the customer journey (${lang}) on a 320 px screen`, async (t) => {
      const page = await newPage(t);
      await page.setViewportSize({ width: 320, height: 640 });
      const email = uniqueEmail(`phone-${lang}`);
      const step = async (what) => {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 320, `${what} (${lang}) is ${width}px wide`);
        const text = await page.locator('main').innerText();
        assert.doesNotMatch(text, /\b[a-z]+_[a-z_]+\b/, `${what} (${lang}) shows a code`);
        await assertAccessible(page, `${what} on a phone (${lang})`);
      };
      await page.goto(url(`/f/newsletter?lang=${lang}`));
      await page.fill('#field-email', email);
      await page.fill('#field-name', 'Kim Minji');
      await page.check('#purpose-service');
      await page.check('#purpose-personalisation');
      await step('the form, filled');
      await Promise.all([page.waitForURL(/\/thanks/), page.click('button[type=submit]')]);
      await step('the thank-you page');
      await Promise.all([page.waitForURL(/\/me\?/), page.locator('footer a[href^="/me"]').first().click()]);
      await page.fill('#field-email', email);
      await Promise.all([page.waitForLoadState('load'), page.click('button[type=submit]')]);
      await step('"check your mail"');
      await page.goto(linkIn(await waitForMail(email, '/me/login'), '/me/login'));
      await Promise.all([page.waitForURL(/\/me\?lang=/), page.click('button[type=submit]')]);
      assert.equal(await page.getAttribute('html', 'lang'), lang, 'the mail brought them back in their language');
      await step('the preference center');
      const withdraw = page.locator('form[action^="/me/consents"]:has(input[name=purpose][value=personalisation]) button');
      await Promise.all([page.waitForLoadState('load'), withdraw.click()]);
      await page.waitForURL(/\/me/);
      assert.match(await page.locator('main').innerText(), words[lang].withdrawn, 'the withdrawal is said in words');
      await step('the preference center after withdrawing');
    });
  }
});

describe('keyboard only', () => {
  for (const lang of ['en', 'ja']) {
  test(`the public form (${lang}) is filled and submitted with Tab, typing, Space and Enter`, async (t) => {
    const page = await newPage(t);
    await page.goto(url(`/f/newsletter?lang=${lang}`));
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    const email = uniqueEmail('keys');

    const toEmail = await tabTo(page, '#field-email');
    assert.ok(toEmail.length <= 3, `the e-mail field comes early in the tab order (after ${toEmail.join(', ')})`);
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    assert.equal(await activeId(page), 'field-name', 'Tab moves from e-mail to name');
    await page.keyboard.type('Kim Minji');

    // The fields come before the purposes, and every purpose checkbox is reachable.
    const passed = await tabTo(page, '#purpose-service');
    assert.ok(passed.includes('field-phone'), `the phone field is in the tab order (${passed.join(', ')})`);
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#purpose-service'), true, 'Space ticks the focused purpose');
    await tabTo(page, '#purpose-personalisation');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#purpose-personalisation'), true);
    assert.equal(await page.isChecked('#purpose-marketing_email'), false, 'purposes are not ticked for the person');

    await tabTo(page, 'button[type=submit]');
    await Promise.all([page.waitForURL(/\/f\/newsletter\/thanks/), page.keyboard.press('Enter')]);
    assert.equal(await page.locator('h1').innerText(), WORDS[lang].thanks);
  });

  test(`after a mistake (${lang}), focus moves to the error summary (role=alert) whose links lead to the fields`, async (t) => {
    const page = await newPage(t);
    await page.goto(url(`/f/newsletter?lang=${lang}`));
    await tabTo(page, 'button[type=submit]');
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST' && r.status() === 422), page.keyboard.press('Enter')]);
    await page.waitForLoadState('load');

    const summary = page.locator('#error-summary');
    assert.equal(await summary.getAttribute('role'), 'alert', 'the summary is announced');
    assert.equal(await activeId(page), 'error-summary', 'focus is on the error summary');
    assert.ok((await page.title()).startsWith('⚠'), 'the title says there are errors');
    const links = await summary.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.ok(links.includes('#field-email'), `the summary links to the e-mail field (${links})`);
    assert.ok(links.includes('#purpose-service'), `the summary links to the required purpose (${links})`);

    // The first link, by keyboard, puts focus in the e-mail field, which names its error.
    await tabTo(page, '#error-summary a[href="#field-email"]', 3);
    await page.keyboard.press('Enter');
    assert.equal(await activeId(page), 'field-email', 'the summary link moves focus to the field');
    const email = page.locator('#field-email');
    assert.equal(await email.getAttribute('aria-invalid'), 'true');
    const describedBy = await email.getAttribute('aria-describedby');
    // The error first, then the note naming the purposes the field serves.
    const [errorId, purposesId] = (describedBy ?? '').split(' ');
    assert.ok(errorId && (await page.locator(`#${errorId}`).innerText()).length > 0, 'the field is described by its error');
    assert.match(await page.locator(`#${purposesId}`).innerText(), WORDS[lang].usedFor, 'and by the purposes it serves');

    // Correct it by keyboard and send again.
    await page.keyboard.type(uniqueEmail('fixed'));
    await tabTo(page, '#purpose-service');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type=submit]');
    await Promise.all([page.waitForURL(/\/thanks/), page.keyboard.press('Enter')]);
    await assertAccessible(page, `the thanks page after a keyboard submission (${lang})`);
  });
  }
});

/** Signs the site owner in at /admin/login in `page`'s context. */
async function signInOwner(page, lang = 'en') {
  assert.ok(env.ownerEmail && env.ownerPassword, 'tests/browser.rs creates an owner with `assent owner create` and passes it');
  await page.goto(url(`/admin/login?lang=${lang}`));
  await page.fill('#field-email', env.ownerEmail);
  await page.fill('#field-password', env.ownerPassword);
  await Promise.all([page.waitForURL((u) => u.pathname === '/admin' || u.pathname === '/admin/'), page.click('main button[type=submit]')]);
}

/** A page in the owner's signed-in context (signed in once, shared by the console tests). */
async function ownerPage(t) {
  if (!ownerContext) {
    ownerContext = await browser.newContext({ locale: 'en-GB' });
    await signInOwner(await ownerContext.newPage());
  }
  const page = await ownerContext.newPage();
  t.after(() => page.close());
  return page;
}

/** The form the owner builds in the console (see 'the owner builds a form'); the embedding tests use it. */
const BUILT_FORM = 'shop_signup';
let built = false;

/** The form the embedding tests use, and its iframe snippet as the console's snippets page shows it. */
let embedded;
async function embedSnippet(t) {
  if (!embedded) {
    assert.ok(built, `the embedding tests need the form the owner builds in the console test (${BUILT_FORM}), which did not get built`);
    const formKey = BUILT_FORM;
    const page = await ownerPage(t);
    const response = await page.goto(url(`/admin/forms/${formKey}/embed?lang=en`));
    assert.equal(response.status(), 200);
    assert.ok(await page.locator('main code', { hasText: embedder.shop }).first().isVisible(), 'the snippets page lists the allowed origin');
    const snippet = await page.locator('section[aria-labelledby="snip-iframe"] pre').innerText();
    assert.match(snippet, new RegExp(`<iframe [^>]*src="[^"]+/f/${formKey}(\\?[^"]*)?"[^>]*data-assent-form`));
    assert.match(snippet, /<script [^>]*src="[^"]+\/embed\.js"/);
    assert.ok(snippet.includes(env.base), `the snippet points at this server (${env.base}): ${snippet}`);
    const html = await page.locator('section[aria-labelledby="snip-html"] pre').innerText();
    assert.match(html, new RegExp(`<form method="post" action="[^"]+/f/${formKey}`));
    embedded = { formKey, snippet, html };
  }
  return embedded;
}

describe('site owner console', () => {
  test('sign-in page (en, ko), a wrong password, then the dashboard', async (t) => {
    const page = await newPage(t);
    for (const lang of ['en', 'ko', 'ja']) {
      const response = await page.goto(url(`/admin/login?lang=${lang}`));
      assert.equal(response.status(), 200);
      await assertAccessible(page, `/admin/login (${lang})`);
    }
    // A wrong password: refused, announced, and the page stays accessible.
    await page.goto(url('/admin/login?lang=en'));
    await page.fill('#field-email', env.ownerEmail);
    await page.fill('#field-password', 'not the password at all');
    await page.click('main button[type=submit]');
    await page.waitForLoadState('load');
    assert.match(new URL(page.url()).pathname, /^\/admin\/login/);
    assert.ok(await page.getByRole('alert').first().isVisible(), 'the refusal is announced');
    await assertAccessible(page, '/admin/login after a wrong password');

    await signInOwner(page);
    assert.ok(await page.getByText(env.ownerEmail).isVisible(), 'the console shows who is signed in');
    await assertAccessible(page, 'the dashboard');
  });

  for (const lang of ['en', 'ko', 'ja']) {
    test(`the owner's first form on a 320 px screen (${lang}): created, a field added, published, its snippets opened`, async (t) => {
      const page = await ownerPage(t);
      await page.setViewportSize({ width: 320, height: 640 });
      const step = async (what) => {
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= 320, `${what} (${lang}) is ${width}px wide`);
        await assertAccessible(page, `${what} on a phone (${lang})`);
      };
      const key = `phone_${lang}`;
      await page.goto(url(`/admin/forms?lang=${lang}`));
      await page.fill('#field-key', key);
      await page.selectOption('#field-kind', 'newsletter');
      for (const l of ['en', 'ko', 'ja']) {
        await page.fill(`#field-title_${l}`, `News ${l}`);
      }
      await step('the forms list, filled');
      await Promise.all([page.waitForURL(new RegExp(`/admin/forms/${key}\\?`)), page.locator('main form[action^="/admin/forms?"] button[type=submit]').click()]);
      await step('the new form in the builder');
      await page.fill('#field-new-key', 'company');
      for (const l of ['en', 'ko', 'ja']) {
        await page.fill(`#field-new-label_${l}`, `Company ${l}`);
      }
      await page.check('#field-new-purpose-service');
      await Promise.all([page.waitForURL(/done=saved/), page.locator('button[name=op][value=add]').click()]);
      await Promise.all([page.waitForURL(/done=published/), page.locator('button[name=op][value=publish]').click()]);
      await step('the builder after publishing');
      await Promise.all([page.waitForURL(/\/embed/), page.locator(`main a[href^="/admin/forms/${key}/embed"]`).click()]);
      await step("the form's snippets");
      const response = await page.goto(url(`/f/${key}?lang=${lang}`));
      assert.equal(response.status(), 200, 'the form is public at once');
      assert.match(await page.locator('main').innerText(), new RegExp(`Company ${lang}`));
    });
  }

  test('the owner builds a form: creates it, binds the e-mail field to a purpose, adds a field, allows an origin, publishes, opens its snippets', async (t) => {
    const page = await ownerPage(t);
    await page.goto(url('/admin/forms?lang=en'));
    await assertAccessible(page, 'the forms list');
    await page.fill('#field-key', BUILT_FORM);
    await page.selectOption('#field-kind', 'signup');
    await page.fill('#field-title_en', 'Join the shop');
    await page.fill('#field-title_ko', '가게 가입');
    await Promise.all([page.waitForURL(new RegExp(`/admin/forms/${BUILT_FORM}\\?`)), page.locator('main form[action^="/admin/forms?"] button[type=submit]').click()]);
    await assertAccessible(page, 'the form builder (new form)');

    // A new form starts with an e-mail field that already serves the required purpose.
    assert.ok(await page.isChecked('#field-f0-purpose-service'), 'the starter field serves the service');

    // The whole draft is one form with one Save. Add an optional field, at first for no purpose.
    await page.fill('#field-new-key', 'company');
    await page.selectOption('#field-new-kind', 'text');
    await page.fill('#field-new-label_en', 'Company');
    await page.fill('#field-new-label_ko', '회사');
    await Promise.all([page.waitForURL(/done=saved/), page.locator('button[name=op][value=add]').click()]);
    assert.equal(await page.inputValue('#field-f1-key'), 'company', 'the new field is listed second');

    // What is typed shows in the preview beside the editor at once, unsaved, and is announced as such.
    await page.locator('#f1 summary').click();
    await page.fill('#field-f1-label_en', 'Company name');
    await page.frameLocator('#preview-frame').getByText('Company name').waitFor();
    assert.match(await page.locator('#draft-state').innerText(), /Unsaved changes/);

    // By keyboard: Move up moves the field at once; focus stays with it and its new place is said.
    const order = () => page.locator('#builder-fields > li').evaluateAll((items) => items.map((li) => li.id));
    await page.locator('#f1 .move-up').focus();
    await page.keyboard.press('Enter');
    assert.deepEqual(await order(), ['f1', 'f0']);
    assert.equal(await page.evaluate(() => document.activeElement.className), 'secondary small move-down', 'focus stays on the moved field');
    assert.match(await page.locator('#draft-state').innerText(), /^Company is now number 1 of 2\.$/);
    assert.ok(await page.locator('#f1 .move-up').isHidden(), 'the first cannot move up');
    await assertAccessible(page, 'the form builder with unsaved changes');
    // By mouse: the e-mail field dragged by its number back above the company field (folded
    // again, both are in view: a test's drag cannot scroll the page as a hand does).
    await page.locator('#f1 summary').click();
    await page.locator('#f0 .field-number').dragTo(page.locator('#f1'), { targetPosition: { x: 20, y: 5 } });
    assert.deepEqual(await order(), ['f0', 'f1']);

    // Save and publish: the draft is saved, publishing refused, and the builder says why.
    await page.locator('button[name=op][value=publish]').click();
    await page.locator('#publish-error').waitFor();
    assert.equal(await page.locator('#publish-error').getAttribute('role'), 'alert');
    assert.equal(await page.inputValue('#field-f1-label_en'), 'Company name', 'the typed label was saved');
    await assertAccessible(page, 'the form builder with a refused publish');

    // The company field serves the service too; ask for the service, allow the shop's origin.
    await page.locator('#f1 summary').click();
    await page.check('#field-f1-purpose-service');
    await page.check('#field-asked-service');
    await page.fill('#field-allowed_origins', embedder.shop);
    await Promise.all([page.waitForURL(/done=published/), page.locator('button[name=op][value=publish]').click()]);
    assert.match(await page.locator('main').innerText(), /Published version: v1\b/);
    assert.equal(await page.getByRole('status').first().innerText(), 'Published.');
    await assertAccessible(page, 'the form builder after publishing');

    // The preview and the public form show what was built.
    await page.goto(url(`/f/${BUILT_FORM}?lang=en`));
    assert.equal(await page.locator('h1').innerText(), 'Join the shop');
    assert.deepEqual(await page.locator('form input:not([type=hidden]):not([type=checkbox])').evaluateAll((els) => els.map((e) => e.name)), ['email', 'company']);
    assert.ok(await page.locator('#purpose-service').isVisible());
    await assertAccessible(page, 'the built form, public');

    await page.goto(url('/admin/forms?lang=en'));
    await Promise.all([page.waitForURL(new RegExp(`/admin/forms/${BUILT_FORM}/embed`)), page.locator(`#form-${BUILT_FORM} a[href*="/embed"]`).click()]);
    await assertAccessible(page, 'the snippets page of the built form');
    built = true;
  });

  test('the owner imports the example sheet: maps its columns with a preview, checks it, reads the report, imports it with one click', async (t) => {
    const page = await ownerPage(t);
    await page.goto(url('/admin/imports?lang=en'));
    await assertAccessible(page, 'the imports page');
    const examples = new URL('../../examples/', import.meta.url);
    await page.selectOption('#field-form', 'newsletter');
    await page.fill('#field-mapping', readFileSync(new URL('customers-mapping.toml', examples), 'utf8'));
    await page.setInputFiles('#field-file', fileURLToPath(new URL('customers-cp949.csv', examples)));
    // The mapping step: the pasted mapping chosen column by column, the first rows read with it.
    await Promise.all([page.waitForURL(/\/admin\/imports\/sheets\//), page.getByRole('button', { name: 'Map the columns' }).click()]);
    assert.equal(await page.locator('#col-1').inputValue(), 'email');
    assert.match(await page.locator('main').innerText(), /customer001@example\.com/);
    await assertAccessible(page, 'the mapping step');
    await Promise.all([page.waitForURL(/\/admin\/imports\/[^/?]+\?/), page.getByRole('button', { name: 'Check this sheet' }).click()]);
    assert.match(await page.locator('#totals').innerText(), /People created\s+192/);
    await assertAccessible(page, 'an import check\'s report');
    const checked = page.url();
    await Promise.all([page.waitForURL((u) => u.href !== checked && /\/admin\/imports\/[^/?]+$/.test(u.pathname)), page.getByRole('button', { name: 'Import this sheet' }).click()]);
    assert.match(await page.locator('h1').innerText(), /customers-cp949\.csv/);
    // It runs on its own; reloading shows how far it got, then the report.
    for (let i = 0; i < 100 && (await page.locator('main').innerText()).includes('Importing, rows done so far'); i++) {
      await page.waitForTimeout(200);
      await page.reload();
    }
    assert.match(await page.locator('#totals').innerText(), /People created\s+192/);
    assert.match(await page.locator('main').innerText(), /written/);
    await assertAccessible(page, 'an import\'s report');
  });

  const pages = [
    ['/admin', 'dashboard'],
    ['/admin/purposes', 'purposes'],
    ['/admin/purposes/new', 'new purpose'],
    ['/admin/purposes/service', 'editing a purpose'],
    ['/admin/forms', 'forms'],
    ['/admin/forms/newsletter', 'form builder'],
    ['/admin/forms/newsletter/preview', 'form preview'],
    ['/admin/forms/newsletter/embed', 'snippets of a form'],
    ['/admin/submissions', 'submissions'],
    ['/admin/rights', 'rights requests'],
    ['/admin/audit', 'audit log'],
    ['/admin/keys', 'API keys'],
    ['/admin/languages', 'languages'],
    ['/admin/imports', 'imports'],
    ['/admin/webhooks', 'webhooks'],
    ['/admin/team', 'team'],
    ['/admin/account', 'your account'],
    ['/admin/account/two-factor', 'second factor'],
    ['/admin/password/reset', 'password reset'],
  ];
  for (const lang of ['en', 'ko', 'ja']) {
    test(`console pages (${lang}): ${pages.map(([, name]) => name).join(', ')}`, async (t) => {
      const page = await ownerPage(t);
      const failures = [];
      for (const [path, name] of pages) {
        try {
          const response = await page.goto(url(`${path}?lang=${lang}`));
          assert.equal(response.status(), 200, `${path} answers 200`);
          assert.equal(await page.getAttribute('html', 'lang'), lang);
          await assertAccessible(page, `the console's ${name} page (${lang})`);
        } catch (e) {
          failures.push(`${path}: ${e.message}`);
        }
      }
      // On a phone: no page scrolls sideways (a wide table scrolls inside its own frame), and
      // each still passes axe.
      await page.setViewportSize({ width: 320, height: 640 });
      for (const [path, name] of pages) {
        try {
          await page.goto(url(`${path}?lang=${lang}`));
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          // What sticks out: the innermost elements past the right edge.
          const out = await page.evaluate(() => [...document.querySelectorAll('body *')]
            .filter((e) => e.getBoundingClientRect().right > 321 && ![...e.children].some((c) => c.getBoundingClientRect().right > 321))
            .slice(0, 4).map((e) => `${e.tagName.toLowerCase()}.${e.className}#${e.id}: ${Math.round(e.getBoundingClientRect().right)}px`));
          assert.ok(width <= 320, `${width}px wide on a 320 px screen: ${out.join(', ')}`);
          await assertAccessible(page, `the console's ${name} page on a phone (${lang})`);
        } catch (e) {
          failures.push(`${path} (320 px): ${e.message}`);
        }
      }
      assert.deepEqual(failures, [], `console pages that failed (${lang})`);
    });
  }
});

/**
 * What an authenticator app shows for a base32 secret now (RFC 6238: HMAC-SHA1, 30-second steps,
 * six digits); the test plays the colleague's phone.
 */
function totp(secret, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/\s+/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 15;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1000000).padStart(6, '0');
}

describe('a team: invited, second factor, disabled', () => {
  test('the owner invites an analyst, who sets a password, sets up a second factor, sees counts only, and is cut off when disabled', async (t) => {
    const colleague = uniqueEmail('analyst');
    const password = 'a long password for the analyst';
    const owner = await ownerPage(t);
    await owner.goto(url('/admin/team?lang=en'));
    await owner.fill('#field-email', colleague);
    await owner.selectOption('#field-role', 'analyst');
    await owner.getByRole('button', { name: 'Send invitation' }).click();
    await owner.getByText('Invitation sent.').waitFor();
    await assertAccessible(owner, 'the team page after an invitation');

    const page = await newPage(t);
    await page.goto(linkIn(await waitForMail(colleague, 'invited'), '/admin/password'));
    await assertAccessible(page, 'setting a password from an invitation');
    await page.fill('#field-password', password);
    await page.fill('#field-again', password);
    await page.click('main button[type=submit]');
    await page.getByText('Your password is set.').waitFor();

    // Signed in, the analyst sets up a second factor from their account page.
    await page.goto(url('/admin/login?lang=en'));
    await page.fill('#field-email', colleague);
    await page.fill('#field-password', password);
    await Promise.all([page.waitForURL((u) => u.pathname === '/admin'), page.click('main button[type=submit]')]);
    await page.goto(url('/admin/account?lang=en'));
    await Promise.all([page.waitForURL(/\/admin\/account\/two-factor/), page.getByRole('link', { name: /authenticator app/ }).click()]);
    await page.getByRole('button', { name: 'Set up a second factor' }).click();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await assertAccessible(page, 'setting up a second factor');
    const secret = await page.locator('#totp-secret').innerText();
    await page.fill('#field-code', '000000' === totp(secret) ? '111111' : '000000');
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('#field-code[aria-invalid=true]').waitFor();
    assert.ok(await page.locator('#field-code-error').isVisible(), 'a wrong code is said next to the field');
    await assertAccessible(page, 'a wrong code while setting up');
    await page.fill('#field-code', totp(secret));
    await page.getByRole('button', { name: 'Turn on' }).click();
    await page.locator('ol.codes').waitFor();
    const codes = await page.locator('ol.codes code').allInnerTexts();
    assert.equal(codes.length, 10, 'ten recovery codes, shown once');
    await assertAccessible(page, 'the recovery codes');
    await Promise.all([page.waitForURL((u) => u.pathname === '/admin'), page.getByRole('link', { name: /continue/ }).click()]);
    for (const path of ['/admin/submissions', '/admin/submissions.csv', '/admin/rights', '/admin/audit', '/admin/team']) {
      const response = await page.goto(url(`${path}?lang=en`));
      assert.equal(response.status(), 403, `${path} is refused to an analyst`);
    }

    // Signed out and in again: the code is asked for (a recovery code here, as after losing a phone).
    await page.goto(url('/admin?lang=en'));
    await Promise.all([page.waitForURL(/\/admin\/login/), page.getByRole('button', { name: 'Sign out' }).first().click()]);
    await page.fill('#field-email', colleague);
    await page.fill('#field-password', password);
    await Promise.all([page.waitForURL(/\/admin\/login\/code/), page.click('main button[type=submit]')]);
    for (const lang of ['en', 'ko', 'ja']) {
      await page.goto(url(`/admin/login/code?lang=${lang}`));
      await assertAccessible(page, `the code page (${lang})`);
    }
    // By keyboard alone: Tab to the field, type the code, Enter.
    await page.goto(url('/admin/login/code?lang=en'));
    await tabTo(page, '#field-code');
    await page.keyboard.type(codes[0]);
    await Promise.all([page.waitForURL(/\/admin\/account\/two-factor/), page.keyboard.press('Enter')]);
    await page.getByText('Unused recovery codes: 9').waitFor();

    // The owner disables the account: the analyst's next page is the sign-in page.
    await owner.goto(url('/admin/team?lang=en'));
    assert.ok(await owner.getByRole('button', { name: `Remove (lost phone): ${colleague}` }).isVisible(), 'the team shows the factor is on');
    await owner.getByRole('button', { name: `Disable: ${colleague}` }).click();
    await owner.getByRole('button', { name: `Enable: ${colleague}` }).waitFor();
    await page.goto(url('/admin?lang=en'));
    assert.match(new URL(page.url()).pathname, /^\/admin\/login$/, 'signed out at once');
  });
});

describe('embedding across origins', () => {
  test('a customer fills the form inside an iframe on another origin; the iframe fits its content; the owner sees it', async (t) => {
    const { formKey, snippet } = await embedSnippet(t);
    const page = await newPage(t);
    await page.goto(embedder.page(embedder.shop, snippet));
    const iframe = page.locator('iframe[data-assent-form]');
    const frame = page.frameLocator('iframe[data-assent-form]');

    /**
     * Waits until the iframe's height matches the content inside it (embed.js did its work). The
     * content's height is the root element's own box, not `scrollHeight`, which never falls below
     * the iframe's height and so cannot tell whether the iframe would shrink.
     */
    async function fitted(what) {
      let last;
      for (let i = 0; i < 50; i++) {
        const outer = await iframe.evaluate((el) => el.clientHeight);
        const inner = await frame.locator('html').evaluate((html) => Math.ceil(html.getBoundingClientRect().height)).catch(() => 0);
        last = { outer, inner };
        if (inner > 0 && Math.abs(outer - inner) <= 2) {
          return outer;
        }
        await page.waitForTimeout(100);
      }
      assert.fail(`the iframe did not fit its content (${what}): iframe ${last.outer}px, document inside ${last.inner}px`);
    }

    await frame.locator('#field-email').waitFor();
    const form = await fitted('the form');
    assert.ok(form > 300, `the iframe grew from the default 150px to fit the form (${form}px)`);

    // A mistake makes the page taller (error summary and messages): the iframe follows.
    await frame.locator('button[type=submit]').click();
    await frame.locator('#error-summary').waitFor();
    const withErrors = await fitted('the form with errors');
    assert.ok(withErrors > form, `the iframe grew with the errors (${form}px → ${withErrors}px)`);

    const email = uniqueEmail('embedded');
    await frame.getByLabel('Email address').fill(email);
    await frame.locator('#purpose-service').check();
    await frame.locator('button[type=submit]').click();
    await frame.getByRole('heading', { name: 'Thank you' }).waitFor();
    const thanks = await fitted('the thanks page');
    assert.ok(thanks < withErrors, `the iframe shrank to the thanks page (${withErrors}px → ${thanks}px)`);
    console.log(`# iframe height: form ${form}px → with errors ${withErrors}px → thanks ${thanks}px`);
    assert.equal(await frame.locator('html').evaluate(() => location.pathname), `/f/${formKey}/thanks`);

    // The owner finds it in the console by the exact address, and opens it.
    const console_ = await ownerPage(t);
    await console_.goto(url('/admin/submissions?lang=en'));
    await console_.fill('#f-email', email);
    await console_.locator('form.filters button[type=submit]').click();
    await console_.locator('table tbody tr').first().waitFor();
    assert.ok(!console_.url().includes('@') && !console_.url().includes('%40'), `the address stays out of the URL: ${console_.url()}`);
    assert.equal(await console_.inputValue('#f-email'), email, 'the filter keeps the address it searched for');
    const rows = console_.locator('table tbody tr');
    assert.equal(await rows.count(), 1, 'exactly one submission from that address');
    assert.match(await rows.first().innerText(), /Join the shop \(v\d+\)/, "the form by its title");
    await assertAccessible(console_, 'the submissions list, filtered by address');
    await Promise.all([console_.waitForURL(/\/admin\/submissions\/[^/?]+/), rows.first().getByRole('link').click()]);
    assert.ok(await console_.locator('dd', { hasText: email }).isVisible(), 'the submission shows the address given in the iframe');
    const service = console_.locator('tr', { has: console_.locator('th', { hasText: 'service' }) });
    assert.match(await service.innerText(), /granted/i, 'the required purpose was granted');
    await assertAccessible(console_, 'a submission');
  });

  test('embed.js that arrives after the iframe has loaded (async, slow or lazy-loaded) still fits it', async (t) => {
    // `async` lets the script run at any time: the height the form reported before embed.js
    // listened must not be lost. Here the shop adds the script only once the iframe has loaded.
    const page = await newPage(t);
    const snippet = (await embedSnippet(t)).snippet.replace(/<script[^>]*><\/script>/, '');
    const late = `<script>document.querySelector('iframe[data-assent-form]').addEventListener('load', function () {
      var s = document.createElement('script'); s.src = ${JSON.stringify(url('/embed.js'))}; document.body.appendChild(s);
    }, { once: true });</script>`;
    await page.goto(embedder.page(embedder.shop, `${snippet}\n${late}`));
    const iframe = page.locator('iframe[data-assent-form]');
    const frame = page.frameLocator('iframe[data-assent-form]');
    await frame.locator('#field-email').waitFor();
    await page.waitForFunction(() => [...document.scripts].some((s) => s.src.endsWith('/embed.js')));
    let outer = 0;
    let inner = 0;
    for (let i = 0; i < 50; i++) {
      outer = await iframe.evaluate((el) => el.clientHeight);
      inner = await frame.locator('html').evaluate((html) => Math.ceil(html.getBoundingClientRect().height));
      if (Math.abs(outer - inner) <= 2) {
        break;
      }
      await page.waitForTimeout(100);
    }
    assert.ok(Math.abs(outer - inner) <= 2, `the iframe fits its content although embed.js came late (iframe ${outer}px, content ${inner}px)`);
  });

  test('a page on an origin that is not allowed cannot frame the form (CSP frame-ancestors)', async (t) => {
    const page = await newPage(t);
    const refusals = [];
    page.on('console', (m) => {
      if (/frame-ancestors/.test(m.text())) {
        refusals.push(m.text());
      }
    });
    await page.goto(embedder.page(embedder.stranger, (await embedSnippet(t)).snippet));
    const iframe = page.locator('iframe[data-assent-form]');
    await iframe.waitFor({ state: 'attached' });
    for (let i = 0; i < 50 && refusals.length === 0; i++) {
      await page.waitForTimeout(100);
    }
    assert.ok(refusals.length > 0, 'Chromium reports the frame-ancestors refusal');
    assert.ok(refusals[0].includes(`frame-ancestors 'self' ${embedder.shop}`), `the refusal names the allowed origins: ${refusals[0]}`);
    const frame = await (await iframe.elementHandle()).contentFrame();
    assert.ok(!frame.url().startsWith(env.base), `the frame did not load Assent (${frame.url()})`);
    assert.equal(await frame.locator('#field-email').count(), 0, 'no form inside the refused frame');
  });

  test('the plain HTML snippet posts from the shop to Assent\'s thank-you page, or back to the shop with a redirect; from another site it is refused with a page', async (t) => {
    const { html } = await embedSnippet(t);
    const fillAndSend = async (origin, snippet = html) => {
      const page = await newPage(t);
      await page.goto(embedder.page(origin, snippet));
      await page.fill('#assent-email', uniqueEmail('snippet'));
      for (const box of await page.locator('input[name=purpose][required]').all()) {
        await box.check();
      }
      const [response] = await Promise.all([page.waitForNavigation(), page.click('form button[type=submit]')]);
      return { page, response };
    };
    // As copied, the snippet leads to Assent's own thank-you page, which links to the preference center.
    const plain = await fillAndSend(embedder.shop);
    assert.match(plain.page.url(), new RegExp(`^${env.base}/f/${BUILT_FORM}/thanks`), plain.page.url());
    assert.ok(await plain.page.locator('footer a[href^="/me"]').isVisible(), 'the thank-you page leads to /me');
    // With the redirect its comment describes, from the shop (an allowed origin): sent back there.
    const redirect = `<input type="hidden" name="redirect" value="${embedder.shop}/thanks">\n  <input type="hidden" name="_shown"`;
    const shop = await fillAndSend(embedder.shop, html.replace('<input type="hidden" name="_shown"', redirect));
    assert.equal(new URL(shop.page.url()).origin, embedder.shop, `sent back to the shop (${shop.page.url()})`);
    // The same snippet copied onto a stranger's site: a cross-site post, refused, nothing saved.
    const stranger = await fillAndSend(embedder.stranger);
    assert.equal(stranger.response.status(), 403);
    assert.ok(stranger.page.url().startsWith(env.base), stranger.page.url());
    assert.match(await stranger.page.locator('[role=alert]').innerText(), /can only be sent from its own page/);
    await assertAccessible(stranger.page, 'the refused cross-site post page');
  });
});

describe('mail on a phone', () => {
  test("every mail's HTML part the suite caused fits a 320 px screen", async (t) => {
    const page = await newPage(t);
    await page.setViewportSize({ width: 320, height: 640 });
    const wide = [];
    const mails = await mailHtmlParts();
    assert.ok(mails.size > 0, 'mails to check');
    for (const [name, html] of mails) {
      await page.setContent(html);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      if (width > 320) {
        wide.push(`${name}: ${width}px`);
      }
    }
    assert.deepEqual(wide, [], 'mails wider than a 320 px screen');
  });
});

describe('HTML that real clients accept (the W3C Nu HTML checker)', () => {
  test('every page the suite scanned, and the HTML part of every mail it caused, has no error', async () => {
    const mails = await mailHtmlParts();
    assert.ok(seen.size > 20 && mails.size > 0, `pages and mails to check: ${seen.size}, ${mails.size}`);
    const errors = await nuErrors(new Map([...seen, ...mails]));
    assert.deepEqual(errors, [], `the Nu HTML checker found errors in ${seen.size} pages and ${mails.size} mails`);
  });
});
