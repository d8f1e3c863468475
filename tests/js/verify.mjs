// Run a credential through the verifiers wallets use and print what they conclude, as one JSON line.
//
//   node verify.mjs verifier-core|digitalbazaar < {"credential": {...}}
//
// verifier-core   @digitalcredentials/verifier-core (VerifierPlus, Learner Credential Wallet): its own
//                 document loader, did:web resolver and status checker, exactly as the wallet runs them.
// digitalbazaar   @digitalbazaar/vc verifyCredential + @digitalbazaar/vc-bitstring-status-list checkStatus,
//                 with eddsa-rdfc-2022 and eddsa-jcs-2022 and a document loader written here.
//
// OFFLINE. Every fetch either library makes goes through the `fetch` below: JSON-LD contexts and the
// OB 3.0 JSON Schema come from Puente's bundled copies (node/jsonld/contexts, node/issuance/schemas);
// http(s)://127.0.0.1:<port>/... (the test's node: DID documents, status lists) goes to that node over
// plain HTTP (did:web always means https; the test node speaks http); anything else is refused, so a
// library that tries the internet fails the test instead of reaching it. Nothing is written to disk.

import {readFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, '..', '..');
const CONTEXTS = join(REPO, 'node', 'jsonld', 'contexts');
const OB3_SCHEMA = join(REPO, 'node', 'issuance', 'schemas', 'ob_v3p0_achievementcredential.json');
// The URL verifier-core validates an OB 3.0 / VC 2.0 OpenBadgeCredential against (dist/schemaCheck.js).
const OB3_SCHEMA_URLS = [
  'https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json',
];
const LOCAL_HOSTS = new Set(['127.0.0.1']);

function bundled() {
  const documents = new Map();
  const index = JSON.parse(readFileSync(join(CONTEXTS, 'index.json'), 'utf8'));
  for(const [url, file] of Object.entries(index)) {
    documents.set(url, JSON.parse(readFileSync(join(CONTEXTS, file), 'utf8')));
  }
  const schema = JSON.parse(readFileSync(OB3_SCHEMA, 'utf8'));
  for(const url of OB3_SCHEMA_URLS) {
    // served under the URL asked for, so the schema's own $id does not send ajv elsewhere
    documents.set(url, {...schema, $id: url});
  }
  return documents;
}

const BUNDLED = bundled();
const refused = [];
const realFetch = globalThis.fetch;

function local(url) {
  const parsed = new URL(url);
  if(!LOCAL_HOSTS.has(parsed.hostname) || !['http:', 'https:'].includes(parsed.protocol)) {
    return null;
  }
  parsed.protocol = 'http:';
  return parsed.toString();
}

globalThis.fetch = async function offlineFetch(input, init) {
  const url = typeof input === 'string' ? input : (input instanceof URL ? input.toString() : input.url);
  if(BUNDLED.has(url)) {
    return new Response(JSON.stringify(BUNDLED.get(url)), {
      status: 200, headers: {'content-type': 'application/ld+json'}
    });
  }
  const target = local(url);
  if(target === null) {
    refused.push(url);
    throw new TypeError(`offline test: refused to fetch ${url}`);
  }
  if(typeof input === 'string' || input instanceof URL) {
    return realFetch(target, init);
  }
  return realFetch(target, {method: input.method, headers: input.headers, signal: input.signal, ...init});
};

async function fetchJson(url) {
  const response = await globalThis.fetch(url, {headers: {accept: 'application/ld+json, application/json'}});
  if(!response.ok) {
    throw new Error(`NotFoundError: GET ${url} answered ${response.status}`);
  }
  return response.json();
}

function didWebUrl(did) {
  // did:web:host%3Aport:a:b -> https://host:port/a/b/did.json; did:web:host -> /.well-known/did.json
  const [host, ...path] = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  return `https://${host}/${path.length ? path.join('/') : '.well-known'}/did.json`;
}

async function digitalBazaarLoader() {
  const {default: didContext} = await import('did-context');
  const statics = new Map(BUNDLED);
  statics.set(didContext.CONTEXT_URL, didContext.CONTEXT);
  return async function documentLoader(url) {
    if(statics.has(url)) {
      return {contextUrl: null, documentUrl: url, document: statics.get(url)};
    }
    if(url.startsWith('did:web:')) {
      const [did, fragment] = url.split('#');
      const didDocument = await fetchJson(didWebUrl(did));
      if(!fragment) {
        return {contextUrl: null, documentUrl: url, document: didDocument};
      }
      const method = (didDocument.verificationMethod || []).find(
        vm => vm.id === url || vm.id === `#${fragment}`);
      if(!method) {
        throw new Error(`NotFoundError: ${url} is not in its DID document`);
      }
      return {
        contextUrl: null, documentUrl: url,
        document: {'@context': 'https://w3id.org/security/multikey/v1', ...method, id: url}
      };
    }
    if(url.startsWith('http://') || url.startsWith('https://')) {
      return {contextUrl: null, documentUrl: url, document: await fetchJson(url)};
    }
    throw new Error(`NotFoundError: no document for ${url}`);
  };
}

async function runDigitalBazaar(credential) {
  const vc = await import('@digitalbazaar/vc');
  const {DataIntegrityProof} = await import('@digitalbazaar/data-integrity');
  const {cryptosuite: rdfc} = await import('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
  const {createVerifyCryptosuite} = await import('@digitalbazaar/eddsa-jcs-2022-cryptosuite');
  const jcs = createVerifyCryptosuite();
  const {checkStatus} = await import('@digitalbazaar/vc-bitstring-status-list');
  const documentLoader = await digitalBazaarLoader();
  const suite = [new DataIntegrityProof({cryptosuite: rdfc}), new DataIntegrityProof({cryptosuite: jcs})];
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  const status = result.statusResult || {};
  return {
    verifier: 'digitalbazaar',
    verified: result.verified,
    proof: (result.results || []).map(r => r.verified),
    status: {
      // whether the status check itself ran (list fetched, verified, decoded); since 2.0 NOT whether a bit is set
      verified: status.verified ?? null,
      // per entry: its purpose, whether it was checked, and its bit (true: set, i.e. revoked/suspended)
      entries: (status.results || []).map(r => ({
        purpose: r.credentialStatus && r.credentialStatus.statusPurpose, verified: r.verified, status: r.status
      })),
      error: status.error ? String(status.error.message || status.error) : null
    },
    error: result.error ? String(result.error.message || result.error) : null
  };
}

async function runVerifierCore(credential) {
  const {verifyCredential} = await import('@digitalcredentials/verifier-core');
  // No known registries: the registered_issuer step then reports "not registered" without any fetch.
  const result = await verifyCredential({credential, knownDIDRegistries: []});
  const log = Object.fromEntries((result.log || []).map(step => [step.id, 'valid' in step ? step.valid : step.error]));
  const schema = (result.additionalInformation || []).find(entry => entry.id === 'schema_check');
  return {
    verifier: 'verifier-core',
    log,
    errors: (result.errors || []).map(e => ({name: e.name, message: e.message})),
    schema: schema ? (Array.isArray(schema.results) ? schema.results.map(r => ({
      schema: r.schema, valid: r.result.valid, errors: (r.result.errors || []).map(e => `${e.instancePath} ${e.message}`)
    })) : schema.results) : null
  };
}

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

const RUNNERS = {'verifier-core': runVerifierCore, digitalbazaar: runDigitalBazaar};

async function main() {
  const runner = RUNNERS[process.argv[2]];
  if(!runner) {
    process.stderr.write(`usage: node verify.mjs ${Object.keys(RUNNERS).join('|')} < {"credential": ...}\n`);
    process.exit(2);
  }
  const {credential} = await readStdin();
  const out = await runner(credential);
  out.refused = refused;  // URLs a library tried to reach outside 127.0.0.1 and the bundled documents
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch(error => {
  process.stderr.write(`${error && error.stack || error}\n`);
  process.exit(1);
});
