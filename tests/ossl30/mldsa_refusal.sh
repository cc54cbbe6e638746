#!/usr/bin/env bash
# Registered only when akamu is built against an OpenSSL without ML-DSA (< 3.5). Checks that
# such a build refuses ML-DSA clearly: one startup line naming the key type and the OpenSSL
# it needs, and badSignatureAlgorithm (listing what is supported) for an ML-DSA account JWS.
set -euo pipefail
AKAMU=${1:?usage: mldsa_refusal.sh path/to/akamu}
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$AKAMU" version | tee "$work/version.txt"
grep -q "ML-DSA unavailable" "$work/version.txt" || fail "akamu version does not report ML-DSA as unavailable"

# 1. An ML-DSA CA key type is refused at startup with one clear line.
port=$(free_port)
"$AKAMU" init -o "$work/mldsa.toml" --data-dir "$work/mldsa-data" --listen "127.0.0.1:$port" >/dev/null
sed -i 's/^key_type = "ec:P-256"/key_type = "ml-dsa-65"/' "$work/mldsa.toml"
grep -q '^key_type = "ml-dsa-65"' "$work/mldsa.toml" || fail "could not set ca.key_type in the config"
set +e
timeout 20 "$AKAMU" serve -c "$work/mldsa.toml" >"$work/mldsa.out" 2>"$work/mldsa.err"
rc=$?
set -e
[[ $rc -ne 0 && $rc -ne 124 ]] || fail "serve with an ML-DSA CA key on this OpenSSL exited with $rc"
[[ $(wc -l <"$work/mldsa.err") -eq 1 ]] || { cat "$work/mldsa.err"; fail "expected exactly one error line"; }
grep -q 'ml-dsa-65' "$work/mldsa.err" || fail "the error does not name the key type"
grep -q 'OpenSSL >= 3.5' "$work/mldsa.err" || fail "the error does not name the required OpenSSL"
[[ ! -e "$work/mldsa-data/ca.key" ]] || fail "a CA key was written despite the refusal"
echo "ok: $(cat "$work/mldsa.err")"

# 2. A classical server answers an ML-DSA account JWS with badSignatureAlgorithm.
port=$(free_port)
"$AKAMU" init -o "$work/ec.toml" --data-dir "$work/ec-data" --listen "127.0.0.1:$port" >/dev/null
"$AKAMU" serve -c "$work/ec.toml" >"$work/ec.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
  curl -fsS "$base/acme/directory" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "$base/acme/directory" >/dev/null || fail "server did not start: $(cat "$work/ec.log")"
python3 - "$base" <<'PY'
import base64, json, sys, urllib.request, urllib.error
base = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
nonce = urllib.request.urlopen(urllib.request.Request(base + "/acme/new-nonce", method="HEAD")).headers["Replay-Nonce"]
url = base + "/acme/new-account"
header = {"alg": "ML-DSA-65", "nonce": nonce, "url": url,
          "jwk": {"kty": "AKP", "alg": "ML-DSA-65", "pub": b64(bytes(1952))}}
body = json.dumps({"protected": b64(json.dumps(header).encode()),
                   "payload": b64(b'{"termsOfServiceAgreed":true}'),
                   "signature": b64(bytes(3309))}).encode()
req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/jose+json"})
try:
    urllib.request.urlopen(req)
    sys.exit("FAIL: the ML-DSA JWS was accepted")
except urllib.error.HTTPError as e:
    problem = json.loads(e.read())
    assert e.code == 400, f"status {e.code}"
    assert problem["type"] == "urn:ietf:params:acme:error:badSignatureAlgorithm", problem
    algs = problem.get("algorithms", [])
    assert "ES256" in algs and "EdDSA" in algs, algs
    assert not any(a.startswith("ML-DSA") for a in algs), algs
    print("ok: badSignatureAlgorithm, algorithms =", algs)
PY
echo "ossl30 ML-DSA refusal: OK"
