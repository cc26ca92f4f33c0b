#!/usr/bin/env bash
# The SM-SR end to end: an MNO calls ES4 over mutual TLS; smsrd drives the eUICC over SCP80 SMS through REAL Kannel
# (bearerbox + smsbox on free loopback ports) to the euicc-sim fleet, waits for the eUICC's notification, confirms
# it and posts the ES4 response callback and the Handle*Notification to the MNO. Also: pre-checks answered
# synchronously, an idempotent retry, AuditEIS, and kill -9 of smsrd in the middle of an operation (it resumes
# from the journal and the operation completes exactly once).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${TOP_SRCDIR:-$here/../..}
smsrd=${SMSRD:-../smsr/smsrd}
sim=${EUICC_SIM:-euicc-sim/euicc-sim}
import=${FLEET_IMPORT:-smsr/fleet-import}
gen=${FLEET_EIS_XML:-smsr/fleet-eis-xml}
ctl=${SMSR_CTL:-../smsr/smsr-ctl}
data=$top/tests/smsr/data
run=$(mktemp -d /tmp/smsrd_e2e.XXXXXX)
seed=e2e$$
mno=1.3.6.1.4.1.99999.20
eum=1.3.6.1.4.1.99999.30
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }

cleanup() {
	local p
	for p in ${PID:-} ${SIM:-} ${SINK:-} ${SMSBOX2:-}; do kill "$p" 2>/dev/null; done
	"$top/tests/kannel/kannel-down" "$run/kannel" >/dev/null 2>&1
	for p in ${PID:-} ${SIM:-} ${SINK:-} ${SMSBOX2:-}; do wait "$p" 2>/dev/null; done
	rm -rf "$run"
}
trap cleanup EXIT
. "$top/tests/smsr/lib.sh"
up() { start_smsrd "$smsrd" "$run/smsrd.conf" "$run/smsrd.log"; }

"$top/scripts/gen-test-pki" "$run/pki" || exit 1
es4=$(freeport) mo=$(freeport) cb=$(freeport)
"$top/tests/kannel/kannel-up" "$run/kannel" --mo-url "http://127.0.0.1:$mo/mo" >"$run/kannel-up.log" 2>&1 ||
	{ cat "$run/kannel-up.log"; echo "smsrd_e2e_test.sh: 0 checks passed, 1 failed"; exit 1; }
. "$run/kannel/env"
mkdir -p "$run/db"
# the fleet arrives as an EUM file (signed EIS, ECASD certificates, keys under the transport key) and is onboarded
# with smsr-ctl eis import, so everything below runs on keys re-sealed from the transport key
head -c 16 /dev/urandom >"$run/transport.key" && chmod 600 "$run/transport.key"
"$gen" -o "$run/fleet.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$run/transport.key" "$seed" 3 "$mno" "$eum" \
	1.3.6.1.4.1.99999.10 || { echo "fleet-eis-xml failed"; exit 1; }
"$import" - "$run/pki/smsr-master.key" "$seed" 3 "$mno" 1.3.6.1.4.1.99999.10 >"$run/fleet" ||
	{ echo "fleet-import failed"; exit 1; }
. "$run/fleet"
KEYSTORE_EXTRA="transport-key-file = $run/transport.key
ci-cert-file = $run/pki/ci.crt" CALLBACK_URL=https://127.0.0.1:$cb/es4 smsrd_conf "$run/smsrd.conf" <<CONF
[requester eum1]
entity-id = $eum
role = eum
tls-subject = $(sed -n 's/^eum1-client //p' "$run/pki/subjects")
CONF
out=$("$ctl" -c "$run/smsrd.conf" eis import "$run/fleet.xml" 2>&1)
check "fleet onboarded with smsr-ctl eis import (signatures verified)" grep -q "seen=3 imported=3 unchanged=0 refused=0" <<<"$out"

"$sim" --kannel "127.0.0.1:$KANNEL_FAKE_PORT" --fleet 3 --seed "$seed" --duration 240 --notif-delay 300 \
	--stats-file "$run/sim.stats" >"$run/sim.log" 2>&1 &
SIM=$!
# the MNO endpoint is HTTPS with mutual TLS: smsrd must trust its server certificate and present its own
python3 "$top/tests/smsr/cb_sink.py" "$cb" "$run/callbacks" 240 "$run/pki/smdp-tls.crt" "$run/pki/smdp-tls.key" \
	"$run/pki/tls-ca.crt" &
SINK=$!
check "smsrd starts" up

req() { # template, fcid, eid, iccid -> request file
	sed -e "s#EntityId=1.3.6.1.4.1.99901#EntityId=$mno#" -e "s#<rps:FunctionCallIdentifier>[^<]*#<rps:FunctionCallIdentifier>$2#" \
		-e "s#<rps:Eid>[^<]*#<rps:Eid>$3#" -e "s#<rps:Iccid>[^<]*#<rps:Iccid>$4#" \
		-e '/wsa:ReplyTo/d' "$data/$1" >"$run/req.xml"
}
post() { # -> body on stdout, code in $run/code
	curl -s -o "$run/resp" -w '%{http_code}' --cacert "$run/pki/tls-ca.crt" --cert "$run/pki/mno1.crt" \
		--key "$run/pki/mno1.key" -H 'Content-Type: application/soap+xml; charset=utf-8' \
		--data-binary @"$run/req.xml" "https://127.0.0.1:$es4/es4" >"$run/code"
	cat "$run/resp"
}
wait_count() { # pattern, count, seconds
	for _ in $(seq $(($3 * 10))); do
		[ "$(grep -c "$1" "$run/callbacks" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_cb() { # pattern, seconds
	for _ in $(seq $(($2 * 10))); do
		grep -q "$1" "$run/callbacks" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

req es4_get_eis.xml fci-get-1 "$eid1" x
r=$(post)
check "GetEIS" grep -q EXECUTED_SUCCESS <<<"$r"

# EnableProfile of the disabled profile of card 1: 202, then the callback with EXECUTED_SUCCESS
req es4_enable_profile.xml fci-enable-1 "$eid1" "$iccid1_1"
r=$(post)
check "EnableProfile accepted with 202" test "$(cat "$run/code")" = 202
check "EnableProfile callback EXECUTED_SUCCESS" wait_cb "ES4-EnableProfileResponse.*EXECUTED_SUCCESS" 60
check "HandleProfileEnabledNotification to the owner" wait_cb "ES4-HandleProfileEnabledNotification.*$iccid1_1" 10
check "HandleProfileDisabledNotification for the previous profile" wait_cb "ES4-HandleProfileDisabledNotification.*$iccid1_0" 10
req es4_get_eis.xml fci-get-2 "$eid1" x
r=$(post)
check "the EIS shows the new profile Enabled" grep -q "$iccid1_1</rps:Iccid>.*<rps:State>Enabled" <<<"$(tr -d '\n' <<<"$r")"

# the same request again: idempotent, 202, and no second callback
req es4_enable_profile.xml fci-enable-1 "$eid1" "$iccid1_1"
r=$(post)
check "retry of the same FunctionCallIdentifier: 202" test "$(cat "$run/code")" = 202
sleep 1
check "no second EnableProfile callback" test "$(grep -c "ES4-EnableProfileResponse" "$run/callbacks")" = 1

# pre-checks answered at once: the fall-back profile cannot be disabled; unknown ICCID; enabling an enabled one
req es4_disable_profile.xml fci-dis-1 "$eid2" "$iccid2_0"
r=$(post)
check "Disable of the fall-back profile refused (8.2.1/1.2)" grep -q "FAILED.*8.2.1.*1.2" <<<"$(tr -d '\n' <<<"$r")"
req es4_enable_profile.xml fci-en-x "$eid2" 8949000000000000999
r=$(post)
check "unknown ICCID (8.2.1/3.9)" grep -q "FAILED.*8.2.1.*3.9" <<<"$(tr -d '\n' <<<"$r")"

# AuditEIS
req es4_audit_eis.xml fci-audit-1 "$eid2" "$iccid2_0"
r=$(post)
check "AuditEIS accepted" test "$(cat "$run/code")" = 202
check "AuditEIS callback with the EIS" wait_cb "ES4-AuditEISResponse.*EXECUTED_SUCCESS.*LastAuditDate" 60

# POL2 DISABLE/Auto-Delete: enable a profile, give it the rule, disable it: the SM-SR deletes it by itself
req es4_enable_profile.xml fci-en-0 "$eid0" "$iccid0_1"
r=$(post)
check "Enable on card 0" wait_count "ES4-EnableProfileResponse.*EXECUTED_SUCCESS" 2 60
req es4_update_policy_rules.xml fci-pol2-0 "$eid0" "$iccid0_1"
sed -i -e '/<rps:Action>DELETE/d' -e 's#<rps:Qualification>Not-Allowed#<rps:Qualification>Auto-Delete#' "$run/req.xml"
r=$(post)
check "POL2 DISABLE/Auto-Delete set" grep -q EXECUTED_SUCCESS <<<"$r"
req es4_disable_profile.xml fci-dis-0 "$eid0" "$iccid0_1"
r=$(post)
check "Disable accepted" test "$(cat "$run/code")" = 202
check "Disable callback" wait_cb "ES4-DisableProfileResponse.*EXECUTED_SUCCESS" 60
check "POL2 auto-delete: HandleProfileDeletedNotification" wait_cb "ES4-HandleProfileDeletedNotification.*$iccid0_1" 60
req es4_get_eis.xml fci-get-0 "$eid0" x
r=$(post)
check "the auto-deleted profile is gone from the EIS" test -z "$(grep -o "$iccid0_1" <<<"$r")"

# Kannel's smsbox down while an operation is accepted: nothing is lost, the SMS goes once it is back
kill "$KANNEL_SMSBOX_PID" 2>/dev/null
for _ in $(seq 50); do [ -z "$(ss -Hltn sport = :"$KANNEL_SENDSMS_PORT")" ] && break; sleep 0.1; done
req es4_enable_profile.xml fci-en-kdown "$eid1" "$iccid1_0"
r=$(post)
check "Enable accepted while Kannel is down" test "$(cat "$run/code")" = 202
sleep 6
check "no result while Kannel is down" test "$(grep -c "ES4-EnableProfileResponse" "$run/callbacks")" = 2
/usr/sbin/smsbox "$KANNEL_DIR/kannel.conf" >>"$run/smsbox-restart.log" 2>&1 &
SMSBOX2=$!
check "Kannel back: the operation completes" wait_count "ES4-EnableProfileResponse.*EXECUTED_SUCCESS" 3 60

# kill -9 of smsrd right after accepting an Enable: it resumes from the journal, exactly one callback
req es4_enable_profile.xml fci-enable-k9 "$eid2" "$iccid2_1"
r=$(post)
check "Enable before the crash accepted" test "$(cat "$run/code")" = 202
kill -9 "$PID"
wait "$PID" 2>/dev/null
check "smsrd restarts" up
check "the operation completes after the restart" wait_count "ES4-EnableProfileResponse.*EXECUTED_SUCCESS" 4 60
sleep 2
check "exactly once" test "$(grep -c "ES4-EnableProfileResponse" "$run/callbacks")" = 4
check "callbacks went over HTTPS with the SM-SR's client certificate" \
	grep -q "commonName=127.0.0.1" "$run/callbacks.peers"
kill -TERM "$PID"
wait "$PID"
check "SIGTERM: clean exit" test $? -eq 0
PID=
check "--db-check" grep -q consistent <<<"$("$smsrd" --db-check -c "$run/smsrd.conf")"
[ $fail -eq 0 ] || { echo "--- smsrd log"; tail -40 "$run/smsrd.log"; echo "--- callbacks"; cut -c1-300 "$run/callbacks"; }
echo "smsrd_e2e_test.sh: $pass checks passed, $fail failed"
[ $fail -eq 0 ]
