// Baking in the browser: the badge image a recipient downloads, made from the class image and the
// award's published JSON, byte for byte what generator/bake/ makes (png.py, svg.py) from the same
// inputs. So a site need not publish a baked copy of the art for every award.
//
// The payload is canonical JSON (generator/canonical.dumps: sorted keys, no spaces, UTF-8), rebuilt
// from the fetched text: numbers keep Python's spelling (an int stays an int, a float is written as
// repr() writes it), keys sort by code point, strings escape as json.dumps(ensure_ascii=False) does.
// Anything the Python baker would refuse is refused here too (a BakeError), never baked differently.
// No dependencies, plain ES2020.

const enc = new TextEncoder();

export class BakeError extends Error {
  constructor(code, detail = '') {
    super(`${code}${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.detail = detail;
  }
}

// ------------------------------------------------------------------ canonical JSON

const JSON_TOKEN = /[ \t\n\r]*(?:("(?:[^"\\]|\\.)*")|(-?\d[\d.eE+-]*)|(true|false|null)|([[\]{}:,]))/y;

/** canonical.dumps() of the value that JSON text holds. */
export function canonicalJson(text) {
  JSON.parse(text); // refuse what is not JSON; the lexer below may then trust the text
  let pos = 0;
  const next = () => {
    JSON_TOKEN.lastIndex = pos;
    const token = JSON_TOKEN.exec(text);
    pos = JSON_TOKEN.lastIndex;
    return token;
  };
  const value = ([, string, number, literal, open]) => {
    if (string) return pyString(JSON.parse(string));
    if (number) return /^-?\d+$/.test(number) ? BigInt(number).toString() : pyFloat(Number(number));
    if (literal) return literal;
    const items = [];
    const members = new Map(); // a repeated key keeps its last value, as json.loads does
    for (let token = next(); token[4] !== (open === '[' ? ']' : '}'); token = next()) {
      if (token[4] === ',') continue;
      if (open === '[') {
        items.push(value(token));
      } else {
        next(); // the colon
        members.set(JSON.parse(token[1]), value(next()));
      }
    }
    if (open === '[') return `[${items.join(',')}]`;
    const keys = [...members.keys()].sort(byCodePoint);
    return `{${keys.map((k) => `${pyString(k)}:${members.get(k)}`).join(',')}}`;
  };
  return value(next());
}

/** json.dumps(s, ensure_ascii=False); a lone surrogate cannot be written as UTF-8, so Python refuses it. */
function pyString(s) {
  if (/\p{Cs}/u.test(s)) throw new BakeError('not_utf8', 'a string holds a lone surrogate');
  return JSON.stringify(s); // same escapes: \" \\ \b \f \n \r \t, other controls as \u00xx
}

/** repr() of a float: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
function pyFloat(x) {
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const point = Number(exponent) + 1; // |x| = 0.<digits> * 10^point
  let text;
  if (point > 16 || point < -3) {
    const e = point - 1;
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    text = `${digits[0]}${fraction}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  } else if (point <= 0) {
    text = `0.${'0'.repeat(-point)}${digits}`;
  } else if (point >= digits.length) {
    text = `${digits}${'0'.repeat(point - digits.length)}.0`;
  } else {
    text = `${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  return (x < 0 ? '-' : '') + text;
}

/** Python's str order (code points), not JavaScript's (UTF-16 units): they differ above U+FFFF. */
function byCodePoint(a, b) {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d) return d;
  }
  return x.length - y.length;
}

// ------------------------------------------------------------------ PNG (png.py)

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PNG_KEYWORDS = { ob2: 'openbadges', ob3: 'openbadgecredential' };
const TEXT_CHUNKS = ['iTXt', 'tEXt', 'zTXt'];
const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes) {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

/** The chunks from IHDR to IEND, each as its raw bytes, with png.read_chunks()'s checks. */
function pngChunks(image) {
  if (!PNG_SIGNATURE.every((b, i) => image[i] === b)) throw new BakeError('not_png');
  const view = new DataView(image.buffer, image.byteOffset, image.byteLength);
  const chunks = [];
  let pos = PNG_SIGNATURE.length;
  while (!chunks.length || chunks[chunks.length - 1].type !== 'IEND') {
    if (pos + 12 > image.length) throw new BakeError('damaged_png', `truncated at byte ${pos}`);
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...image.subarray(pos + 4, pos + 8));
    const end = pos + 12 + length;
    if (!/^[A-Za-z]{4}$/.test(type) || length > 0x7fffffff || end > image.length
        || crc32(image.subarray(pos + 4, end - 4)) !== view.getUint32(end - 4)
        || (!chunks.length && type !== 'IHDR')) throw new BakeError('damaged_png', `chunk at byte ${pos}`);
    chunks.push({ type, bytes: image.subarray(pos, end), data: image.subarray(pos + 8, end - 4) });
    pos = end;
  }
  if (pos !== image.length) throw new BakeError('damaged_png', 'bytes after IEND');
  return chunks;
}

/** png.bake(): `payload` in an uncompressed iTXt chunk before IEND, replacing one with the same keyword. */
export function bakePng(image, payload, version) {
  const keyword = enc.encode(PNG_KEYWORDS[version]);
  const sameKeyword = ({ type, data }) => TEXT_CHUNKS.includes(type) && data.indexOf(0) === keyword.length
    && keyword.every((b, i) => data[i] === b);
  const chunks = pngChunks(image).filter((c) => !sameKeyword(c)).map((c) => c.bytes);
  const body = concat([enc.encode('iTXt'), keyword, new Uint8Array(5), enc.encode(payload)]);
  const head = new Uint8Array(4);
  const crc = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, body.length - 4);
  new DataView(crc.buffer).setUint32(0, crc32(body));
  chunks.splice(chunks.length - 1, 0, concat([head, body, crc]));
  return concat([Uint8Array.from(PNG_SIGNATURE), ...chunks]);
}

// ------------------------------------------------------------------ SVG (svg.py)

const SVG_NAMESPACES = { ob2: 'http://openbadges.org', ob3: 'https://purl.imsglobal.org/ob/v3p0' };
const SVG_ELEMENTS = { ob2: 'assertion', ob3: 'credential' };
const WS = '[ \\t\\n\\r\\f\\v]'; // Python's \s on bytes: ASCII whitespace only
const NAME = (also) => `[^ \\t\\n\\r\\f\\v${also}]+`;
const XML_TOKEN = new RegExp([
  '(?<comment><!--.*?-->)', '(?<cdata><!\\[CDATA\\[.*?\\]\\]>)', '(?<pi><\\?.*?\\?>)',
  `(?<doctype><!DOCTYPE(?:[^\\[>"']|"[^"]*"|'[^']*')*(?:\\[.*?\\]${WS}*)?>)`,
  `(?<end></${NAME('>')}${WS}*>)`,
  `(?<start><(?<name>${NAME('/>!?')})(?:${WS}+${NAME('=/>')}${WS}*=${WS}*(?:"[^"]*"|'[^']*'))*${WS}*(?<empty>/?)>)`,
  '(?<text>[^<]+)',
].join('|'), 'sy');
const XML_ATTR = new RegExp(`(${NAME('=/>')})${WS}*=${WS}*(?:"([^"]*)"|'([^']*)')`, 'g');

/** An attribute's value as an XML parser reads it: references resolved, whitespace normalised. */
function attrValue(raw) {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return raw.replace(/[\t\n\r]/g, ' ').replace(/&(#x[0-9a-fA-F]+|#[0-9]+|\w+);/g, (_, ref) => (ref[0] === '#'
    ? String.fromCodePoint(ref[1] === 'x' ? parseInt(ref.slice(2), 16) : Number(ref.slice(1))) : named[ref]));
}

/** Every element in document order: {start, tagEnd, end, name, tag: '{namespace}local'}. */
function elements(text) {
  const found = [];
  const open = [];
  let pos = 0;
  while (pos < text.length) {
    XML_TOKEN.lastIndex = pos;
    const m = XML_TOKEN.exec(text);
    if (!m) throw new BakeError('not_svg', `cannot read the SVG at character ${pos}`);
    const g = m.groups;
    if (g.start) {
      const scope = { ...(open.length ? open[open.length - 1].scope : {}) };
      for (const [, attr, dq, sq] of g.start.matchAll(XML_ATTR)) {
        if (attr === 'xmlns' || attr.startsWith('xmlns:')) scope[attr.slice(6)] = attrValue(dq ?? sq);
      }
      const [prefix, local] = g.name.includes(':') ? g.name.split(':', 2) : ['', g.name];
      const element = { start: m.index, tagEnd: XML_TOKEN.lastIndex, end: XML_TOKEN.lastIndex, name: g.name,
        tag: `{${scope[prefix] ?? ''}}${local}`, scope };
      found.push(element);
      if (!g.empty) open.push(element);
    } else if (g.end) {
      if (!open.length) throw new BakeError('not_svg', `an unmatched end tag at character ${pos}`);
      open.pop().end = XML_TOKEN.lastIndex;
    }
    pos = XML_TOKEN.lastIndex;
  }
  if (!found.length || open.length) throw new BakeError('not_svg', 'the SVG is incomplete');
  return found;
}

/** xmlns:openbadges on the root start tag, unless it is there; refused if bound to another URI. */
function declareNamespace(startTag, version) {
  const uri = SVG_NAMESPACES[version];
  for (const [, attr, dq, sq] of startTag.matchAll(XML_ATTR)) {
    if (attr !== 'xmlns:openbadges') continue;
    if ((dq ?? sq) === uri) return startTag;
    throw new BakeError('namespace', 'the SVG binds the openbadges prefix to another namespace');
  }
  const at = startTag.search(new RegExp(`${WS}*/?>$`));
  return `${startTag.slice(0, at)} xmlns:openbadges="${uri}"${startTag.slice(at)}`;
}

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
const quote = (value) => `"${value.replace(/[&<>"]/g, (c) => ENTITIES[c])}"`;

function badgeElement(payload, version, verify) {
  // U+FFFE and U+FFFF may stand in JSON text but not in XML: the Python baker refuses them too.
  if (/[\ufffe\uffff]/.test(payload)) throw new BakeError('not_xml', 'the badge data holds a character XML forbids');
  const name = `openbadges:${SVG_ELEMENTS[version]}`;
  const body = `<![CDATA[${payload.replace(/]]>/g, ']]\\u003e')}]]>`;
  if (version === 'ob3') {
    if (verify !== null) throw new BakeError('verify', 'an OB 3.0 credential takes no verify');
    return `<${name}>${body}</${name}>`;
  }
  if (!verify || /(?! )[\p{C}\p{Z}]/u.test(verify)) throw new BakeError('verify', 'verify must be a printable URL');
  return `<${name} verify=${quote(verify)}>${body}</${name}>`;
}

/** svg.bake() for a JSON payload: the badge element as the root's first child, replacing any of `version`. */
export function bakeSvg(image, payload, version, verify = null) {
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(image);
  } catch {
    throw new BakeError('not_utf8', 'the SVG is not UTF-8');
  }
  const declaration = /^\ufeff?<\?xml[^]*?\?>/.exec(text);
  const encoding = declaration && new RegExp(`${WS}encoding${WS}*=${WS}*["']([^"']*)["']`).exec(declaration[0]);
  if (encoding && !['utf-8', 'utf8'].includes(encoding[1].toLowerCase())) throw new BakeError('not_utf8', encoding[1]);
  const all = elements(text);
  const root = all[0];
  const wanted = `{${SVG_NAMESPACES[version]}}${SVG_ELEMENTS[version]}`;
  let startTag = text.slice(root.start, root.tagEnd);
  let closing = '';
  if (root.tagEnd === root.end) { // <svg .../>: open it, and close it after our element
    startTag = startTag.replace(new RegExp(`${WS}*/>$`), '>');
    closing = `</${root.name}>`;
  }
  const pieces = [text.slice(0, root.start), declareNamespace(startTag, version),
    badgeElement(payload, version, verify), closing];
  let at = root.tagEnd;
  for (const el of all.filter((e) => e.tag === wanted)) { // cut old badge elements (nested ones go with their parent)
    if (el.start < at) continue;
    pieces.push(text.slice(at, el.start));
    at = el.end;
  }
  pieces.push(text.slice(at));
  const baked = pieces.join('');
  // expat reads only ASCII under the name "utf8" (Python's fallback takes single-byte codecs only)
  if (encoding && encoding[1].toLowerCase() === 'utf8' && /[^\0-\x7f]/.test(text + baked)) {
    throw new BakeError('not_utf8', 'an SVG declared "utf8" must be ASCII');
  }
  return enc.encode(baked);
}

// ------------------------------------------------------------------ the award page's downloads

/** The payloads of an award's JSON texts; a withdrawn award (the revoked stub is served) has none. */
export function awardPayloads(assertionText, credentialText = null) {
  const object = (text) => {
    const value = JSON.parse(text);
    if (!value || typeof value !== 'object' || Array.isArray(value)) throw new BakeError('not_badge');
    return value;
  };
  const assertion = object(assertionText);
  if (assertion.revoked === true) throw new BakeError('revoked');
  if (credentialText !== null) object(credentialText);
  return { assertion: canonicalJson(assertionText), id: assertion.id,
    credential: credentialText === null ? null : canonicalJson(credentialText) };
}

/** One download of the award page: `kind` is png, svg or credential-svg; `baking` is the page's
 *  config (image URLs, JSON URLs, file name stem); `fetch` is window.fetch. Returns {name, type, bytes}. */
export async function bakeDownload(kind, baking, fetch) {
  const get = async (url) => {
    let response;
    try { response = await fetch(url, { cache: 'no-cache' }); } catch { throw new BakeError('fetch', url); }
    if (!response.ok) throw new BakeError('fetch', url);
    return response;
  };
  const text = async (url) => (url ? (await get(url)).text() : null);
  const bytes = async (url) => new Uint8Array(await (await get(url)).arrayBuffer());
  const p = awardPayloads(await text(baking.assertion), await text(kind === 'svg' ? null : baking.credential));
  if (kind === 'png') {
    let png = bakePng(await bytes(baking.png), p.assertion, 'ob2');
    if (p.credential) png = bakePng(png, p.credential, 'ob3');
    return { name: `${baking.stem}.png`, type: 'image/png', bytes: png };
  }
  const svg = await bytes(baking.image);
  const type = 'image/svg+xml';
  if (kind === 'svg') return { name: `${baking.stem}.svg`, type, bytes: bakeSvg(svg, p.assertion, 'ob2', p.id) };
  if (!p.credential) throw new BakeError('no_credential');
  return { name: `${baking.stem}-credential.svg`, type, bytes: bakeSvg(svg, p.credential, 'ob3') };
}
