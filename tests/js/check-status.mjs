#!/usr/bin/env node
// Independent status check of Badgekiln OB 3.0 credentials with Digital Bazaar's
// @digitalbazaar/vc-bitstring-status-list (code we did not write): for each credential it
// verifies the credential's proof, fetches every BitstringStatusListEntry's status list
// credential from a built site folder, verifies that list credential's proof, checks that
// its issuer and statusPurpose match, decodes the list and reads the credential's bit.
// Offline: contexts from generator/data/contexts, the DID document from the site.
//
// usage: node check-status.mjs --contexts DIR --site SITE_DIR --base-url URL CREDENTIAL.json...
// Prints one JSON line per credential:
//   {"file", "verified", "statusVerified", "status": {"revocation": bool, "suspension": bool}, "error"}
// ("status" true = the bit is set: revoked / suspended). Exit 0 iff every check ran cleanly.
import {readFileSync, statSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {parseArgs} from 'node:util';

import * as vc from '@digitalbazaar/vc';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import didContext from 'did-context';

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function loadContexts(dir) {
  const index = statSync(dir).isDirectory() ? join(dir, 'index.json') : dir;
  const contexts = new Map();
  for(const [url, file] of Object.entries(readJson(index))) {
    contexts.set(url, readJson(join(dirname(index), file)));
  }
  contexts.set(didContext.CONTEXT_URL, didContext.CONTEXT);
  return contexts;
}

// Serves <base-url>/<path> from <site>/<path> (status lists, DID document), contexts from
// the bundled copies, DID URLs from the site's did.json; refuses everything else.
function makeDocumentLoader(contexts, site, baseUrl, didDoc) {
  return async url => {
    const found = document => ({contextUrl: null, documentUrl: url, document});
    if(contexts.has(url)) {
      return found(structuredClone(contexts.get(url)));
    }
    const [bare, fragment] = url.split('#');
    if(bare === didDoc.id) {
      if(fragment === undefined) {
        return found(structuredClone(didDoc));
      }
      const method = didDoc.verificationMethod.find(m => m.id === url);
      if(method) {
        return found({'@context': didDoc['@context'], ...structuredClone(method)});
      }
    }
    if(url.startsWith(baseUrl)) {
      return found(readJson(join(site, url.slice(baseUrl.length))));
    }
    throw new Error(`offline status checker: refusing to load ${url}`);
  };
}

function errorMessages(error) {
  if(!error) {
    return [];
  }
  const nested = [...(error.errors || []), ...(error.cause ? [error.cause] : [])];
  return [error.message || String(error), ...nested.flatMap(errorMessages)];
}

async function main() {
  const {values, positionals} = parseArgs({
    allowPositionals: true,
    options: {
      contexts: {type: 'string'},
      site: {type: 'string'},
      'base-url': {type: 'string'}
    }
  });
  if(!values.contexts || !values.site || !values['base-url'] || positionals.length === 0) {
    console.error('usage: node check-status.mjs --contexts DIR --site SITE --base-url URL CREDENTIAL.json...');
    return 2;
  }
  const didDoc = readJson(join(values.site, '.well-known', 'did.json'));
  const documentLoader = makeDocumentLoader(
    loadContexts(values.contexts), values.site, values['base-url'], didDoc);
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  let ok = true;
  for(const file of positionals) {
    const line = {file, verified: false, statusVerified: false, status: {}, error: null};
    try {
      const credential = readJson(file);
      let statusResult = null;
      const result = await vc.verifyCredential({
        credential, suite, documentLoader,
        checkStatus: async options => {
          statusResult = await checkStatus({...options, suite, documentLoader});
          return statusResult;
        }
      });
      line.verified = result.verified === true;
      line.statusVerified = statusResult?.verified === true;
      for(const r of statusResult?.results || []) {
        line.status[r.credentialStatus.statusPurpose] = r.status;
      }
      const messages = [...errorMessages(result.error), ...errorMessages(statusResult?.error)];
      line.error = messages.length ? [...new Set(messages)].join('; ') : null;
    } catch(e) {
      line.error = errorMessages(e).join('; ');
    }
    ok &&= line.statusVerified;
    console.log(JSON.stringify(line));
  }
  return ok ? 0 : 1;
}

process.exitCode = await main();
