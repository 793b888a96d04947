#!/usr/bin/env node
// Verify Badgekiln VC-JWTs the way a browser does: WebCrypto (RSASSA-PKCS1-v1_5, SHA-256)
// with the JWK that the did:web document lists under the token's `kid`. Code we did not
// write (node's WebCrypto), same calls as an in-page verifier.
//
// usage: node verify-jwt.mjs --did-doc did.json TOKEN.jwt...
// Prints one JSON line per token: {"file", "verified", "error"}; exit 0 iff all verified.
import {readFileSync} from 'node:fs';
import {parseArgs} from 'node:util';

const {webcrypto} = await import('node:crypto');

async function verifyToken(file, didDoc) {
  const token = readFileSync(file, 'utf8');
  if(token !== token.trim()) {
    return {file, verified: false, error: 'token has surrounding whitespace'};
  }
  const [h, p, s] = token.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8'));
  if(header.alg !== 'RS256' || header.typ !== 'JWT') {
    return {file, verified: false, error: `unexpected header ${JSON.stringify(header)}`};
  }
  if(!didDoc.assertionMethod.includes(header.kid)) {
    return {file, verified: false, error: `${header.kid} is not an assertionMethod`};
  }
  const method = didDoc.verificationMethod.find(m => m.id === header.kid);
  if(!method || method.type !== 'JsonWebKey' || method.controller !== didDoc.id) {
    return {file, verified: false, error: `${header.kid} is not a JsonWebKey of ${didDoc.id}`};
  }
  const key = await webcrypto.subtle.importKey(
    'jwk', method.publicKeyJwk, {name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256'}, false, ['verify']);
  const ok = await webcrypto.subtle.verify(
    'RSASSA-PKCS1-v1_5', key, Buffer.from(s, 'base64url'), new TextEncoder().encode(`${h}.${p}`));
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
  if(ok && payload.iss !== didDoc.id) {
    return {file, verified: false, error: `iss ${payload.iss} is not ${didDoc.id}`};
  }
  return {file, verified: ok, error: ok ? null : 'signature does not verify'};
}

const {values, positionals} = parseArgs({
  allowPositionals: true, options: {'did-doc': {type: 'string'}}
});
const didDoc = JSON.parse(readFileSync(values['did-doc'], 'utf8'));
let all = true;
for(const file of positionals) {
  let line;
  try {
    line = await verifyToken(file, didDoc);
  } catch(e) {
    line = {file, verified: false, error: String(e)};
  }
  all &&= line.verified;
  console.log(JSON.stringify(line));
}
process.exitCode = all ? 0 : 1;
