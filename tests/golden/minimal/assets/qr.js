// QR Code encoder (ISO/IEC 18004:2015) for the certificate's link, drawn by the page itself.
//
// Fixed choices, the same as segno.make(text, mode="byte", encoding="utf-8", error="m",
// micro=False, mask=0, boost_error=False): one UTF-8 byte-mode segment without ECI, error
// correction level M, the smallest version 1..40 that fits, mask pattern 0. One difference: after
// the terminator, segno adds a zero byte when the bits already end on a codeword boundary
// (heuer/segno#123); this follows 7.4.10 and goes straight to the pad codewords.
//
//   qrMatrix(text) -> rows of booleans (true = dark), without quiet zone
//   qrSvg(text)    -> '<svg ... class="qr-code" aria-hidden="true"><path .../></svg>' with a
//                     2-module quiet zone, the shape of segno's svg_inline(scale=1, border=2,
//                     omitsize=True, svgclass="qr-code", lineclass=None, dark="#111111")

// Error correction level M (Table 7 and Table 9): format bits, and per version 1..40 the
// error correction codewords per block and the number of blocks.
const LEVEL_M_BITS = 0b00;
const EC_PER_BLOCK = [10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26,
  26, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28];
const BLOCKS = [1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16,
  17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33, 35, 37, 38, 40, 43, 45, 47, 49];
// Mask pattern 0 (7.8.2, Table 10): invert where (i + j) mod 2 = 0, i the row and j the column.
const MASK = 0;
const masked = (x, y) => (x + y) % 2 === 0;

// ------------------------------------------------------------------ symbol size (6.1, 7.1)

const sizeOf = (version) => 17 + 4 * version;

// Alignment pattern centre coordinates (6.3.6, Annex E): 6, then evenly spaced back from size - 7.
function alignmentPositions(version) {
  if (version === 1) return [];
  const count = Math.floor(version / 7) + 2;
  const step = Math.floor((version * 8 + count * 3 + 5) / (count * 4 - 4)) * 2;
  const positions = [6];
  for (let pos = sizeOf(version) - 7; positions.length < count; pos -= step) positions.splice(1, 0, pos);
  return positions;
}

// Codewords in the symbol: modules left after function patterns and version/format info, / 8 (Table 1).
function totalCodewords(version) {
  let modules = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const count = Math.floor(version / 7) + 2;
    modules -= (25 * count - 10) * count - 55;
    if (version >= 7) modules -= 36;
  }
  return Math.floor(modules / 8);
}

const dataCodewords = (version) => totalCodewords(version) - EC_PER_BLOCK[version - 1] * BLOCKS[version - 1];

// ------------------------------------------------------------------ data encoding (7.4)

// Byte mode (7.4.5): mode indicator 0100, character count (8 bits in versions 1-9, 16 after,
// Table 3), the bytes; then the terminator, zero bits to a byte boundary and the pad codewords
// 0xEC 0x11 up to the version's data capacity (7.4.9, 7.4.10).
function encodeData(bytes) {
  let version = 1;
  const countBits = (v) => (v <= 9 ? 8 : 16);
  while (4 + countBits(version) + 8 * bytes.length > 8 * dataCodewords(version)) {
    if (++version > 40) {
      throw new RangeError(`qr: ${bytes.length} bytes is too long for a QR code at level M (at most 2331 bytes)`);
    }
  }
  const capacity = 8 * dataCodewords(version);
  const bits = [];
  const put = (value, length) => { for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1); };
  put(0b0100, 4);
  put(bytes.length, countBits(version));
  for (const b of bytes) put(b, 8);
  put(0, Math.min(4, capacity - bits.length));
  put(0, (8 - (bits.length % 8)) % 8);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) put(pad, 8);
  const codewords = [];
  for (let i = 0; i < bits.length; i += 8) codewords.push(parseInt(bits.slice(i, i + 8).join(''), 2));
  return { version, codewords };
}

// ------------------------------------------------------------------ Reed-Solomon over GF(256) (7.5.2)

// GF(2^8) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), as exp/log tables.
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
for (let i = 0, x = 1; i < 255; i++, x = (x << 1) ^ (x & 0x80 ? 0x11d : 0)) {
  EXP[i] = x;
  LOG[x] = i;
}
for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255];
const mul = (a, b) => (a && b ? EXP[LOG[a] + LOG[b]] : 0);

// Generator polynomial (x - a^0)(x - a^1)...(x - a^(n-1)), coefficients highest first without the leading 1 (Annex A).
function generator(degree) {
  let poly = [1];
  for (let i = 0; i < degree; i++) {
    const next = new Array(poly.length + 1).fill(0);
    poly.forEach((c, j) => { next[j] ^= c; next[j + 1] ^= mul(c, EXP[i]); });
    poly = next;
  }
  return poly.slice(1);
}

// Error correction codewords: the remainder of data(x) * x^n divided by the generator.
function remainder(data, gen) {
  const rem = new Array(gen.length).fill(0);
  for (const byte of data) {
    const factor = byte ^ rem.shift();
    rem.push(0);
    gen.forEach((g, i) => { rem[i] ^= mul(g, factor); });
  }
  return rem;
}

// ------------------------------------------------------------------ block interleaving (7.6)

// Split the data into blocks (the shorter ones first, Table 9), add each block's error
// correction codewords, then take the data codewords column by column, then the EC codewords.
function interleave(version, data) {
  const count = BLOCKS[version - 1];
  const ecLength = EC_PER_BLOCK[version - 1];
  const gen = generator(ecLength);
  const shortLength = Math.floor(data.length / count);
  const longBlocks = data.length % count;
  const blocks = [];
  for (let b = 0, start = 0; b < count; b++) {
    const length = shortLength + (b >= count - longBlocks ? 1 : 0);
    const block = data.slice(start, start + length);
    blocks.push({ data: block, ec: remainder(block, gen) });
    start += length;
  }
  const out = [];
  for (let i = 0; i <= shortLength; i++) for (const b of blocks) if (i < b.data.length) out.push(b.data[i]);
  for (let i = 0; i < ecLength; i++) for (const b of blocks) out.push(b.ec[i]);
  return out;
}

// ------------------------------------------------------------------ BCH codes (7.9, 7.10)

// The remainder of value * x^bits divided by the generator polynomial poly (degree bits).
function bch(value, poly, bits) {
  let rem = value << bits;
  for (let i = 31 - Math.clz32(rem); i >= bits; i--) if ((rem >>> i) & 1) rem ^= poly << (i - bits);
  return rem;
}

// Format information (7.9.1): level and mask (5 bits), BCH(15,5) with 0x537, XOR mask 0x5412.
const formatBits = (level, mask) => {
  const data = (level << 3) | mask;
  return ((data << 10) | bch(data, 0x537, 10)) ^ 0x5412;
};

// Version information (7.10, versions 7 and up): version (6 bits), BCH(18,6) with 0x1F25.
const versionBits = (version) => (version << 12) | bch(version, 0x1f25, 12);

// ------------------------------------------------------------------ the matrix

class Matrix {
  constructor(version) {
    this.size = sizeOf(version);
    this.dark = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
    this.reserved = Array.from({ length: this.size }, () => new Array(this.size).fill(false));
  }

  // x is the column, y the row; every module set here is a function module, left out of masking.
  set(x, y, dark) {
    this.dark[y][x] = Boolean(dark);
    this.reserved[y][x] = true;
  }

  // Function patterns (6.3): finders with separators, timing, alignment, the dark module.
  drawFunctionPatterns(version) {
    const n = this.size;
    for (let i = 0; i < n; i++) {  // timing patterns (6.3.5): row 6 and column 6
      this.set(i, 6, i % 2 === 0);
      this.set(6, i, i % 2 === 0);
    }
    for (const [cx, cy] of [[3, 3], [n - 4, 3], [3, n - 4]]) {  // finders (6.3.3) and separators (6.3.4)
      for (let dy = -4; dy <= 4; dy++) {
        for (let dx = -4; dx <= 4; dx++) {
          const x = cx + dx, y = cy + dy, ring = Math.max(Math.abs(dx), Math.abs(dy));
          if (x >= 0 && x < n && y >= 0 && y < n) this.set(x, y, ring !== 2 && ring !== 4);
        }
      }
    }
    const centres = alignmentPositions(version);  // alignment patterns (6.3.6), not over a finder
    const last = centres.length - 1;
    centres.forEach((cy, i) => centres.forEach((cx, j) => {
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) this.set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }
    }));
    this.drawFormat();
    if (version >= 7) this.drawVersion(version);
  }

  // Format information (7.9.1, Figure 25): bit 0 is the least significant, two copies.
  drawFormat() {
    const n = this.size;
    const bits = formatBits(LEVEL_M_BITS, MASK);
    const bit = (i) => (bits >>> i) & 1;
    for (let i = 0; i <= 5; i++) this.set(8, i, bit(i));
    this.set(8, 7, bit(6));
    this.set(8, 8, bit(7));
    this.set(7, 8, bit(8));
    for (let i = 9; i < 15; i++) this.set(14 - i, 8, bit(i));
    for (let i = 0; i < 8; i++) this.set(n - 1 - i, 8, bit(i));
    for (let i = 8; i < 15; i++) this.set(8, n - 15 + i, bit(i));
    this.set(8, n - 8, true);  // the dark module (7.9.1, Figure 25)
  }

  // Version information (7.10, Figure 27): 6 x 3 blocks above the bottom-left and left of the top-right finder.
  drawVersion(version) {
    const bits = versionBits(version);
    for (let i = 0; i < 18; i++) {
      const bit = (bits >>> i) & 1, a = this.size - 11 + (i % 3), b = Math.floor(i / 3);
      this.set(a, b, bit);
      this.set(b, a, bit);
    }
  }

  // Data placement (7.7.3): two-module columns from the right, zigzagging up then down,
  // skipping the vertical timing column and function modules; remainder bits stay light.
  placeCodewords(codewords) {
    const n = this.size;
    let i = 0;
    for (let right = n - 1; right >= 1; right -= 2) {
      if (right === 6) right = 5;
      const upward = ((right + 1) & 2) === 0;
      for (let step = 0; step < n; step++) {
        const y = upward ? n - 1 - step : step;
        for (const x of [right, right - 1]) {
          if (this.reserved[y][x]) continue;
          if (i < codewords.length * 8) this.dark[y][x] = ((codewords[i >>> 3] >>> (7 - (i & 7))) & 1) === 1;
          i++;
        }
      }
    }
  }

  // Masking (7.8.2): the mask applies to the encoding region only, never to function patterns.
  applyMask() {
    for (let y = 0; y < this.size; y++) {
      for (let x = 0; x < this.size; x++) if (!this.reserved[y][x] && masked(x, y)) this.dark[y][x] = !this.dark[y][x];
    }
  }
}

// ------------------------------------------------------------------ the exports

/** The QR code for `text` (UTF-8, byte mode, level M, mask 0) as rows of booleans, true = dark. */
export function qrMatrix(text) {
  if (typeof text !== 'string') throw new TypeError(`qr: expected a string, got ${text === null ? 'null' : typeof text}`);
  const { version, codewords } = encodeData(new TextEncoder().encode(text));
  const matrix = new Matrix(version);
  matrix.drawFunctionPatterns(version);
  matrix.placeCodewords(interleave(version, codewords));
  matrix.applyMask();
  return matrix.dark;
}

/** The QR code for `text` as an inline SVG: one stroked path of horizontal runs, 2-module quiet zone. */
export function qrSvg(text) {
  const rows = qrMatrix(text);
  const border = 2;
  const width = rows.length + 2 * border;
  let d = '', px = 0, py = 0;  // segno's path: absolute first move, then moves relative to the last run's end
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) {
      if (!row[x]) continue;
      const start = x;
      while (x < row.length && row[x]) x++;
      const x1 = start + border, x2 = x + border, yc = y + border + 0.5;
      d += `${d ? 'm' : 'M'}${x1 - px} ${yc - py}h${x2 - x1}`;
      px = x2;
      py = yc;
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${width}" class="qr-code" aria-hidden="true">`
    + `<path stroke="#111" d="${d}"/></svg>`;  // #111111, shortened as segno writes it
}
