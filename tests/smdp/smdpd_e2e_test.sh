#!/usr/bin/env bash
# The whole download: an MNO calls ES2 DownloadProfile(EnableProfile=true) on smdpd over mutual TLS; smdpd drives
# ES3 over the CURVE ZeroMQ link to smsrd, which carries ES5/ES8 as SCP80 SMS through REAL Kannel to the euicc-sim
# fleet (ECASD key establishment, SCP03t profile loading, enable). Checks the ES2 callback, the EIS, the pool,
# and the failure branches: a CERT.ECASD.ECKA the SM-DP cannot verify, refused CERT.DP.ECDSA, wrong receipt, SCP03t
# MAC error, memory full (each ends FAILED
# with the ISD-P deleted, no orphan on the card or in the EIS, the ICCID back in the pool), ICCID in use, an
# expired ValidityPeriod, and smdpd or smsrd killed (-9) in the middle of a download.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${TOP_SRCDIR:-$here/../..}
smsrd=${SMSRD:-../smsr/smsrd}
smdpd=${SMDPD:-../smdp/smdpd}
sctl=${SMSR_CTL:-../smsr/smsr-ctl}
dctl=${SMDP_CTL:-../smdp/smdp-ctl}
sim=${EUICC_SIM:-euicc-sim/euicc-sim}
import=${FLEET_IMPORT:-smsr/fleet-import}
gen=${FLEET_EIS_XML:-smsr/fleet-eis-xml}
data=$top/tests/smsr/data
run=$(mktemp -d /tmp/smdpd_e2e.XXXXXX)
seed=dl$$
mno=1.3.6.1.4.1.99999.20
eum=1.3.6.1.4.1.99999.30
smsr_id=1.3.6.1.4.1.99999.10
smdp_id=1.3.6.1.4.1.99999.40
N=${SMDP_E2E_FLEET:-109}
POOL=140
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }

cleanup() {
	local p
	for p in ${PID:-} ${DPID:-} ${SIM:-} ${SINK:-}; do kill "$p" 2>/dev/null; done
	"$top/tests/kannel/kannel-down" "$run/kannel" >/dev/null 2>&1
	for p in ${PID:-} ${DPID:-} ${SIM:-} ${SINK:-}; do wait "$p" 2>/dev/null; done
	if [ "$fail" != 0 ] || [ -n "${KEEP:-}" ]; then echo "logs in $run"; else rm -rf "$run"; fi
}
trap cleanup EXIT
. "$top/tests/smdp/lib.sh"
sgen=$gen simport=$import

smdp_setup || exit 1
grep -o '<[a-z]*:*Eid>[0-9A-Fa-f]*<' "$run/fleet.xml" | sed 's/.*>\([0-9A-Fa-f]*\)</\1/' | awk '!seen[$0]++' >"$run/eids"
# card 2: the ECASD refuses CERT.DP.ECDSA; 3: wrong receipt; 4: SCP03t MAC error; 5: memory full
# the last eUICC of the EIS is not in the simulated fleet: a meter out of coverage
"$sim" --kannel "127.0.0.1:$KANNEL_FAKE_PORT" --fleet "$((N - 1))" --seed "$seed" --duration 600 --notif-delay 300 \
	--ci-cert "$run/pki/ci.crt" --fault ecasd@2 --fault receipt@3 --fault mac@4 --fault memory@5 --verbose \
	--stats-file "$run/sim.stats" >"$run/sim.log" 2>&1 &
SIM=$!
python3 "$top/tests/smsr/cb_sink.py" "$cb" "$run/callbacks" 600 "$run/pki/smsr-tls.crt" "$run/pki/smsr-tls.key" \
	"$run/pki/tls-ca.crt" &
SINK=$!
check "smsrd starts" start_smsrd "$smsrd" "$run/smsrd.conf" "$run/smsrd.log"
check "smdpd starts" smdpd_up

es2req() { # template fcid eid [enable] [validity]
	sed -e "s#EntityId=1.3.6.1.4.1.99901#EntityId=$mno#" -e "s#<rps:FunctionCallIdentifier>[^<]*#<rps:FunctionCallIdentifier>$2#" \
		-e "s#<rps:Eid>[^<]*#<rps:Eid>$3#" -e "s#1.3.6.1.4.1.99900#$smsr_id#" -e '/wsa:ReplyTo/d' \
		-e "s#<rps:EnableProfile>true#<rps:EnableProfile>${4:-true}#" -e "s#<rps:ValidityPeriod>3600#<rps:ValidityPeriod>${5:-3600}#" \
		-e "s#MessageID>[^?]*?#MessageID>//$mno/urn:uuid:$2?#" "$data/$1" >"$run/req.xml"
}
post2() {
	curl -s -o "$run/resp" -w '%{http_code}' --cacert "$run/pki/tls-ca.crt" --cert "$run/pki/mno1.crt" \
		--key "$run/pki/mno1.key" -H 'Content-Type: application/soap+xml; charset=utf-8' \
		--data-binary @"$run/req.xml" "https://127.0.0.1:$es2/es2" >"$run/code"
	cat "$run/resp"
}
post4() { # ES4 to smsrd, as the MNO
	curl -s -o "$run/resp4" --cacert "$run/pki/tls-ca.crt" --cert "$run/pki/mno1.crt" --key "$run/pki/mno1.key" \
		-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$run/req4.xml" \
		"https://127.0.0.1:$es4/es4"
	tr -d '\n' <"$run/resp4"
}
eis_of() { # eid -> the MNO's view of the EIS on stdout
	sed -e "s#EntityId=1.3.6.1.4.1.99901#EntityId=$mno#" -e "s#<rps:Eid>[^<]*#<rps:Eid>$1#" -e '/wsa:ReplyTo/d' \
		"$data/es4_get_eis.xml" >"$run/req4.xml"
	post4
}
wait_cb() { # pattern seconds
	for _ in $(seq $(($2 * 10))); do
		grep -aq "$1" "$run/callbacks" 2>/dev/null && return 0 # one callback per line
		sleep 0.1
	done
	return 1
}
dl_result() { # fcid -> the callback of that DownloadProfile (one line)
	grep -a "ES2-DownloadProfileResponse" "$run/callbacks" | grep -a "$1" | tail -1
}
pool() { "$dctl" -c "$run/smdpd.conf" pool status --type M2M-16K; }

# 1. the download on card 0, enabled
es2req es2_download_profile.xml dl-0 "$eid0"
r=$(post2)
check "DownloadProfile accepted (202)" test "$(cat "$run/code")" = 202
check "DownloadProfile callback EXECUTED_SUCCESS" wait_cb "dl-0.*ES2-DownloadProfileResponse.*EXECUTED_SUCCESS" 240
iccid=$(dl_result dl-0 | grep -o '<rps:Iccid>[0-9]*' | head -1 | sed 's/.*>//')
check "the callback names the ICCID ($iccid)" test -n "$iccid"
e=$(eis_of "$eid0")
check "EIS: the new profile is Enabled" grep -q "$iccid</rps:Iccid>.*<rps:State>Enabled" <<<"$e"
check "EIS: owned by the MNO and this SM-DP" grep -q "$iccid</rps:Iccid>.*$smdp_id" <<<"$e"
check "pool: one ICCID used" grep -q "1 used" <<<"$(pool)"
check "ES3 HandleProfileEnabledNotification relayed to the MNO as ES2" \
	wait_cb "ES2-HandleProfileEnabledNotification.*$iccid" 30
check "the card installed the profile" grep -q "profile ICCID $iccid installed" "$run/sim.log"
# the other ES2 functions, relayed over ES3: GetEIS (sync), DisableProfile and DeleteProfile (callbacks)
sed -e "s#EntityId=1.3.6.1.4.1.99901#EntityId=$mno#" -e "s#<rps:Eid>[^<]*#<rps:Eid>$eid0#" -e "s#1.3.6.1.4.1.99900#$smsr_id#" \
	-e '/wsa:ReplyTo/d' "$data/es2_get_eis.xml" >"$run/req.xml"
r=$(post2)
check "ES2 GetEIS relayed: the MNO sees the downloaded profile" grep -q "$iccid</rps:Iccid>" <<<"$(tr -d '\n' <<<"$r")"
# another MNO cannot act on this MNO's profile through the SM-DP
es2req es2_delete_profile.xml es2-steal "$eid0"
sed -i -e "s#<rps:Iccid>[^<]*#<rps:Iccid>$iccid#" -e "s#EntityId=$mno#EntityId=1.3.6.1.4.1.99999.21#" "$run/req.xml"
curl -s -o /dev/null --cacert "$run/pki/tls-ca.crt" --cert "$run/pki/mno2.crt" --key "$run/pki/mno2.key" \
	-H 'Content-Type: application/soap+xml; charset=utf-8' --data-binary @"$run/req.xml" "https://127.0.0.1:$es2/es2"
check "another MNO's DeleteProfile: FAILED 8.2.1/1.2" \
	wait_cb "es2-steal.*ES2-DeleteProfileResponse.*FAILED.*8.2.1.*1.2" 60
check "another MNO's DeleteProfile: the profile is still there" grep -q "$iccid" <<<"$(eis_of "$eid0")"
# a template without the placeholders personalisation needs is refused at import
printf '\xA0\x0C\x83\x0A\x98\x00\x00\x00\x00\x00\x00\x00\x00\xF0\xAA\x00' >"$run/bare.der"
"$dctl" -c "$run/smdpd.conf" profile import --mno "$mno" --type BARE "$run/bare.der" >/dev/null 2>&1
check "a template without placeholders refused at import (exit 1)" test $? = 1
es2req es2_delete_profile.xml es2-dis "$eid0"
sed -i -e 's#ES2-DeleteProfile#ES2-DisableProfile#g' -e "s#<rps:Iccid>[^<]*#<rps:Iccid>$iccid#" "$run/req.xml"
python3 - "$run/req.xml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
# DisableProfileRequest: Eid, Smsr-id, Iccid (euicc.request.ES2.xsd)
m = re.search(r"(\s*<rps:Iccid>[^<]*</rps:Iccid>)(\s*<rps:Smsr-id>[^<]*</rps:Smsr-id>)", s)
s = s[:m.start()] + m.group(2) + m.group(1) + s[m.end():]
open(p, "w").write(s)
PY
r=$(post2)
check "ES2 DisableProfile accepted" test "$(cat "$run/code")" = 202
check "ES2 DisableProfile callback EXECUTED_SUCCESS" wait_cb "es2-dis.*ES2-DisableProfileResponse.*EXECUTED_SUCCESS" 120
es2req es2_delete_profile.xml es2-del "$eid0"
sed -i "s#<rps:Iccid>[^<]*#<rps:Iccid>$iccid#" "$run/req.xml"
r=$(post2)
check "ES2 DeleteProfile callback EXECUTED_SUCCESS" wait_cb "es2-del.*ES2-DeleteProfileResponse.*EXECUTED_SUCCESS" 120
check "the deleted profile is gone from the EIS" test -z "$(grep -o "$iccid" <<<"$(eis_of "$eid0")")"
check "ES2 HandleProfileDeletedNotification to the MNO" wait_cb "ES2-HandleProfileDeletedNotification.*$iccid" 30

# the same FunctionCallIdentifier again: accepted, no second download
r=$(post2)
check "retry of the same DownloadProfile: 202" test "$(cat "$run/code")" = 202

# 2. the failure branches: FAILED, ISD-P deleted, nothing left in the EIS, the ICCID free again
for k in 2:ecasd 3:receipt 4:mac 5:memory; do
	i=${k%%:*} what=${k#*:}
	eid=$(eval echo "\$eid$i")
	es2req es2_download_profile.xml "dl-$what" "$eid"
	r=$(post2)
	check "$what: accepted" test "$(cat "$run/code")" = 202
	check "$what: DownloadProfile FAILED" wait_cb "dl-$what.*ES2-DownloadProfileResponse.*FAILED" 240
	e=$(eis_of "$eid")
	check "$what: no ISD-P of ours left in the EIS" test -z "$(grep -o "$smdp_id" <<<"$e")"
done
check "pool: only the successful ICCID used" grep -q "1 used" <<<"$(pool)"
check "smdpd logged the ISD-P deletions" test "$(grep -c 'deleting the ISD-P' "$run/smdpd.log")" -ge 3

# an eUICC whose CERT.ECASD.ECKA the SM-DP cannot verify: its EUM (another one, also under the CI) is not the one
# smdpd trusts. Refused before any ISD-P is made: FAILED 8.6/6.1, nothing in the EIS, the ICCID free again
openssl ecparam -name prime256v1 -genkey -noout -out "$run/eum2.key" 2>/dev/null
openssl req -new -key "$run/eum2.key" -subj "/O=m2m-sm test/CN=Test EUM 2" -out "$run/eum2.csr" 2>/dev/null
printf 'basicConstraints=critical,CA:true\nkeyUsage=critical,digitalSignature,keyCertSign\n' >"$run/eum2.ext"
openssl x509 -req -in "$run/eum2.csr" -CA "$run/pki/ci.crt" -CAkey "$run/pki/ci.key" -CAcreateserial \
	-out "$run/eum2.crt" -days 30 -sha256 -extfile "$run/eum2.ext" 2>/dev/null
"$gen" -o "$run/eis2.xml" -f 200 "$run/eum2.key" "$run/eum2.crt" "$run/transport.key" "$seed" 1 "$mno" \
	1.3.6.1.4.1.99999.31 "$smsr_id" >/dev/null 2>&1
out=$("$sctl" -c "$run/smsrd.conf" eis import --any-eum "$run/eis2.xml" 2>&1)
check "eUICC of a second EUM registered at the SM-SR" grep -q "imported=1 " <<<"$out"
eid2x=$(grep -o '<[a-z]*:*Eid>[0-9A-Fa-f]*<' "$run/eis2.xml" | head -1 | sed 's/.*>\([0-9A-Fa-f]*\)</\1/')
es2req es2_download_profile.xml dl-badecasd "$eid2x"
r=$(post2)
check "bad ECASD certificate: accepted" test "$(cat "$run/code")" = 202
check "bad ECASD certificate: FAILED 8.6/6.1" wait_cb "dl-badecasd.*ES2-DownloadProfileResponse.*FAILED.*8.6.*6.1" 60
check "bad ECASD certificate: refused before CreateISDP" \
	grep -q "CERT.ECASD.ECKA refused" "$run/smdpd.log"
check "bad ECASD certificate: nothing of ours in the EIS" \
	test -z "$(grep -o "$smdp_id" <<<"$(eis_of "$eid2x")")"

# 3. an ICCID already used, and an expired ValidityPeriod
es2req es2_download_profile.xml dl-used "$eid1"
sed -i "s#<rps:EnableProfile>#<rps:Iccid>$iccid</rps:Iccid><rps:EnableProfile>#" "$run/req.xml"
r=$(post2)
check "ICCID in use refused at once (8.2.1/3.3)" grep -q "FAILED.*8.2.1.*3.3" <<<"$(tr -d '\n' <<<"$r")"

# an expired ValidityPeriod on a meter out of coverage: EXPIRED, the CreateISDP it was waiting for withdrawn or
# failed, nothing left in the EIS, the ICCID back in the pool
eidx=$(sed -n "${N}p" "$run/eids")
es2req es2_download_profile.xml dl-expired "$eidx" true 2
r=$(post2)
check "short ValidityPeriod: accepted" test "$(cat "$run/code")" = 202
check "short ValidityPeriod: DownloadProfile EXPIRED" wait_cb "dl-expired.*ES2-DownloadProfileResponse.*EXPIRED" 180
for _ in $(seq 100); do grep -q "order [0-9]* ES2-DownloadProfile: CLEANUP -> CALLBACK" "$run/smdpd.log" && break; sleep 0.1; done
check "short ValidityPeriod: no ISD-P of ours in the EIS" test -z "$(grep -o "$smdp_id" <<<"$(eis_of "$eidx")")"
check "short ValidityPeriod: the ICCID is free again" grep -q " 0 reserved" <<<"$(pool)"

# 100 meters at once (eUICCs 7..106): every download and enable succeeds
t0=$(date +%s)
for i in $(seq 7 106); do
	eid=$(sed -n "$((i + 1))p" "$run/eids")
	es2req es2_download_profile.xml "batch-$i" "$eid"
	r=$(post2)
	[ "$(cat "$run/code")" = 202 ] || ko "batch-$i not accepted"
done
for _ in $(seq 3000); do
	[ "$(grep -a 'batch-' "$run/callbacks" | grep -ac 'ES2-DownloadProfileResponse')" -ge 100 ] && break
	sleep 0.2
done
check "100 meters: 100 callbacks EXECUTED_SUCCESS" \
	test "$(grep -a 'batch-' "$run/callbacks" | grep -a 'ES2-DownloadProfileResponse' | grep -ac EXECUTED_SUCCESS)" = 100
echo "100 downloads of 16 KiB in $(($(date +%s) - t0)) s"
check "pool: 101 ICCIDs used" grep -q "101 used" <<<"$(pool)"

# 4. smdpd killed -9 in the middle of a download: resumed, the cut session cleaned up, the download redone
es2req es2_download_profile.xml dl-kill-dp "$eid1"
r=$(post2)
for _ in $(seq 300); do grep -q "ES3-SendData" "$run/smdpd.log" 2>/dev/null && grep -q "dl-kill-dp" "$run/smdpd.log" && break; sleep 0.1; done
for _ in $(seq 300); do [ "$(grep -c 'ES8 -> \|-> ES8' "$run/smdpd.log")" -ge 2 ] && break; sleep 0.1; done
sleep 2
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
check "smdpd restarts" smdpd_up
check "killed download: ends EXECUTED_SUCCESS after a retry" wait_cb "dl-kill-dp.*ES2-DownloadProfileResponse.*EXECUTED_SUCCESS" 300
e=$(eis_of "$eid1")
check "killed download: exactly one profile of ours on the card" test "$(grep -o "$smdp_id" <<<"$e" | wc -l)" = 1

# 4b. smdpd killed -9 while its CreateISDP waits for the card (the simulator paused): after the restart the
# CreateISDP callback comes back to the new smdpd, which finds PK.ECASD.ECKA in the journal and finishes
eidc=$(sed -n 108p "$run/eids")
kill -STOP "$SIM"
es2req es2_download_profile.xml dl-kill-create "$eidc"
r=$(post2)
oc=$(grep -o "order [0-9]* ES2-DownloadProfile accepted from [^ ]* (dl-kill-create" "$run/smdpd.log" | awk '{print $2}')
for _ in $(seq 100); do grep -q "order $oc ES2-DownloadProfile: GET_EIS -> CREATE_ISDP" "$run/smdpd.log" && break; sleep 0.1; done
sleep 1
kill -9 "$DPID"; wait "$DPID" 2>/dev/null
check "smdpd restarts (CreateISDP pending)" smdpd_up
kill -CONT "$SIM"
check "resumed in CREATE_ISDP" grep -q "order $oc ES2-DownloadProfile resumed in CREATE_ISDP" "$run/smdpd.log"
check "killed while creating: ends EXECUTED_SUCCESS" \
	wait_cb "dl-kill-create.*ES2-DownloadProfileResponse.*EXECUTED_SUCCESS" 120
check "killed while creating: one profile of ours on the card" \
	test "$(grep -o "$smdp_id" <<<"$(eis_of "$eidc")" | wc -l)" = 1

# 5. smsrd killed -9 in the middle of a download
es2req es2_download_profile.xml dl-kill-sr "$eid6"
r=$(post2)
for _ in $(seq 300); do [ "$(grep -c 'ES3-SendData' "$run/smsrd.log")" -ge 1 ] && break; sleep 0.1; done
sleep 3
kill -9 "$PID"; wait "$PID" 2>/dev/null
check "smsrd restarts" start_smsrd "$smsrd" "$run/smsrd.conf" "$run/smsrd.log"
check "smsrd killed: the download ends (success or FAILED)" wait_cb "dl-kill-sr.*ES2-DownloadProfileResponse.*\(EXECUTED_SUCCESS\|FAILED\)" 300
e=$(eis_of "$eid6")
if dl_result dl-kill-sr | grep -q EXECUTED_SUCCESS; then
	check "smsrd killed: the profile is Enabled" grep -q "$smdp_id" <<<"$e"
else
	check "smsrd killed: no orphan ISD-P" test -z "$(grep -o "$smdp_id" <<<"$e")"
fi
check "no sanitizer report" test -z "$(grep -l 'runtime error\|AddressSanitizer' "$run"/*.log 2>/dev/null)"
echo "smdpd_e2e_test.sh: $pass checks passed, $fail failed"
[ "$fail" = 0 ]
