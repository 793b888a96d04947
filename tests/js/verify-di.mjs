#!/usr/bin/env node
// Independent check of Badgekiln's eddsa-rdfc-2022 proofs with Digital Bazaar's stack
// (jsonld.js in safe mode, rdf-canonize, jsonld-signatures), i.e. code we did not write.
// Offline: contexts come from the bundled generator/data/contexts files, the DID document
// from a local file, and the DID v1 context from the `did-context` npm package.
//
// usage: node verify-di.mjs --contexts DIR_OR_INDEX --did-doc did.json [--did-doc ...]
//                           [--allow-examples] [--fragment-keys] [--now ISO|valid-from]
//                           CREDENTIAL.json...
// --allow-examples serves the W3C examples context (test vectors only);
// --fragment-keys accepts verification methods of the form <controller>#z6Mk... (the key is
// the fragment, as in the OB 3.0 spec examples and did:key) by synthesising the controller
// document, the way the 1EdTech validator treats them.
// --now checks validFrom/validUntil at that time instead of the wall clock; `valid-from` uses
// each credential's own validFrom (so an expired credential's proof can still be checked).
// Prints one JSON line per credential: {"file", "verified", "error"}; exit 0 iff all verified.
import {readFileSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {parseArgs} from 'node:util';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import didContext from 'did-context';

const EXAMPLES_CONTEXT = 'https://www.w3.org/ns/credentials/examples/v2';

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

// url -> parsed context, from generator/data/contexts/index.json (url -> file name)
function loadContexts(dirOrIndex, allowExamples) {
  const index = statSync(dirOrIndex).isDirectory() ?
    join(dirOrIndex, 'index.json') : dirOrIndex;
  const contexts = new Map();
  for(const [url, file] of Object.entries(readJson(index))) {
    if(url !== EXAMPLES_CONTEXT || allowExamples) {
      contexts.set(url, readJson(join(dirname(index), file)));
    }
  }
  // jsonld-signatures processes the DID document, which uses the DID v1 context.
  contexts.set(didContext.CONTEXT_URL, didContext.CONTEXT);
  return contexts;
}

// did -> DID document
function loadDidDocuments(paths) {
  return new Map(paths.map(path => {
    const doc = readJson(path);
    return [doc.id, doc];
  }));
}

// For `<controller>#z6Mk...`: a controller document authorising that embedded key.
function addFragmentKeys(credential, didDocs) {
  const proofs = [credential.proof || []].flat();
  for(const {verificationMethod: id} of proofs) {
    const [controller, fragment] = String(id).split('#');
    if(!fragment?.startsWith('z6Mk') || didDocs.has(controller)) {
      continue;
    }
    didDocs.set(controller, {
      '@context': [didContext.CONTEXT_URL, 'https://w3id.org/security/multikey/v1'],
      id: controller,
      verificationMethod: [
        {id, type: 'Multikey', controller, publicKeyMultibase: fragment}
      ],
      assertionMethod: [id]
    });
  }
}

function makeDocumentLoader(contexts, didDocs) {
  return async url => {
    const found = (document) => ({contextUrl: null, documentUrl: url, document});
    if(contexts.has(url)) {
      return found(structuredClone(contexts.get(url)));
    }
    const [did, fragment] = url.split('#');
    const didDoc = didDocs.get(did);
    if(didDoc && fragment === undefined) {
      return found(structuredClone(didDoc));
    }
    const method = didDoc?.verificationMethod?.find(m => m.id === url);
    if(method) {
      return found({'@context': didDoc['@context'], ...structuredClone(method)});
    }
    throw new Error(`offline verifier: refusing to load ${url}`);
  };
}

function errorMessages(error) {
  if(!error) {
    return [];
  }
  const nested = [...(error.errors || []), ...(error.cause ? [error.cause] : [])];
  return [error.message || String(error), ...nested.flatMap(errorMessages)];
}

async function verifyFile(file, documentLoader, onCredential, now) {
  const credential = readJson(file);
  onCredential(credential);
  const result = await vc.verifyCredential({
    credential,
    ...(now === undefined ? {} :
      {now: now === 'valid-from' ? credential.validFrom : now}),
    suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
    documentLoader,
    // Status is not what this check is about; vc.js insists on a function when present.
    ...(credential.credentialStatus ? {checkStatus: async () => ({verified: true})} : {})
  });
  const messages = [
    ...errorMessages(result.error),
    ...(result.results || []).flatMap(r => errorMessages(r.error))
  ];
  return {
    file,
    verified: result.verified === true,
    error: result.verified ? null : [...new Set(messages)].join('; ') || 'not verified'
  };
}

async function main() {
  const {values, positionals} = parseArgs({
    allowPositionals: true,
    options: {
      contexts: {type: 'string'},
      'did-doc': {type: 'string', multiple: true, default: []},
      'allow-examples': {type: 'boolean', default: false},
      'fragment-keys': {type: 'boolean', default: false},
      now: {type: 'string'}
    }
  });
  if(!values.contexts || positionals.length === 0) {
    console.error('usage: node verify-di.mjs --contexts DIR_OR_INDEX ' +
      '[--did-doc did.json]... [--allow-examples] [--fragment-keys] CREDENTIAL.json...');
    return 2;
  }
  const didDocs = loadDidDocuments(values['did-doc']);
  const documentLoader = makeDocumentLoader(
    loadContexts(values.contexts, values['allow-examples']), didDocs);
  const onCredential = values['fragment-keys'] ?
    credential => addFragmentKeys(credential, didDocs) : () => {};
  let allVerified = true;
  for(const file of positionals) {
    let line;
    try {
      line = await verifyFile(file, documentLoader, onCredential, values.now);
    } catch(e) {
      line = {file, verified: false, error: errorMessages(e).join('; ')};
    }
    allVerified &&= line.verified;
    console.log(JSON.stringify(line));
  }
  return allVerified ? 0 : 1;
}

process.exitCode = await main();
