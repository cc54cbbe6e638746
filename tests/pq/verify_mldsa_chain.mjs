// Verifies ML-DSA certificate signatures with @noble/post-quantum, an implementation that
// shares no code with OpenSSL: two implementations agreeing is the point.
// usage: node verify_mldsa_chain.mjs LEAF.pem CA.pem
import { readFileSync } from 'node:fs';
import { ml_dsa44, ml_dsa65, ml_dsa87 } from '@noble/post-quantum/ml-dsa.js';

const OIDS = {
  '2.16.840.1.101.3.4.3.17': ['ML-DSA-44', ml_dsa44],
  '2.16.840.1.101.3.4.3.18': ['ML-DSA-65', ml_dsa65],
  '2.16.840.1.101.3.4.3.19': ['ML-DSA-87', ml_dsa87],
};

function pemToDer(text) {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END CERTIFICATE-----/.exec(text);
  if (!m) throw new Error('no certificate in PEM');
  return new Uint8Array(Buffer.from(m[1].replace(/\s+/g, ''), 'base64'));
}

// One DER element at `pos`: its tag, where its content starts and ends, and where it ends.
function element(buf, pos) {
  const tag = buf[pos];
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i];
    start += n;
  }
  return { tag, start, end: start + len, outerStart: pos };
}

function children(buf, el) {
  const out = [];
  for (let p = el.start; p < el.end;) {
    const c = element(buf, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oid(buf, el) {
  const b = buf.subarray(el.start, el.end);
  const parts = [Math.floor(b[0] / 40), b[0] % 40];
  let v = 0;
  for (let i = 1; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if (!(b[i] & 0x80)) { parts.push(v); v = 0; }
  }
  return parts.join('.');
}

function parse(der) {
  const cert = element(der, 0);
  const [tbs, sigAlg, sigValue] = children(der, cert);
  const tbsFields = children(der, tbs);
  const offset = tbsFields[0].tag === 0xa0 ? 1 : 0;  // explicit [0] version
  const spki = tbsFields[offset + 5];
  const [spkiAlg, spkiKey] = children(der, spki);
  const sigAlgFields = children(der, sigAlg);
  if (sigAlgFields.length !== 1) throw new Error('ML-DSA AlgorithmIdentifier must have no parameters (RFC 9881)');
  return {
    tbs: der.subarray(tbs.outerStart, tbs.end),
    sigAlg: oid(der, sigAlgFields[0]),
    signature: der.subarray(sigValue.start + 1, sigValue.end),  // skip unused-bits byte
    keyAlg: oid(der, children(der, spkiAlg)[0]),
    publicKey: der.subarray(spkiKey.start + 1, spkiKey.end),
  };
}

function check(name, cert, issuer) {
  const alg = OIDS[cert.sigAlg];
  if (!alg) throw new Error(`${name}: signature algorithm ${cert.sigAlg} is not ML-DSA`);
  if (OIDS[issuer.keyAlg]?.[0] !== alg[0]) throw new Error(`${name}: issuer key is not ${alg[0]}`);
  const ok = alg[1].verify(cert.signature, cert.tbs, issuer.publicKey);
  if (!ok) throw new Error(`${name}: ${alg[0]} signature does NOT verify`);
  // A tampered TBS must fail, or the check above proves nothing.
  const tampered = Uint8Array.from(cert.tbs);
  tampered[tampered.length - 1] ^= 1;
  if (alg[1].verify(cert.signature, tampered, issuer.publicKey)) {
    throw new Error(`${name}: a tampered certificate verified`);
  }
  console.log(`${name}: ${alg[0]} signature verifies with @noble/post-quantum`);
}

const [leafPath, caPath] = process.argv.slice(2);
const leaf = parse(pemToDer(readFileSync(leafPath, 'utf8')));
const ca = parse(pemToDer(readFileSync(caPath, 'utf8')));
check('CA (self-signed)', ca, ca);
check('leaf', leaf, ca);
