// driver.mjs: one long-running headless browser (Debian's chromium or
// firefox-esr) driven by puppeteer-core, controlled line by line on stdin so
// that a shell test can change the trust store between page loads while
// the same browser process keeps running.
//
//   node driver.mjs --browser chromium|firefox --profile DIR
//                   --map NAME[,NAME...] [--timeout-ms N]
//
// Requests (one JSON object per line on stdin):
//   {"op":"open","url":"https://printer.local:PORT/","shot":"FILE.png"}
//   {"op":"fetch","page":URL,"url":URL,"method":"GET","body":TEXT,"type":CONTENT_TYPE}
//       loads `page`, then runs fetch(url, {credentials: "include"}) in it:
//       "result fetched status=NNN <body>" or "result fetch-error <message> -"
//   {"op":"form","page":URL,"url":URL}
//       loads `page`, then submits a form (POST, x-www-form-urlencoded) to
//       `url` from it, as a cross-site form does: "result loaded
//       status=NNN <text>" or an error as for open
//   {"op":"grant","origin":URL,"permission":NAME}   (Chromium only)
//       Browser.setPermission: "result granted NAME -" or an error
//   {"op":"quit"}
// Answers (one line each on stdout, tab-separated):
//   ready  <browser version>
//   result <outcome> <detail> <page heading>
// where outcome is
//   loaded      the page loaded over HTTPS with no certificate error;
//               detail: what the browser says about the connection
//   cert-error  the browser refused the certificate; detail: its error code
//   net-error   another network error; detail: its error code
// and "result error <message> -" when the request itself failed.
// Chromium reaches NAME through --host-resolver-rules, Firefox through
// network.dns.localDomains: both send every listed name to 127.0.0.1.
// With --map '' neither is set: names go to the system resolver.
import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

function parseArgs(argv) {
  const o = { timeoutMs: 20000, map: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--browser') { o.browser = v; i++; }
    else if (a === '--profile') { o.profile = v; i++; }
    else if (a === '--map') { o.map = v; i++; }
    else if (a === '--timeout-ms') { o.timeoutMs = Number(v); i++; }
    else throw new Error(`unknown argument ${a}`);
  }
  if (!['chromium', 'firefox'].includes(o.browser) || !o.profile)
    throw new Error('usage: driver.mjs --browser chromium|firefox --profile DIR [--map NAMES]');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
// SETTLE_DRIVER_CLIENT_AUTH=1: Firefox presents client certificates by
// itself; Chromium takes the AutoSelectCertificateForUrls policy, which
// the test writes.
const clientAuth = process.env.SETTLE_DRIVER_CLIENT_AUTH === '1';
const names = opts.map.split(',').filter(Boolean);
const clean = (s) => String(s ?? '-').replace(/[\t\r\n]+/g, ' ').trim() || '-';
const say = (...fields) => process.stdout.write(fields.map(clean).join('\t') + '\n');

async function launch() {
  if (opts.browser === 'chromium') {
    const args = [
      '--disable-gpu', '--disable-quic', '--no-first-run', '--no-default-browser-check',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--disable-features=Translate,OptimizationHints,MediaRouter',
      '--password-store=basic', '--use-mock-keychain',
    ];
    if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
    // SETTLE_DRIVER_CHROMIUM_ARGS: extra switches, one per line (the
    // local-network tests: --ip-address-space-overrides and features).
    for (const a of (process.env.SETTLE_DRIVER_CHROMIUM_ARGS || '').split('\n'))
      if (a.trim()) args.push(a.trim());
    if (names.length)
      args.push('--host-resolver-rules=' + names.map((n) => `MAP ${n} 127.0.0.1`).join(', '));
    return puppeteer.launch({
      browser: 'chrome', executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true, userDataDir: opts.profile, args, timeout: 60000,
      acceptInsecureCerts: false, protocolTimeout: 60000,
    });
  }
  const prefs = {
    'network.proxy.type': 0,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'security.OCSP.enabled': 0,
    'security.remote_settings.crlite_filters.enabled': false,
    'security.remote_settings.intermediates.enabled': false,
    'security.certerrors.mitm.priming.enabled': false,
    'app.update.disabledForTesting': true,
    // JSON (the device's whoami) as plain text in a <pre>, not the viewer.
    'devtools.jsonview.enabled': false,
  };
  // Names the test maps to loopback (Firefox resolves them to 127.0.0.1);
  // without --map the pref is not written at all (the system resolver).
  if (names.length) prefs['network.dns.localDomains'] = names.join(',');
  // Mutual TLS without a dialog: what an administrator sets for users
  // whose devices ask for their identity (docs/browsers.md).
  if (clientAuth) prefs['security.default_personal_cert'] = 'Select Automatically';
  // SETTLE_DRIVER_FIREFOX_PREFS: more prefs, a JSON object (the
  // local-network tests: network.lna.*).
  Object.assign(prefs, JSON.parse(process.env.SETTLE_DRIVER_FIREFOX_PREFS || '{}'));
  return puppeteer.launch({
    browser: 'firefox', protocol: 'webDriverBiDi',
    executablePath: process.env.FIREFOX || '/usr/bin/firefox-esr',
    headless: true, userDataDir: opts.profile, extraPrefsFirefox: prefs, timeout: 60000,
    acceptInsecureCerts: false, protocolTimeout: 60000,
  });
}

// What the page says about itself after a navigation.
async function inspect(page) {
  return page.evaluate(() => {
    const info = { uri: document.documentURI, secure: window.isSecureContext,
                   heading: (document.querySelector('h1') ?? document.querySelector('pre'))?.textContent ?? '' };
    // Firefox's certificate error page can tell its error code.
    if (typeof document.getFailedCertSecurityInfo === 'function') {
      try { info.certError = document.getFailedCertSecurityInfo().errorCodeString; } catch (e) { /* not a cert error */ }
    }
    if (typeof document.getNetErrorInfo === 'function') {
      try { info.netError = document.getNetErrorInfo().errorCodeString; } catch (e) { /* not a net error */ }
    }
    return info;
  });
}

function classify(code) {
  return /CERT|SEC_ERROR|SSL_ERROR_BAD_CERT|MOZILLA_PKIX|nssBadCert/i.test(code) ? 'cert-error' : 'net-error';
}

const t0 = Date.now();
const log = (...a) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(3)}] ${a.join(' ')}\n`);

async function open(browser, req) {
  log('open', req.url);
  const page = await browser.newPage();
  log('new page ready');
  try {
    let response = null, navError = null;
    const nav = page.goto(req.url, { waitUntil: 'load', timeout: opts.timeoutMs })
      .then((r) => { response = r; }, (e) => { navError = e; });
    if (opts.browser === 'chromium') {
      // Chromium fails the document request at once but commits its error
      // page only after its SSL error handler's delay (about 3 s from the
      // third error on): take the network error as soon as it is known.
      const failed = new Promise((resolve) => page.on('requestfailed', (r) => {
        if (r.isNavigationRequest() && r.url() === req.url)
          resolve(new Error(`${r.failure()?.errorText} at ${req.url}`));
      }));
      const early = await Promise.race([nav.then(() => null), failed]);
      if (early && !response) {
        // The error page is not worth waiting for: close the tab in the
        // background and answer now.
        page.close().catch(() => {});
        const code = (early.message.match(/net::(ERR_[A-Z_]+)/) || [])[1] || early.message;
        log('refused early:', code);
        return ['result', classify(code), code, '-'];
      }
      await nav;
    } else {
      await nav;
    }
    log('navigation done:', navError ? navError.message : 'ok');
    let info = null;
    try { info = await inspect(page); } catch (e) { /* a Chromium error page is not scriptable */ }
    log('inspected', info?.uri);
    if (navError || !response) {
      const msg = navError ? navError.message : 'no response';
      // Chromium: "net::ERR_CERT_INVALID at URL"; Firefox: the error page.
      let code = (msg.match(/net::(ERR_[A-Z_]+)/) || [])[1];
      if (!code && info?.certError) code = info.certError;
      if (!code && info?.netError) code = info.netError;
      if (!code) code = (msg.match(/(NS_ERROR_[A-Z_]+|SEC_ERROR_[A-Z_]+|SSL_ERROR_[A-Z_]+|MOZILLA_PKIX_ERROR_[A-Z_]+)/) || [])[1];
      if (!code && info?.uri?.startsWith('about:certerror')) code = 'about:certerror';
      if (!code && info?.uri?.startsWith('about:neterror')) code = 'about:neterror';
      if (/timeout/i.test(msg) && !code) return ['result', 'timeout', msg, '-'];
      return ['result', classify(code || msg), code || msg, '-'];
    }
    if (info && /^(about:certerror|about:neterror|chrome-error:)/.test(info.uri)) {
      const code = info.certError || info.netError || info.uri;
      return ['result', classify(code), code, '-'];
    }
    if (req.shot) await page.screenshot({ path: req.shot });
    // Chromium reports the TLS connection (CDP); Firefox's WebDriver BiDi
    // does not (puppeteer: UnsupportedOperation), so there the evidence is
    // the loaded https: document, a secure context, and no error page.
    let sd = null;
    try { sd = response.securityDetails(); } catch (e) { /* Firefox */ }
    const detail = [`status=${response.status()}`, `secure-context=${info?.secure}`];
    if (sd) detail.push(`protocol=${sd.protocol()}`, `issuer=${sd.issuer()}`, `subject=${sd.subjectName()}`);
    return ['result', 'loaded', detail.join(' '), info?.heading];
  } finally {
    await page.close().catch(() => {});
    log('page closed');
  }
}

// fetch and form: a page of one origin asking another (the device).
async function fromPage(browser, req) {
  log(req.op, req.page, '->', req.url);
  const page = await browser.newPage();
  // What Chromium says about a blocked request (CORS, local network).
  page.on('console', (m) => log('console:', m.type(), m.text()));
  page.on('requestfailed', (r) => log('request failed:', r.method(), r.url(), r.failure()?.errorText));
  try {
    const response = await page.goto(req.page, { waitUntil: 'load', timeout: opts.timeoutMs });
    if (!response || !response.ok()) return ['result', 'error', `the page ${req.page} did not load`, '-'];
    if (req.op === 'fetch') {
      const r = await page.evaluate(async (q) => {
        try {
          const init = { method: q.method || 'GET', credentials: 'include', mode: 'cors' };
          if (q.body !== undefined) { init.body = q.body; init.headers = { 'Content-Type': q.type || 'application/json' }; }
          const res = await fetch(q.url, init);
          return { status: res.status, text: await res.text() };
        } catch (e) { return { error: `${e.name}: ${e.message}` }; }
      }, req);
      log('fetch answer', JSON.stringify(r).slice(0, 300));
      if (r.error) return ['result', 'fetch-error', r.error, '-'];
      return ['result', 'fetched', `status=${r.status}`, r.text.replace(/\s+/g, ' ').slice(0, 400)];
    }
    const nav = page.waitForNavigation({ waitUntil: 'load', timeout: opts.timeoutMs });
    await page.evaluate((url) => {
      const f = document.createElement('form');
      f.method = 'POST'; f.action = url;
      const i = document.createElement('input');
      i.type = 'hidden'; i.name = 'role'; i.value = 'admin';
      f.appendChild(i); document.body.appendChild(f); f.submit();
    }, req.url);
    const answer = await nav.catch((e) => e);
    if (answer instanceof Error) {
      const code = (answer.message.match(/net::(ERR_[A-Z_]+)/) || [])[1] || answer.message;
      return ['result', classify(code), code, '-'];
    }
    const text = await page.evaluate(() => document.body?.innerText ?? '').catch(() => '');
    return ['result', 'loaded', `status=${answer ? answer.status() : 'none'}`, text.replace(/\s+/g, ' ').slice(0, 400)];
  } finally {
    await page.close().catch(() => {});
  }
}

async function grant(browser, req) {
  const context = browser.defaultBrowserContext();
  await context.setPermission(req.origin, { permission: { name: req.permission }, state: 'granted' });
  return ['result', 'granted', req.permission, '-'];
}

const browser = await launch();
say('ready', await browser.version());
const rl = createInterface({ input: process.stdin });
for await (const line of rl) {
  if (!line.trim()) continue;
  let req;
  try { req = JSON.parse(line); } catch (e) { say('result', 'error', `bad request: ${e.message}`, '-'); continue; }
  if (req.op === 'quit') break;
  try {
    if (req.op === 'fetch' || req.op === 'form') say(...await fromPage(browser, req));
    else if (req.op === 'grant') say(...await grant(browser, req));
    else say(...await open(browser, req));
  } catch (e) {
    say('result', 'error', e.message || e.stack || String(e), '-');
  }
}
await browser.close().catch(() => {});
process.exit(0);
