// Page behaviour: verify (award page on load, /verify/ on demand), bake the badge download, copy the link, print.
// Pages are complete without this script; it only adds checks and conveniences.
import { verifyItems, verifyEndorsement, itemsFromFile, classify, emailMatches, expiryState, VerifyError } from './verify.js';
import { qrSvg } from './qr.js';

const configEl = document.getElementById('bk-config');
const config = configEl ? JSON.parse(configEl.textContent) : { page: {} };
const S = window.BADGEKILN_STRINGS || {};  // the site's page strings, once per site (assets/strings.js)
const page = config.page || {};

// ------------------------------------------------------------------ text

function formatDate(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const months = S.months || [];
  const day = d.getUTCDate() === 1 && S.first_day ? S.first_day : String(d.getUTCDate());
  return (S.date_format || '{day} {month} {year}')
    .replace('{day}', day).replace('{month}', months[d.getUTCMonth()] || String(d.getUTCMonth() + 1))
    .replace('{year}', String(d.getUTCFullYear()));
}

function tr(key, params = {}) {
  let text = S[key];
  if (text === undefined) return key;
  if (typeof text === 'object') {
    const n = Number(params.days ?? params.count ?? 0);
    const one = config.lang === 'fr' ? n <= 1 : n === 1;
    text = (one && text.one) || text.other;
  }
  return text.replace(/\{(\w+)\}/g, (m, name) => {
    if (!(name in params)) return m;
    return name === 'date' ? formatDate(params[name]) : String(params[name]);
  });
}

function setText(el, text) { if (el) el.textContent = text; }

// ------------------------------------------------------------------ verdict display

const ICONS = { valid: 'i-check', expiring: 'i-clock', expired: 'i-clock', lapsed: 'i-clock', revoked: 'i-x', suspended: 'i-pause',
  invalid: 'i-x', unknown: 'i-info', checking: 'i-info', pass: 'i-check', fail: 'i-x', warn: 'i-alert', skip: 'i-info' };

function iconSvg(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(ns, 'use');
  use.setAttribute('href', `#${name}`);
  svg.appendChild(use);
  return svg;
}

/** The verdict as this page shows it: the report's, refined by what content says about the award. */
function pageVerdict(report) {
  let verdict = report.verdict;
  const state = page.state || {};
  // OB 2.0 has no suspension: a suspended award's hosted copy says revoked ("Suspended: ...").
  if (verdict === 'revoked' && state.kind === 'suspended'
      && !report.checks.some((c) => c.msg === 'check.status_revoked')) verdict = 'suspended';
  if (verdict === 'expired' && page.lapsesOn && !page.renewedBy) verdict = 'lapsed';
  return verdict;
}

function verdictText(report) {
  const verdict = pageVerdict(report);
  const facts = report.facts;
  const issuerName = (facts.issuer && facts.issuer.name) || '';
  const hosted = report.checks.find((c) => c.id === 'hosted' && c.outcome === 'pass')
    || report.checks.find((c) => c.id === 'signature' && c.outcome === 'pass');
  const host = hosted ? (hosted.params.host || hostOf(hosted.params.url || hosted.params.did || '')) : '';
  const expiry = report.checks.find((c) => c.id === 'expiry');
  const problem = report.firstProblem;
  const state = page.state || {};
  let reason = facts.revocationReason || '';
  if (verdict === 'suspended' && state.reason) reason = state.reason;
  const params = { issuer: issuerName, host, date: expiry && expiry.params.date, days: expiry && expiry.params.days,
    reason, problem: problem ? tr(problem.msg, problem.params) : '' };
  let detailKey = `verdict.${verdict}.detail`;
  if (verdict === 'expired' && page.renewedBy) detailKey = 'verdict.expired.detail_renewed';
  if (verdict === 'valid' && (!expiry || !expiry.params.date)) detailKey = 'verdict.valid.detail_no_expiry';
  if ((verdict === 'revoked' || verdict === 'suspended') && !params.reason) detailKey = `verdict.${verdict}.detail_no_reason`;
  return { verdict, title: tr(`verdict.${verdict}.title`), detail: tr(detailKey, params) };
}

function hostOf(url) {
  const text = String(url);
  if (text.startsWith('did:web:')) return decodeURIComponent(text.slice(8).split(/[:#]/)[0]);
  try { return new URL(text).host; } catch { return ''; }
}

function showVerdict(banner, report) {
  const { verdict, title, detail } = verdictText(report);
  // A revocation or suspension the page already states (with its date and reason, from
  // content) keeps that wording once the issuer's records confirm it.
  const keep = page.state && page.state.kind === verdict && banner.dataset.stated === verdict;
  banner.dataset.verdict = verdict;
  banner.className = `status status--${verdict}`;
  const icon = banner.querySelector('.status__icon use');
  if (icon) icon.setAttribute('href', `#${ICONS[verdict]}`);
  setText(banner.querySelector('.status__title'), title);
  setText(banner.querySelector('.status__detail'), keep ? banner.dataset.statedDetail : detail);
}

function showChecks(list, report) {
  list.replaceChildren();
  for (const check of report.checks) {
    const li = document.createElement('li');
    li.className = `check check--${check.outcome}`;
    li.dataset.check = check.id;
    li.dataset.outcome = check.outcome;
    li.appendChild(iconSvg(ICONS[check.outcome]));
    const label = document.createElement('span');
    label.className = 'visually-hidden';
    label.textContent = `${tr(`outcome.${check.outcome}`)}: `;
    li.appendChild(label);
    const text = document.createElement('span');
    text.textContent = tr(check.msg, check.params);
    li.appendChild(text);
    list.appendChild(li);
  }
}

function env() {
  return { fetch: (...a) => window.fetch(...a), now: () => new Date(), here: window.location,
    soonDays: Number(page.soonDays || 60) };
}

// ------------------------------------------------------------------ email check

function wireEmailCheck(getReport) {
  const form = document.getElementById('email-check');
  if (!form) return;
  const input = form.querySelector('input[type="email"]');
  const out = document.getElementById('email-result');
  form.hidden = false;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const report = getReport();
    out.className = 'email-result';
    if (!report || !report.identities.length) {
      setText(out, tr('email.unavailable'));
      return;
    }
    if (!input.value.trim()) {
      setText(out, tr('email.empty'));
      input.focus();
      return;
    }
    if (!window.crypto || !window.crypto.subtle) {
      setText(out, tr('email.insecure'));
      return;
    }
    const match = await emailMatches(report.identities, input.value);
    out.dataset.match = match ? 'yes' : 'no';
    out.className = `email-result email-result--${match ? 'yes' : 'no'}`;
    setText(out, tr(match ? 'email.match' : 'email.no_match', { email: input.value.trim() }));
  });
}

// ------------------------------------------------------------------ award page

async function awardPage() {
  const banner = document.getElementById('status');
  const list = document.getElementById('check-list');
  const details = document.getElementById('checks');
  const copy = JSON.parse(document.getElementById('bk-assertion').textContent);
  // First the dates, from the visitor's clock, so the banner is right even before the network answers.
  if (page.state && page.state.kind === 'active') {
    const state = expiryState(page.expires ? new Date(page.expires) : null, new Date(), Number(page.soonDays || 60));
    banner.dataset.expiry = state;
  }
  banner.dataset.stated = banner.dataset.verdict;
  banner.dataset.statedDetail = banner.querySelector('.status__detail').textContent.trim();
  banner.dataset.verdict = 'checking';
  banner.className = 'status status--checking';
  setText(banner.querySelector('.status__title'), tr('verdict.checking.title'));
  setText(banner.querySelector('.status__detail'), tr('verdict.checking.detail'));
  const items = [{ version: 'ob2', form: 'json', value: copy, source: 'page' }];
  if (page.jwt) items.push({ version: 'ob3', form: 'jwt-url', value: page.jwt, hostedJson: page.credential || null });
  let report = null;
  try {
    report = await verifyItems(items, env());
  } catch (error) {
    report = { verdict: 'unknown', checks: [], facts: {}, identities: [], firstProblem: null };
    console.error(error);
  }
  await checkEndorsements(report);
  showVerdict(banner, report);
  showChecks(list, report);
  details.hidden = false;
  setText(document.getElementById('verify-note'), tr('verify.done', { count: report.checks.length }));
  wireEmailCheck(() => report);
}

/** Each endorsement the page shows gets its own verdict; it never changes the badge's. */
async function checkEndorsements(report) {
  const items = page.endorsements || [];
  for (const [index, item] of items.entries()) {
    let verdict = 'unknown';
    let problem = '';
    try {
      const result = await verifyEndorsement(env(), item);
      verdict = { expiring: 'valid', suspended: 'revoked' }[result.verdict] || result.verdict;
      const first = result.firstProblem;
      problem = first ? tr(first.msg, first.params) : '';
    } catch (error) {
      console.error(error);
    }
    const text = tr(`endorsement.${verdict}`, { problem });
    const el = document.querySelector(`[data-endorsement="${index}"] .endorsement__verdict`);
    if (el) {
      el.dataset.verdict = verdict;
      el.className = `endorsement__verdict endorsement__verdict--${verdict}`;
      el.hidden = false;
      setText(el, text);
    }
    report.checks.push({ id: 'endorsement', outcome: verdict === 'valid' ? 'pass' : 'warn', msg: 'check.endorsement',
      params: { name: item.name || '', verdict: text }, kind: 'endorsement' });
  }
}

// ------------------------------------------------------------------ /verify/ page

async function verifyPage() {
  const form = document.getElementById('verify-form');
  const fileInput = document.getElementById('badge-file');
  const drop = document.getElementById('dropzone');
  const paste = document.getElementById('badge-text');
  const urlInput = document.getElementById('badge-url');
  const result = document.getElementById('result');
  const banner = document.getElementById('status');
  const list = document.getElementById('check-list');
  const error = document.getElementById('input-error');
  let report = null;
  form.hidden = false;
  document.querySelectorAll('.needs-js').forEach((el) => { el.hidden = true; });

  async function run(getItems, sourceLabel) {
    setText(error, '');
    error.hidden = true;
    result.hidden = false;
    banner.dataset.verdict = 'checking';
    banner.className = 'status status--checking';
    setText(banner.querySelector('.status__title'), tr('verdict.checking.title'));
    setText(banner.querySelector('.status__detail'), sourceLabel);
    list.replaceChildren();
    try {
      const items = await getItems();
      report = await verifyItems(items, env());
    } catch (err) {
      report = null;
      result.hidden = true;
      error.hidden = false;
      setText(error, err instanceof VerifyError ? tr(`input.${err.code}`, err.params) : tr('input.unknown_input'));
      return;
    }
    showVerdict(banner, report);
    showChecks(list, report);
    showFacts(report);
    banner.focus();
  }

  function showFacts(rep) {
    const dl = document.getElementById('facts');
    dl.replaceChildren();
    const facts = rep.facts;
    const rows = [];
    const badge = facts.badge || {};
    const assertion = facts.assertion || {};
    const credential = facts.credential || {};
    if (badge.name) rows.push(['facts.badge', badge.name]);
    if (facts.issuer && facts.issuer.name) rows.push(['facts.issuer', facts.issuer.name]);
    const issued = assertion.issuedOn || credential.validFrom;
    if (issued) rows.push(['facts.issued', formatDate(issued)]);
    const expires = assertion.expires || credential.validUntil;
    rows.push(['facts.expires', expires ? formatDate(expires) : tr('facts.never')]);
    const id = assertion.id || credential.id;
    if (id) rows.push(['facts.id', id]);
    for (const [key, value] of rows) {
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = tr(key);
      const dd = document.createElement('dd');
      dd.textContent = value;
      div.append(dt, dd);
      dl.appendChild(div);
    }
  }

  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    if (file) run(async () => itemsFromFile(file.name, new Uint8Array(await file.arrayBuffer())), file.name);
  });
  for (const name of ['dragenter', 'dragover']) {
    drop.addEventListener(name, (event) => { event.preventDefault(); drop.classList.add('dropzone--over'); });
  }
  for (const name of ['dragleave', 'drop']) {
    drop.addEventListener(name, () => drop.classList.remove('dropzone--over'));
  }
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) run(async () => itemsFromFile(file.name, new Uint8Array(await file.arrayBuffer())), file.name);
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = paste.value.trim();
    const url = urlInput.value.trim();
    if (!text && !url) {
      error.hidden = false;
      setText(error, tr('input.empty'));
      return;
    }
    run(async () => [classify(text || url, text ? 'text' : 'url')], text ? tr('input.pasted') : url);
  });
  wireEmailCheck(() => report);
}

// ------------------------------------------------------------------ badge downloads

/** The award page's "Download badge" buttons: bake.js makes the file from the class image and the
 *  award's published JSON; a withdrawn award or an unreachable file gives a message, never a file. */
function wireBaking() {
  const configEl = document.getElementById('bk-baking');
  if (!configEl) return;
  const baking = JSON.parse(configEl.textContent);
  const out = document.getElementById('bake-status');
  document.getElementById('bake-nojs').hidden = true;
  document.getElementById('bake-list').hidden = false;
  for (const button of document.querySelectorAll('[data-bake]')) {
    button.addEventListener('click', async () => {
      setText(out, tr('bake.making'));
      try {
        const { bakeDownload } = await import('./bake.js'); // loaded on the first click only
        const file = await bakeDownload(button.dataset.bake, baking, (...a) => window.fetch(...a));
        const url = URL.createObjectURL(new Blob([file.bytes], { type: file.type }));
        const link = Object.assign(document.createElement('a'), { href: url, download: file.name, hidden: true });
        document.body.appendChild(link);
        link.click();
        link.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60000);
        setText(out, tr('bake.done', { name: file.name }));
      } catch (error) {
        const code = error && ['revoked', 'fetch'].includes(error.code) ? error.code : 'failed';
        if (code === 'failed') console.error(error);
        setText(out, tr(`bake.${code}`, { url: error && error.detail }));
      }
    });
  }
}

// ------------------------------------------------------------------ shared conveniences

function wireCopy() {
  const button = document.getElementById('copy-link');
  const input = document.getElementById('page-link');
  const out = document.getElementById('copy-status');
  if (!button || !input) return;
  button.hidden = false;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(input.value);
    } catch {
      input.select();
      document.execCommand('copy');
    }
    setText(out, tr('share.copied'));
  });
}

function wirePrint() {
  const button = document.getElementById('print-button');
  if (button) {
    button.hidden = false;
    button.addEventListener('click', () => window.print());
  }
  // The award page's certificate is its print view: print it straight away.
  const certificate = document.getElementById('print-certificate');
  if (certificate) {
    certificate.addEventListener('click', (event) => { event.preventDefault(); window.print(); });
  }
}

// The certificate (the award page's print view) links back to the page with a QR code.
function drawQrCodes() {
  for (const box of document.querySelectorAll('[data-qr]')) box.innerHTML = qrSvg(box.dataset.qr);
}

wireCopy();
wirePrint();
drawQrCodes();
wireBaking();
if (page.kind === 'award') awardPage();
else if (page.kind === 'verify') verifyPage();
