#!/usr/bin/env bash
# smsrd as a process: configuration check modes, then ES1/ES4 over HTTPS with mutual TLS on a free loopback port:
# RegisterEIS (keys re-sealed from the EUM transport key), duplicate registration, GetEIS filtered to the MNO's
# own profiles without key material, a requester that claims another OID, UpdatePolicyRules, malformed SOAP
# (XXE) refused, no client certificate refused, SIGTERM, and --db-check on the store it left.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${TOP_SRCDIR:-$here/../..}
smsrd=${SMSRD:-../smsr/smsrd}
data=$top/tests/smsr/data
run=$(mktemp -d /tmp/smsrd_test.XXXXXX)
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }

cleanup() {
	[ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
"$top/scripts/gen-test-pki" "$run/pki" || { echo "gen-test-pki failed"; exit 1; }
subj() { sed -n "s/^$1 //p" "$run/pki/subjects"; }
tk=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$tk" | xxd -r -p >"$run/transport.key"
chmod 600 "$run/transport.key"
mkdir -p "$run/db"
es4=$(freeport)
mo=$(freeport)
cat >"$run/smsrd.conf" <<CONF
[smsr]
entity-id = 1.3.6.1.4.1.99900
[db]
path = $run/db
map-size = 64M
[keystore]
master-key-file = $run/pki/smsr-master.key
transport-key-file = $run/transport.key
ci-cert-file = $run/pki/ci.crt
[es4]
listen = 127.0.0.1:$es4
tls-cert = $run/pki/smsr-tls.crt
tls-key = $run/pki/smsr-tls.key
tls-ca = $run/pki/tls-ca.crt
wsdl-dir = $top/smsr/wsdl
schema-dir = $top/../shared/gsma-schema
[kannel]
mo-listen = 127.0.0.1:$mo
[log]
timestamps = no
[requester mno1]
entity-id = 1.3.6.1.4.1.99901
role = mno
tls-subject = $(subj mno1)
[requester mno2]
entity-id = 1.3.6.1.4.1.99902
role = mno
tls-subject = $(subj mno2)
[requester eum]
entity-id = 1.3.6.1.4.1.99920
role = eum
tls-subject = $(subj eum1-client)
CONF

# check modes
check "--check-config" "$smsrd" --check-config -c "$run/smsrd.conf" >/dev/null
"$smsrd" --dump-config -c "$run/smsrd.conf" >"$run/dump.conf"
check "--dump-config output parses" "$smsrd" --check-config -c "$run/dump.conf" >/dev/null
printf '[smsr]\nentity-id = not-an-oid\n' >"$run/bad.conf"
out=$("$smsrd" --check-config -c "$run/bad.conf" 2>&1)
check "bad config exits 1 with the reason" test $? -eq 1 -a -n "$(grep -F "is not an OID" <<<"$out")"
"$smsrd" --bogus >/dev/null 2>&1
check "unknown option exits 2" test $? -eq 2

"$smsrd" -c "$run/smsrd.conf" >"$run/smsrd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do
	ss -ltn | grep -q "127.0.0.1:$es4 " && break
	sleep 0.1
done
check "smsrd listens" test -n "$(ss -Hltn sport = :"$es4")"

post() { # client-cert file, request file -> response body on stdout; HTTP code in $run/code
	curl -s -o - -w '%{http_code}' --cacert "$run/pki/tls-ca.crt" ${1:+--cert "$run/pki/$1.crt" --key "$run/pki/$1.key"} \
		-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$2" "https://127.0.0.1:$es4/es4" \
		>"$run/resp" 2>/dev/null
	echo $? >"$run/curl_rc"
	tail -c 3 "$run/resp" >"$run/code"
	head -c -3 "$run/resp"
}

# the EUM protects key values with the transport key (AES-128-ECB, PKCS#7)
reg=$run/register.xml
cp "$data/es1_register_eis.xml" "$reg"
for v in $(grep -o 'value="[0-9A-Fa-f]*"' "$data/es1_register_eis.xml" | sort -u | sed 's/value="//; s/"//'); do
	enc=$(printf '%s' "${v:0:32}" | xxd -r -p | openssl enc -aes-128-ecb -K "$tk" -nosalt | od -An -tx1 | tr -d ' \n')
	sed -i "s/value=\"$v\"/value=\"$enc\"/" "$reg"
done
r=$(post eum1-client "$reg")
check "unsigned EIS refused (8.6 / 6.1)" grep -q "<rps:Subject>8.6</rps:Subject><rps:Reason>6.1</rps:Reason>" <<<"$(tr -d ' \n' <<<"$r" | sed 's/></></g')"
"${EIS_SIGN:-smsr/eis-sign}" -B -o "$run/bad_ecasd.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$reg"
r=$(post eum1-client "$run/bad_ecasd.xml")
check "ECASD certificate not signed by the EUM refused (8.6 / 6.1, Ecasd)" grep -q "<rps:Subject>8.6</rps:Subject><rps:Reason>6.1</rps:Reason><rps:SubjectIdentifier>Eis/EumSignedInfo/Ecasd</rps:SubjectIdentifier>" <<<"$(tr -d ' \n' <<<"$r" | sed 's/></></g')"
"${EIS_SIGN:-smsr/eis-sign}" -i "$run/pki/eum.key" "$run/pki/eum.crt" "$reg"
check "EIS signed by the EUM" test $? -eq 0
r=$(post eum1-client "$reg")
check "RegisterEIS succeeds" grep -q "EXECUTED_SUCCESS" <<<"$r"
r=$(post eum1-client "$reg")
check "second RegisterEIS: EID in use (8.1.1 / 3.3)" grep -q "<rps:Subject>8.1.1</rps:Subject><rps:Reason>3.3</rps:Reason>" <<<"$(tr -d ' \n' <<<"$r" | sed 's/></></g')"

r=$(post mno1 "$data/es4_get_eis.xml")
check "GetEIS by the owner" grep -q "EXECUTED_SUCCESS" <<<"$r"
check "GetEIS shows the MNO's own profile" grep -q "8933010000000000010" <<<"$r"
check "GetEIS hides another MNO's profile" test -z "$(grep -o 8944000000000000018 <<<"$r")"
check "GetEIS carries no key material" test -z "$(grep -o KeyComponents <<<"$r")"
r=$(post mno2 "$data/es4_get_eis.xml")
check "a requester claiming another OID is refused" grep -q "FAILED" <<<"$r"
r=$(post mno1 "$data/es4_update_policy_rules.xml")
check "UpdatePolicyRules by the owner" grep -q "EXECUTED_SUCCESS" <<<"$r"
r=$(post mno1 "$data/es4_get_eis.xml")
check "the new POL2 rule is in the EIS" grep -q "Not-Allowed\|Auto-Delete" <<<"$r"
sed '/wsa:ReplyTo/d' "$data/es4_enable_profile.xml" >"$run/enable.xml"
r=$(post mno1 "$run/enable.xml")
check "async request without any callback endpoint refused at once" grep -q "no usable wsa:ReplyTo" <<<"$r"
r=$(post mno1 "$data/bad_xxe.xml")
check "XXE refused with a fault" test "$(cat "$run/code")" = 400 -a -n "$(grep -o 'env:Fault\|:Fault' <<<"$r")"
post "" "$data/es4_get_eis.xml" >/dev/null
check "no client certificate: handshake refused" test "$(cat "$run/curl_rc")" != 0

get() { # path -> body on stdout, code in $run/code
	curl -s --path-as-is -o "$run/get" -w '%{http_code}' --cacert "$run/pki/tls-ca.crt" --cert "$run/pki/mno1.crt" \
		--key "$run/pki/mno1.key" "https://127.0.0.1:$es4$1" >"$run/code"
	cat "$run/get"
}
r=$(get /wsdl/smsr-es4.wsdl)
check "WSDL served with our address" test "$(cat "$run/code")" = 200 -a -n "$(grep -o "127.0.0.1:$es4" <<<"$r")"
r=$(get "/es4?wsdl")
check "?wsdl" grep -q "ES4-EnableProfile" <<<"$r"
get /wsdl/../../../etc/passwd >/dev/null
check "no path traversal" test "$(cat "$run/code")" = 404
if [ -d "$top/../shared/gsma-schema" ]; then
	get /wsdl/gsma-schema/xsd/euicc.request.ES4.xsd >/dev/null
	check "GSMA XSDs served beneath the WSDL" test "$(cat "$run/code")" = 200
else
	echo "NOTICE: ../shared/gsma-schema absent: serving the GSMA XSDs not checked"
fi

kill -TERM "$PID"
wait "$PID"
check "SIGTERM: clean exit" test $? -eq 0
PID=
check "log lines carry the transaction" grep -q "DSOAP <info> eum-batch-42-0001: ES1-RegisterEIS from 1.3.6.1.4.1.99920: EXECUTED_SUCCESS" "$run/smsrd.log"
out=$("$smsrd" --db-check -c "$run/smsrd.conf")
check "--db-check after the run" grep -q "consistent" <<<"$out"
[ $fail -eq 0 ] || { echo "--- smsrd log"; tail -30 "$run/smsrd.log"; }
echo "smsrd_test.sh: $pass checks passed, $fail failed"
[ $fail -eq 0 ]
