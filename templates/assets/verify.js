// Open Badges verification in the browser, with no third-party service.
//
// What it checks (each check is reported, pass or fail, in order):
//   OB 2.0 hosted: the assertion is served at its own id (the hosted copy is the truth), a copy
//   (page, baked image, pasted JSON) is identical to it, badge -> issuer linkage, the assertion
//   is on the issuer's origin (or its declared allowedOrigins/startsWith), issue date, expiry,
//   `revoked` and the issuer's revocationList. OB 2.0 signed: RS256 JWS against the issuer's
//   CryptographicKey. OB 3.0 VC-JWT: RS256 signature with WebCrypto against the key in the
//   issuer's did:web document, JWT claims against the credential, validFrom/validUntil, and
//   status lists (BitstringStatusList, gzip+base64url, decoded with DecompressionStream;
//   1EdTechRevocationList). An OB 3.0 JSON credential with a Data Integrity proof is compared
//   with the copy its issuer hosts (RDF canonicalization is not done in the browser).
//
// Pure functions plus an injected `env` ({fetch, now, here, soonDays}) so that the page, the
// /verify/ page and tests share one implementation.

const enc = new TextEncoder();
const dec = new TextDecoder();

export const OB2_NS = 'http://openbadges.org';
export const OB3_NS = 'https://purl.imsglobal.org/ob/v3p0';
const DAY = 86400000;

// ------------------------------------------------------------------ small helpers

export function b64urlToBytes(text) {
  let s = String(text).replace(/-/g, '+').replace(/_/g, '/');
  while (s.length % 4) s += '=';
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function b64ToBytes(text) {
  return b64urlToBytes(String(text).replace(/\s+/g, '').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''));
}

function hex(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, '0')).join('');
}

export function canonical(value) {
  if (Array.isArray(value)) return '[' + value.map(canonical).join(',') + ']';
  if (value && typeof value === 'object') {
    return '{' + Object.keys(value).sort().map((k) => JSON.stringify(k) + ':' + canonical(value[k])).join(',') + '}';
  }
  return JSON.stringify(value);
}

export function differingKeys(a, b) {
  const keys = new Set([...Object.keys(a || {}), ...Object.keys(b || {})]);
  return [...keys].filter((k) => canonical((a || {})[k]) !== canonical((b || {})[k])).sort();
}

const asList = (v) => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const idOf = (v) => (v && typeof v === 'object' ? v.id : v);
const hasType = (doc, ...names) => asList(doc && doc.type).some((t) => names.includes(t));

function parseDate(value) {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function hostOf(url) {
  try { return new URL(url).host; } catch { return ''; }
}

export function expiryState(expires, now, soonDays) {
  if (!expires) return 'valid';
  if (now >= expires) return 'expired';
  if (expires - now <= soonDays * DAY) return 'expiring';
  return 'valid';
}

// ------------------------------------------------------------------ reading input

export function isJws(text) {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(text);
}

export function decodeJws(text) {
  const [h, p, s] = text.split('.');
  return { header: JSON.parse(dec.decode(b64urlToBytes(h))), payload: JSON.parse(dec.decode(b64urlToBytes(p))),
    signingInput: `${h}.${p}`, signature: b64urlToBytes(s) };
}

const isOb3 = (doc) => hasType(doc, 'VerifiableCredential', 'OpenBadgeCredential', 'AchievementCredential');

/** What a piece of text is: an OB 2.0 assertion, an OB 3.0 credential, a JWS/JWT, or a URL. */
export function classify(text, source) {
  const t = String(text || '').trim();
  if (!t) throw new VerifyError('empty');
  if (t.startsWith('{')) {
    let doc;
    try { doc = JSON.parse(t); } catch { throw new VerifyError('bad_json'); }
    return { version: isOb3(doc) ? 'ob3' : 'ob2', form: 'json', value: doc, source };
  }
  if (isJws(t)) {
    let parts;
    try { parts = decodeJws(t); } catch { throw new VerifyError('bad_jws'); }
    const body = parts.payload.vc || parts.payload;
    return { version: isOb3(body) ? 'ob3' : 'ob2', form: 'jws', value: t, source };
  }
  if (/^https?:\/\/\S+$/i.test(t)) return { version: 'any', form: 'url', value: t, source };
  throw new VerifyError('unknown_input');
}

export class VerifyError extends Error {
  constructor(code, params = {}) { super(code); this.code = code; this.params = params; }
}

async function inflate(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The Open Badges texts baked into a PNG: iTXt `openbadges` / `openbadgecredential`, legacy tEXt. */
export async function extractPng(bytes) {
  const sig = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (!sig.every((b, i) => bytes[i] === b)) throw new VerifyError('not_png');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const found = [];
  let pos = 8;
  while (pos + 8 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    const data = bytes.subarray(pos + 8, pos + 8 + length);
    if (type === 'iTXt' || type === 'tEXt') {
      const nul = data.indexOf(0);
      const keyword = String.fromCharCode(...data.subarray(0, nul));
      if ((keyword === 'openbadges' || keyword === 'openbadgecredential')
          && !found.some((f) => f.keyword === keyword)) {
        let text;
        if (type === 'tEXt') {
          text = String.fromCharCode(...data.subarray(nul + 1));
        } else {
          const compressed = data[nul + 1] === 1;
          const langEnd = data.indexOf(0, nul + 3);
          const transEnd = data.indexOf(0, langEnd + 1);
          const body = data.subarray(transEnd + 1);
          text = dec.decode(compressed ? await inflate(body) : body);
        }
        found.push({ keyword, text });
      }
    }
    if (type === 'IEND') break;
    pos += 12 + length;
  }
  return found;
}

/** The Open Badges payloads of an SVG: <openbadges:assertion> (OB 2.0), <openbadges:credential> (OB 3.0). */
export function extractSvg(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  if (doc.getElementsByTagName('parsererror').length || doc.documentElement.localName !== 'svg') {
    throw new VerifyError('not_svg');
  }
  const found = [];
  for (const [ns, local, keyword] of [[OB2_NS, 'assertion', 'openbadges'], [OB3_NS, 'credential', 'openbadgecredential']]) {
    const el = doc.getElementsByTagNameNS(ns, local)[0];
    if (!el) continue;
    const body = el.textContent.trim();
    found.push({ keyword, text: body || el.getAttribute('verify') || '' });
  }
  return found;
}

/** Items to verify from a dropped/chosen file (baked PNG/SVG, JSON or JWT text). */
export async function itemsFromFile(name, bytes) {
  let baked;
  if (bytes[0] === 0x89 && bytes[1] === 0x50) {
    baked = await extractPng(bytes);
  } else {
    const text = dec.decode(bytes).replace(/^\ufeff/, '');
    if (/^\s*(<\?xml|<svg|<!--)/i.test(text)) baked = extractSvg(text);
    else return [classify(text, 'file')];
  }
  if (!baked.length) throw new VerifyError('not_baked', { name });
  return baked.map((b) => {
    const item = classify(b.text, 'baked');
    if (b.keyword === 'openbadgecredential' && item.version !== 'any') item.version = 'ob3';
    return item;
  });
}

// ------------------------------------------------------------------ the report

class Report {
  constructor() { this.checks = []; this.facts = {}; this.identities = []; }

  add(id, outcome, msg, params = {}, kind = null) {
    this.checks.push({ id, outcome, msg, params, kind });
  }

  get verdict() {
    const fails = this.checks.filter((c) => c.outcome === 'fail');
    // A suspension is "revoked" in OB 2.0 and the 1EdTech list (they have no other word for it);
    // the bitstring lists tell the two apart: suspended, and clear in the revocation list.
    const suspended = fails.some((c) => c.kind === 'suspended');
    const revocationClear = this.checks.some((c) => c.id === 'status' && c.outcome === 'pass'
      && c.msg === 'check.status_clear' && c.params.purpose === 'revocation' && c.params.list === 'bitstring');
    if (fails.some((c) => c.kind === 'revoked') && !(suspended && revocationClear)) return 'revoked';
    if (suspended) return 'suspended';
    if (fails.some((c) => !c.kind)) return 'invalid';
    if (fails.some((c) => c.kind === 'unreachable')) return 'unknown';
    if (fails.some((c) => c.kind === 'expired')) return 'expired';
    if (this.checks.some((c) => c.outcome === 'warn' && c.kind === 'expiring')) return 'expiring';
    return this.checks.some((c) => c.outcome === 'pass') ? 'valid' : 'unknown';
  }

  get firstProblem() {
    const order = ['revoked', 'suspended', null, 'unreachable', 'expired'];
    for (const kind of order) {
      const c = this.checks.find((x) => x.outcome === 'fail' && x.kind === kind);
      if (c) return c;
    }
    return null;
  }
}

async function getDoc(env, url, report, id, { text = false } = {}) {
  let response;
  try {
    response = await env.fetch(url, { cache: 'no-store', credentials: 'omit',
      headers: { Accept: text ? 'text/plain, */*' : 'application/ld+json, application/json' } });
  } catch {
    report.add(id, 'fail', 'check.fetch_failed', { url }, 'unreachable');
    return null;
  }
  if (response.status === 410) return { gone: true, url: response.url || url };
  if (!response.ok) {
    report.add(id, 'fail', 'check.fetch_status', { url, status: response.status },
      response.status === 404 ? null : 'unreachable');
    return null;
  }
  const body = await response.text();
  if (text) return { text: body, url: response.url || url };
  try {
    return { doc: JSON.parse(body), url: response.url || url };
  } catch {
    report.add(id, 'fail', 'check.not_json', { url });
    return null;
  }
}

// ------------------------------------------------------------------ OB 2.0

function checkDates(report, issued, expires, env, kindLabel) {
  const now = env.now();
  if (issued) {
    if (issued > now) report.add('issued', 'fail', 'check.issued_future', { date: issued.toISOString() });
    else report.add('issued', 'pass', 'check.issued', { date: issued.toISOString() });
  }
  if (!expires) {
    report.add('expiry', 'pass', 'check.no_expiry');
    return;
  }
  const state = expiryState(expires, now, env.soonDays);
  const params = { date: expires.toISOString(), days: Math.max(0, Math.ceil((expires - now) / DAY)) };
  if (state === 'expired') report.add('expiry', 'fail', 'check.expired', params, 'expired');
  else if (state === 'expiring') report.add('expiry', 'warn', 'check.expiring', params, 'expiring');
  else report.add('expiry', 'pass', 'check.valid_until', params);
  report.facts.expiryKind = kindLabel;
}

function originAllowed(assertionId, issuer) {
  const policy = issuer.verification || {};
  const host = hostOf(assertionId);
  const allowed = asList(policy.allowedOrigins);
  const starts = asList(policy.startsWith);
  if (starts.length && !starts.some((p) => assertionId.startsWith(p))) return false;
  if (allowed.length) return allowed.includes(host);
  return host !== '' && host === hostOf(issuer.id);
}

/** Hosted verification of an OB 2.0 assertion; `copy` is the page's or baked copy, if any. */
export async function verifyOb2(report, env, url, copy) {
  const got = await getDoc(env, url, report, 'hosted');
  if (!got) return;
  if (got.gone) {
    report.add('revocation', 'fail', 'check.revoked_gone', { url }, 'revoked');
    return;
  }
  const hosted = got.doc;
  report.facts.assertion = hosted;
  if (hosted.revoked === true) {
    report.facts.revocationReason = hosted.revocationReason || '';
    report.add('revocation', 'fail', hosted.revocationReason ? 'check.revoked_reason' : 'check.revoked',
      { reason: hosted.revocationReason || '' }, 'revoked');
    return;
  }
  if (!hasType(hosted, 'Assertion') || hosted.id !== got.url) {
    report.add('hosted', 'fail', 'check.hosted_wrong_id', { url: got.url, id: String(hosted.id || '') });
    return;
  }
  report.add('hosted', 'pass', 'check.hosted', { url: got.url, host: hostOf(got.url) });
  const verification = hosted.verification || hosted.verify || {};
  if (!['HostedBadge', 'hosted'].includes(verification.type)) {
    report.add('method', 'fail', 'check.not_hosted', { type: String(verification.type || '') });
  }
  if (copy) {
    const diff = differingKeys(copy, hosted);
    if (diff.length) report.add('match', 'fail', 'check.copy_differs', { fields: diff.join(', ') });
    else report.add('match', 'pass', 'check.copy_matches');
  }
  await linkage(report, env, hosted);
  checkDates(report, parseDate(hosted.issuedOn), hosted.expires ? parseDate(hosted.expires) : null, env, 'ob2');
  if (hosted.expires && !parseDate(hosted.expires)) report.add('expiry', 'fail', 'check.bad_date', { field: 'expires' });
  if (!parseDate(hosted.issuedOn)) report.add('issued', 'fail', 'check.bad_date', { field: 'issuedOn' });
  const recipient = hosted.recipient || {};
  if (recipient.identity) report.identities.push({ type: recipient.type, hashed: recipient.hashed, salt: recipient.salt || '', identity: recipient.identity });
  if (report.facts.issuer && report.facts.issuer.revocationList) await revocationList(report, env, report.facts.issuer.revocationList, hosted.id);
  else report.add('revocation', 'pass', 'check.not_revoked');
}

async function linkage(report, env, assertion, { hosted = true } = {}) {
  const badgeUrl = idOf(assertion.badge);
  const gotBadge = badgeUrl && await getDoc(env, badgeUrl, report, 'badge');
  if (!gotBadge) { if (!badgeUrl) report.add('badge', 'fail', 'check.no_badge'); return; }
  const badge = gotBadge.doc;
  if (!hasType(badge, 'BadgeClass') || badge.id !== badgeUrl) {
    report.add('badge', 'fail', 'check.badge_wrong', { url: badgeUrl });
    return;
  }
  report.facts.badge = badge;
  report.add('badge', 'pass', 'check.badge', { name: String(badge.name || ''), url: badgeUrl });
  const issuerUrl = idOf(badge.issuer);
  const gotIssuer = issuerUrl && await getDoc(env, issuerUrl, report, 'issuer');
  if (!gotIssuer) { if (!issuerUrl) report.add('issuer', 'fail', 'check.no_issuer'); return; }
  const issuer = gotIssuer.doc;
  if (!hasType(issuer, 'Issuer', 'Profile') || issuer.id !== issuerUrl || !issuer.name) {
    report.add('issuer', 'fail', 'check.issuer_wrong', { url: issuerUrl });
    return;
  }
  report.facts.issuer = issuer;
  report.add('issuer', 'pass', 'check.issuer', { name: String(issuer.name), url: issuerUrl });
  if (!hosted) return;
  if (originAllowed(assertion.id, issuer) && hostOf(badge.id) === hostOf(issuer.id)) {
    report.add('origin', 'pass', 'check.origin', { host: hostOf(assertion.id) });
  } else {
    report.add('origin', 'fail', 'check.origin_mismatch', { host: hostOf(assertion.id), issuer: hostOf(issuer.id) });
  }
}

async function revocationList(report, env, url, assertionId) {
  const got = await getDoc(env, url, report, 'revocation');
  if (!got) return;
  const hit = asList(got.doc.revokedAssertions).find((e) => idOf(e) === assertionId || (e && e.uid && e.uid === assertionId));
  if (hit && (typeof hit === 'string' || hit.revoked !== false)) {
    const reason = (hit && hit.revocationReason) || '';
    report.facts.revocationReason = reason;
    report.add('revocation', 'fail', reason ? 'check.revoked_reason' : 'check.revoked', { reason }, 'revoked');
  } else {
    report.add('revocation', 'pass', 'check.not_revoked_list');
  }
}

async function importPem(pem) {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return crypto.subtle.importKey('spki', b64ToBytes(body), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
}

/** OB 2.0 signed badge: RS256 JWS whose key is the issuer's CryptographicKey (`verification.creator`). */
export async function verifyOb2Signed(report, env, jws) {
  const { header, payload, signingInput, signature } = decodeJws(jws);
  report.facts.assertion = payload;
  if (header.alg !== 'RS256') { report.add('signature', 'fail', 'check.alg', { alg: String(header.alg) }); return; }
  const creator = (payload.verification || {}).creator;
  const gotKey = creator && await getDoc(env, creator, report, 'key');
  if (!gotKey) { if (!creator) report.add('signature', 'fail', 'check.no_key'); return; }
  let ok = false;
  try { ok = await crypto.subtle.verify('RSASSA-PKCS1-v1_5', await importPem(gotKey.doc.publicKeyPem || ''), signature, enc.encode(signingInput)); } catch { ok = false; }
  if (!ok) { report.add('signature', 'fail', 'check.signature_bad'); return; }
  report.add('signature', 'pass', 'check.signature_ob2', { key: creator });
  await linkage(report, env, payload, { hosted: false });
  const issuer = report.facts.issuer;
  if (issuer && !asList(issuer.publicKey).map(idOf).includes(creator)) {
    report.add('key', 'fail', 'check.key_not_issuers', { key: creator });
  }
  checkDates(report, parseDate(payload.issuedOn), payload.expires ? parseDate(payload.expires) : null, env, 'ob2');
  const recipient = payload.recipient || {};
  if (recipient.identity) report.identities.push({ type: recipient.type, hashed: recipient.hashed, salt: recipient.salt || '', identity: recipient.identity });
  if (issuer && issuer.revocationList) await revocationList(report, env, issuer.revocationList, payload.id);
}

// ------------------------------------------------------------------ OB 3.0

/** did:web -> URL of its DID document; a DID naming this site's host resolves on this site. */
export function didWebUrl(did, here) {
  if (!/^did:web:[^:#?/]+/.test(did)) throw new VerifyError('not_did_web', { did });
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  const host = parts[0];
  const scheme = here && here.host === host ? here.protocol : 'https:';
  const path = parts.slice(1).map(encodeURIComponent);
  return `${scheme}//${host}/${path.length ? path.join('/') + '/did.json' : '.well-known/did.json'}`;
}

async function resolveKey(report, env, kid) {
  const did = kid.split('#')[0];
  let url;
  try { url = didWebUrl(did, env.here); } catch {
    report.add('signature', 'fail', 'check.kid_unsupported', { kid });
    return null;
  }
  const got = await getDoc(env, url, report, 'did');
  if (!got) return null;
  const doc = got.doc;
  const absolute = (id) => (id && id.startsWith('#') ? did + id : id);
  const method = asList(doc.verificationMethod).find((m) => m && absolute(m.id) === kid);
  const listed = asList(doc.assertionMethod).some((m) => absolute(idOf(m)) === kid);
  if (doc.id !== did || !method || !listed || !method.publicKeyJwk) {
    report.add('signature', 'fail', 'check.key_missing', { kid });
    return null;
  }
  if (method.publicKeyJwk.d) {
    report.add('signature', 'fail', 'check.key_private', { kid });
    return null;
  }
  return { jwk: method.publicKeyJwk, controller: method.controller || did, did };
}

async function rs256(jwk, signingInput, signature) {
  const key = await crypto.subtle.importKey('jwk', { kty: jwk.kty, n: jwk.n, e: jwk.e, alg: 'RS256', ext: true },
    { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['verify']);
  return crypto.subtle.verify('RSASSA-PKCS1-v1_5', key, signature, enc.encode(signingInput));
}

const issuerId = (credential) => idOf(credential.issuer);
const JWT_CLAIMS = ['iss', 'jti', 'nbf', 'exp', 'sub', 'iat', 'aud'];

/** The credential inside a VC-JWT payload: the `vc` claim (VC 1.1 style) or the payload minus JWT claims. */
export function credentialOf(payload) {
  if (payload.vc && typeof payload.vc === 'object') return payload.vc;
  return Object.fromEntries(Object.entries(payload).filter(([k]) => !JWT_CLAIMS.includes(k)));
}
const seconds = (date) => Math.floor(date.getTime() / 1000);

/** OB 3.0 VC-JWT: signature (RS256, did:web key), claims, validity period, status. */
export async function verifyJwt(report, env, jwt, { hostedJson = null } = {}) {
  let parts;
  try { parts = decodeJws(jwt.trim()); } catch { report.add('signature', 'fail', 'check.bad_jws'); return; }
  const { header, payload } = parts;
  const credential = credentialOf(payload);
  report.facts.credential = credential;
  if (header.alg !== 'RS256') { report.add('signature', 'fail', 'check.alg', { alg: String(header.alg) }); return; }
  if (!header.kid) { report.add('signature', 'fail', 'check.no_kid'); return; }
  const issuer = issuerId(credential);
  if (header.kid.split('#')[0] !== issuer) {
    report.add('signature', 'fail', 'check.kid_not_issuer', { kid: header.kid, issuer: String(issuer) });
    return;
  }
  const key = await resolveKey(report, env, header.kid);
  if (!key) return;
  let ok = false;
  try { ok = await rs256(key.jwk, parts.signingInput, parts.signature); } catch { ok = false; }
  if (!ok) { report.add('signature', 'fail', 'check.signature_bad'); return; }
  report.add('signature', 'pass', 'check.signature_jwt', { did: key.did });
  await ob3Checks(report, env, credential, payload);
  if (hostedJson) await compareHostedCredential(report, env, hostedJson, credential);
}

function stripProof(doc) {
  const { proof, ...rest } = doc || {};
  return rest;
}

async function compareHostedCredential(report, env, url, credential) {
  const got = await getDoc(env, url, report, 'credential');
  if (!got) return;
  const diff = differingKeys(stripProof(got.doc), stripProof(credential));
  if (diff.length) report.add('credential', 'fail', 'check.credential_differs', { fields: diff.join(', ') });
  else report.add('credential', 'pass', 'check.credential_matches', { url });
}

async function ob3Checks(report, env, credential, claims) {
  const issuer = issuerId(credential);
  const validFrom = parseDate(credential.validFrom || credential.issuanceDate);
  const validUntil = parseDate(credential.validUntil || credential.expirationDate);
  const problems = [];
  if (claims) {
    if (claims.iss !== undefined && claims.iss !== issuer) problems.push('iss');
    if (claims.jti !== undefined && claims.jti !== credential.id) problems.push('jti');
    if (claims.nbf !== undefined && (!validFrom || claims.nbf !== seconds(validFrom))) problems.push('nbf');
    if (claims.exp !== undefined && (!validUntil || claims.exp !== seconds(validUntil))) problems.push('exp');
    if (claims.sub !== undefined && claims.sub !== (credential.credentialSubject || {}).id) problems.push('sub');
    if (problems.length) report.add('claims', 'fail', 'check.claims_differ', { fields: problems.join(', ') });
    else report.add('claims', 'pass', 'check.claims');
  }
  if (!validFrom) report.add('issued', 'fail', 'check.bad_date', { field: 'validFrom' });
  if (!report.checks.some((c) => c.id === 'issued' || c.id === 'expiry')) checkDates(report, validFrom, validUntil, env, 'ob3');
  else if (validUntil && expiryState(validUntil, env.now(), env.soonDays) === 'expired'
           && !report.checks.some((c) => c.kind === 'expired')) {
    report.add('expiry', 'fail', 'check.expired', { date: validUntil.toISOString() }, 'expired');
  }
  const subject = credential.credentialSubject || {};
  for (const ident of asList(subject.identifier)) {
    if (ident && ident.identityHash) report.identities.push({ type: ident.identityType, hashed: ident.hashed, salt: ident.salt || '', identity: ident.identityHash });
  }
  if (!report.facts.badge && subject.achievement) report.facts.badge = subject.achievement;
  if (!report.facts.issuer && typeof credential.issuer === 'object') report.facts.issuer = credential.issuer;
  await statusChecks(report, env, credential);
}

async function gunzip(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** The bits of a BitstringStatusList `encodedList` (multibase `u` + base64url of GZIP). */
export async function decodeStatusList(encoded) {
  const text = String(encoded);
  return gunzip(b64urlToBytes(text.startsWith('u') ? text.slice(1) : text));
}

export function bitAt(bits, index) {
  return (bits[index >> 3] >> (7 - (index & 7))) & 1;
}

async function statusChecks(report, env, credential) {
  const entries = asList(credential.credentialStatus);
  for (const entry of entries) await statusEntry(report, env, credential, entry);
  // Badgekiln companions of a lone revocation entry (generator/statuslist.py): read when present.
  for (const entry of companionEntries(entries)) {
    const scratch = new Report();
    await statusEntry(scratch, env, credential, entry);
    if (scratch.checks.some((c) => c.msg === 'check.fetch_failed' || c.msg === 'check.fetch_status')) continue;
    report.checks.push(...scratch.checks);
    Object.assign(report.facts, scratch.facts);
  }
}

/** The suspension and 1EdTech lists a Badgekiln site publishes next to its revocation list. */
export function companionEntries(entries) {
  const [entry] = entries;
  const url = String((entry && entry.statusListCredential) || '');
  if (entries.length !== 1 || !hasType(entry, 'BitstringStatusListEntry') || entry.statusPurpose !== 'revocation'
    || !url.endsWith('/revocation.json')) return [];
  const folder = url.slice(0, -'revocation.json'.length);
  return [
    { type: 'BitstringStatusListEntry', statusPurpose: 'suspension', statusListIndex: entry.statusListIndex,
      statusListCredential: `${folder}suspension.json` },
    { type: '1EdTechRevocationList', id: `${folder}1edtech-revocations.json` },
  ];
}

async function statusEntry(report, env, credential, entry) {
  if (hasType(entry, 'BitstringStatusListEntry', 'StatusList2021Entry')) {
    await bitstringEntry(report, env, credential, entry);
  } else if (hasType(entry, '1EdTechRevocationList')) {
    const got = await getDoc(env, entry.id, report, 'status');
    if (!got) return;
    const hit = asList(got.doc.revokedCredential || got.doc.revokedCredentials).find((e) => e && e.id === credential.id && e.revoked !== false);
    if (hit) {
      report.facts.revocationReason = hit.revocationReason || '';
      report.add('status', 'fail', hit.revocationReason ? 'check.revoked_reason' : 'check.revoked', { reason: hit.revocationReason || '' }, 'revoked');
    } else report.add('status', 'pass', 'check.list_clear_1edtech');
  } else {
    report.add('status', 'warn', 'check.status_unknown', { type: String(asList(entry && entry.type).join(' ')) });
  }
}

async function bitstringEntry(report, env, credential, entry) {
  const url = entry.statusListCredential;
  const got = url && await getDoc(env, url, report, 'status', { text: true });
  if (!got) return;
  let list;
  const body = got.text.trim();
  try { list = isJws(body) ? (decodeJws(body).payload.vc || decodeJws(body).payload) : JSON.parse(body); } catch {
    report.add('status', 'fail', 'check.not_json', { url });
    return;
  }
  const subject = list.credentialSubject || {};
  const purpose = entry.statusPurpose;
  const index = Number.parseInt(entry.statusListIndex, 10);
  const listIssuer = idOf(list.issuer);
  if (!hasType(list, 'BitstringStatusListCredential', 'StatusList2021Credential') || subject.statusPurpose !== purpose
      || listIssuer !== issuerId(credential) || !Number.isInteger(index) || index < 0) {
    report.add('status', 'fail', 'check.status_wrong', { url });
    return;
  }
  if (credential.issuer && String(issuerId(credential)).startsWith('did:web:')) {
    try {
      if (hostOf(didWebUrl(String(issuerId(credential)).split('#')[0], env.here)) !== hostOf(got.url)) {
        report.add('status', 'fail', 'check.status_origin', { url });
        return;
      }
    } catch { /* not did:web: no origin rule to apply */ }
  }
  let bits;
  try { bits = await decodeStatusList(subject.encodedList); } catch {
    report.add('status', 'fail', 'check.status_wrong', { url });
    return;
  }
  if (index >= bits.length * 8) { report.add('status', 'fail', 'check.status_wrong', { url }); return; }
  if (bitAt(bits, index) === 1) {
    const kind = purpose === 'suspension' ? 'suspended' : 'revoked';
    report.add('status', 'fail', `check.status_${kind}`, { purpose }, kind);
  } else {
    report.add('status', 'pass', 'check.status_clear', { purpose, list: 'bitstring' });
  }
}

/** An OB 3.0 JSON credential (Data Integrity proof): compare with the issuer's hosted copy, then dates/status. */
export async function verifyOb3Json(report, env, credential) {
  report.facts.credential = credential;
  const id = credential.id;
  if (typeof id === 'string' && /^https?:/.test(id)) {
    const got = await getDoc(env, id, report, 'credential');
    if (got) {
      const diff = differingKeys(got.doc, credential);
      if (diff.length) report.add('credential', 'fail', 'check.credential_differs', { fields: diff.join(', ') });
      else report.add('credential', 'pass', 'check.credential_hosted', { host: hostOf(id) });
    }
  } else {
    report.add('credential', 'warn', 'check.proof_not_checked');
  }
  await ob3Checks(report, env, credential, null);
}

// ------------------------------------------------------------------ endorsements

/** An OB 2.0 hosted Endorsement: the endorser hosts it at its id, on its own site, unrevoked, in date. */
async function verifyOb2Endorsement(report, env, url, copy) {
  const got = await getDoc(env, url, report, 'hosted');
  if (!got) return;
  const hosted = got.doc;
  if (hosted.revoked === true) {
    report.add('revocation', 'fail', 'check.revoked', {}, 'revoked');
    return;
  }
  if (!hasType(hosted, 'Endorsement') || hosted.id !== url) {
    report.add('hosted', 'fail', 'check.hosted_wrong_id', { url, id: String(hosted.id || '') });
    return;
  }
  report.add('hosted', 'pass', 'check.hosted', { url, host: hostOf(url) });
  if (copy) {
    const diff = differingKeys(copy, hosted);
    if (diff.length) report.add('match', 'fail', 'check.copy_differs', { fields: diff.join(', ') });
    else report.add('match', 'pass', 'check.copy_matches');
  }
  const issuerUrl = idOf(hosted.issuer);
  const gotIssuer = issuerUrl && await getDoc(env, issuerUrl, report, 'issuer');
  if (!gotIssuer) { if (!issuerUrl) report.add('issuer', 'fail', 'check.no_issuer'); return; }
  if (!hasType(gotIssuer.doc, 'Issuer', 'Profile') || gotIssuer.doc.id !== issuerUrl) {
    report.add('issuer', 'fail', 'check.issuer_wrong', { url: issuerUrl });
    return;
  }
  report.add('issuer', 'pass', 'check.issuer', { name: String(gotIssuer.doc.name || ''), url: issuerUrl });
  if (hostOf(url) === hostOf(issuerUrl)) report.add('origin', 'pass', 'check.origin', { host: hostOf(url) });
  else report.add('origin', 'fail', 'check.origin_mismatch', { host: hostOf(url), issuer: hostOf(issuerUrl) });
  checkDates(report, parseDate(hosted.issuedOn), hosted.expires ? parseDate(hosted.expires) : null, env, 'ob2');
}

/**
 * One endorsement a page shows (`item` from pages.endorsement_checks), checked the way the
 * credential itself is: an OB 3.0 EndorsementCredential against the copy its endorser hosts
 * at its id (or its RS256 VC-JWT against the endorser's did:web key), its dates and the
 * endorser's status lists; an OB 2.0 Endorsement by hosted verification. Returns its report.
 */
export async function verifyEndorsement(env, item) {
  const report = new Report();
  if (item.version === 'ob2') await verifyOb2Endorsement(report, env, item.value, item.copy || null);
  else if (item.form === 'jws') await verifyJwt(report, env, item.value);
  else await verifyOb3Json(report, env, item.value);
  if (!report.checks.length) report.add('read', 'fail', 'check.nothing');
  return report;
}

// ------------------------------------------------------------------ entry points

async function resolveUrl(report, env, url) {
  let response;
  try { response = await env.fetch(url, { cache: 'no-store', credentials: 'omit' }); } catch {
    report.add('read', 'fail', 'check.fetch_failed', { url }, 'unreachable');
    return [];
  }
  if (!response.ok) { report.add('read', 'fail', 'check.fetch_status', { url, status: response.status }); return []; }
  const type = (response.headers.get('content-type') || '').toLowerCase();
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (type.includes('html')) {
    const doc = new DOMParser().parseFromString(dec.decode(bytes), 'text/html');
    const link = doc.querySelector('link[rel~="alternate"][type="application/ld+json"]');
    if (!link) { report.add('read', 'fail', 'check.no_alternate', { url }); return []; }
    return [{ version: 'ob2', form: 'url', value: new URL(link.getAttribute('href'), response.url || url).href, source: 'url' }];
  }
  const items = await itemsFromFile(url, bytes);
  // A URL that serves JSON is the hosted document itself: verify it as hosted, not as a copy.
  return items.map((it) => (it.form === 'json' && it.version === 'ob2' && it.value.id ? { ...it, form: 'url', value: it.value.id, copy: it.value } : it));
}

/** Verify a list of items (see `classify`); returns the report with checks, facts and verdict. */
export async function verifyItems(items, env) {
  const report = new Report();
  const queue = [...items];
  while (queue.length) {
    const item = queue.shift();
    if (item.form === 'url' && item.version === 'any') {
      queue.push(...await resolveUrl(report, env, item.value));
      continue;
    }
    if (item.version === 'ob2') {
      if (item.form === 'json') {
        if (!item.value.id || !/^https?:/.test(String(item.value.id))) {
          report.add('hosted', 'fail', 'check.no_hosted_id');
        } else {
          await verifyOb2(report, env, item.value.id, item.value);
        }
      } else if (item.form === 'url') {
        await verifyOb2(report, env, item.value, item.copy || null);
      } else if (item.form === 'jws') {
        await verifyOb2Signed(report, env, item.value);
      }
    } else if (item.version === 'ob3') {
      if (item.form === 'jws') await verifyJwt(report, env, item.value, { hostedJson: item.hostedJson || null });
      else if (item.form === 'json') await verifyOb3Json(report, env, item.value);
      else if (item.form === 'jwt-url') {
        const got = await getDoc(env, item.value, report, 'signature', { text: true });
        if (got) await verifyJwt(report, env, got.text, { hostedJson: item.hostedJson || null });
      }
    }
  }
  if (!report.checks.length) report.add('read', 'fail', 'check.nothing');
  return report;
}

/** Whether `email` is the recipient: sha256(trimmed lower-case email + salt), as the issuer hashed it. */
export async function emailMatches(identities, email) {
  const normal = String(email).trim().toLowerCase();
  if (!normal) return false;
  for (const ident of identities) {
    if (ident.type && !['email', 'emailAddress'].includes(ident.type)) continue;
    const stored = String(ident.identity).toLowerCase();
    if (ident.hashed === false || ident.hashed === 'false') {
      if (stored === normal) return true;
      continue;
    }
    const [alg, digest] = stored.includes('$') ? stored.split('$') : ['sha256', stored];
    if (alg !== 'sha256') continue;
    const computed = hex(await crypto.subtle.digest('SHA-256', enc.encode(normal + ident.salt)));
    if (computed === digest) return true;
  }
  return false;
}
