#!/usr/bin/env bash
# Batches through REAL Kannel to the euicc-sim fleet, with failures in the middle:
#  A. EnableProfile on every card of the fleet, submitted while smsrd is killed with -9 (twice: during the
#     submissions, then while the commands are in flight); requests that got no answer are retried with the same
#     FunctionCallIdentifier. Every accepted operation completes, and exactly once.
#  B. DisableProfile on every card while Kannel's smsbox goes down in the middle: nothing moves while it is down,
#     everything completes once it is back, exactly once each.
#  C. ValidityPeriod: an AuditEIS with a 2 s validity submitted while Kannel is down ends EXPIRED (1.6/4.10) and
#     its command is never sent.
# Then: no card ever saw a reused or stale counter (euicc-sim: no error PoR at all), the EIS shows the final
# states, and smsrd --db-check is clean.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${TOP_SRCDIR:-$here/../..}
smsrd=${SMSRD:-../smsr/smsrd}
sim=${EUICC_SIM:-euicc-sim/euicc-sim}
import=${FLEET_IMPORT:-smsr/fleet-import}
data=$top/tests/smsr/data
n=${BATCH_N:-24}
run=$(mktemp -d /tmp/smsrd_batch.XXXXXX)
seed=batch$$
mno=1.3.6.1.4.1.99999.20
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }

cleanup() {
	local p
	for p in ${PID:-} ${SIM:-} ${SINK:-} ${SMSBOX2:-} ${LOOP:-}; do kill "$p" 2>/dev/null; done
	"$top/tests/kannel/kannel-down" "$run/kannel" >/dev/null 2>&1
	for p in ${PID:-} ${SIM:-} ${SINK:-} ${SMSBOX2:-} ${LOOP:-}; do wait "$p" 2>/dev/null; done
	[ -n "${BATCH_KEEP:-}" ] || rm -rf "$run"
}
trap cleanup EXIT
. "$top/tests/smsr/lib.sh"
up() { start_smsrd "$smsrd" "$run/smsrd.conf" "$run/smsrd.log"; }

"$top/scripts/gen-test-pki" "$run/pki" >/dev/null || exit 1
es4=$(freeport) mo=$(freeport) cb=$(freeport)
"$top/tests/kannel/kannel-up" "$run/kannel" --mo-url "http://127.0.0.1:$mo/mo" >"$run/kannel-up.log" 2>&1 ||
	{ cat "$run/kannel-up.log"; echo "smsrd_batch_test.sh: 0 checks passed, 1 failed"; exit 1; }
. "$run/kannel/env"
mkdir -p "$run/db"
"$import" "$run/db" "$run/pki/smsr-master.key" "$seed" "$n" "$mno" 1.3.6.1.4.1.99999.10 >/dev/null ||
	{ echo "fleet-import failed"; exit 1; }
POR_TIMEOUT=4s RETRIES=3 NOTIF_TIMEOUT=60s CALLBACK_URL=http://127.0.0.1:$cb/es4 smsrd_conf "$run/smsrd.conf" </dev/null

"$sim" --kannel "127.0.0.1:$KANNEL_FAKE_PORT" --fleet "$n" --seed "$seed" --duration 0 --notif-delay 200 \
	--stats-file "$run/sim.stats" >"$run/sim.log" 2>&1 &
SIM=$!
python3 "$top/tests/smsr/cb_sink.py" "$cb" "$run/callbacks" 600 &
SINK=$!
check "smsrd starts" up

# identities of the fleet (EID, ICCIDs), as euicc-sim derives them
"$sim" --print-identity --seed "$seed" --index 0 --count "$n" >"$run/ids"
eid() { sed -n "s/^eid=//p" "$run/ids" | sed -n "$(($1 + 1))p"; }
iccid() { sed -n "s/^profile$2_iccid=//p" "$run/ids" | sed -n "$(($1 + 1))p"; }

mkreq() { # template fcid eid iccid validity -> $run/req-fcid.xml (MessageID carries the fcid)
	sed -e "s#EntityId=1.3.6.1.4.1.99901#EntityId=$mno#" \
		-e "s#<rps:FunctionCallIdentifier>[^<]*#<rps:FunctionCallIdentifier>$2#" \
		-e "s#urn:uuid:[0-9a-f-]*?TransactionId#urn:uuid:msg-$2?TransactionId#" \
		-e "s#<rps:Eid>[^<]*#<rps:Eid>$3#" -e "s#<rps:Iccid>[^<]*#<rps:Iccid>$4#" \
		-e "s#<rps:ValidityPeriod>[^<]*#<rps:ValidityPeriod>$5#" -e '/wsa:ReplyTo/d' "$data/$1" >"$run/req-$2.xml"
}
post() { # fcid -> HTTP code (000 when smsrd is not there)
	curl -s -o "$run/resp-$1" -w '%{http_code}' --max-time 10 --cacert "$run/pki/tls-ca.crt" \
		--cert "$run/pki/mno1.crt" --key "$run/pki/mno1.key" -H 'Content-Type: application/soap+xml; charset=utf-8' \
		--data-binary @"$run/req-$1.xml" "https://127.0.0.1:$es4/es4"
}
results() { # prefix -> number of callbacks answering a request of that batch
	grep -c "RelatesTo[^>]*>[^<]*urn:uuid:msg-$1[0-9]*?" "$run/callbacks" 2>/dev/null || true
}
each_once() { # prefix element -> true when every request of the batch has exactly one EXECUTED_SUCCESS callback
	local i c
	for i in $(seq 0 $((n - 1))); do
		c=$(grep "$2" "$run/callbacks" 2>/dev/null | grep -c "urn:uuid:msg-$1$i?")
		[ "$c" = 1 ] || { echo "  $1$i: $c callbacks"; return 1; }
		grep "$2" "$run/callbacks" | grep "urn:uuid:msg-$1$i?" | grep -q EXECUTED_SUCCESS ||
			{ echo "  $1$i: not EXECUTED_SUCCESS"; return 1; }
	done
}
wait_results() { # prefix count seconds
	for _ in $(seq $(($3 * 10))); do
		[ "$(results "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
submit() { # prefix -> posts every request of the batch in order, "i code" lines in $run/codes-prefix
	local i
	: >"$run/codes-$1"
	for i in $(seq 0 $((n - 1))); do
		echo "$i $(post "$1$i")" >>"$run/codes-$1"
	done
}
resubmit() { # prefix -> reposts every request that did not get 202; true when all now have 202
	local i code
	while read -r i code; do
		[ "$code" = 202 ] && continue
		code=$(post "$1$i")
		[ "$code" = 202 ] || { echo "  $1$i: HTTP $code on retry"; return 1; }
	done <"$run/codes-$1"
}

# ---- A: EnableProfile on every card; kill -9 during submission and again while in flight
for i in $(seq 0 $((n - 1))); do mkreq es4_enable_profile.xml "a$i" "$(eid "$i")" "$(iccid "$i" 1)" 3600; done
submit a &
LOOP=$!
for _ in $(seq 300); do [ "$(wc -l <"$run/codes-a" 2>/dev/null || echo 0)" -ge $((n / 3)) ] && break; sleep 0.05; done
kill -9 "$PID"
wait "$PID" 2>/dev/null
wait "$LOOP"
LOOP=
check "A: some requests found smsrd gone" grep -qv " 202$" "$run/codes-a"
check "A: smsrd restarts after kill -9 during the submissions" up
check "A: every request not answered before is accepted on retry (same FunctionCallIdentifier)" resubmit a
wait_results a $((n / 3)) 120
kill -9 "$PID"
wait "$PID" 2>/dev/null
check "A: smsrd restarts after kill -9 with commands in flight" up
check "A: all $n operations complete" wait_results a "$n" 180
sleep 2
check "A: each exactly once, EXECUTED_SUCCESS" each_once a ES4-EnableProfileResponse

# ---- B: DisableProfile on every card; Kannel's smsbox down in the middle
for i in $(seq 0 $((n - 1))); do mkreq es4_disable_profile.xml "b$i" "$(eid "$i")" "$(iccid "$i" 1)" 3600; done
submit b &
LOOP=$!
wait_results b $((n / 4)) 120
kill "$KANNEL_SMSBOX_PID" 2>/dev/null
for _ in $(seq 50); do [ -z "$(ss -Hltn sport = :"$KANNEL_SENDSMS_PORT")" ] && break; sleep 0.1; done
wait "$LOOP"
LOOP=
check "B: every request accepted" test -z "$(grep -v " 202$" "$run/codes-b")"
# C: a 2 s ValidityPeriod while Kannel cannot take the command
mkreq es4_audit_eis.xml c0 "$(eid 0)" "$(iccid 0 0)" 2
check "C: AuditEIS with a 2 s validity accepted while Kannel is down" test "$(post c0)" = 202
sleep 1
before=$(results b)
sleep 5
check "B: nothing completes while smsbox is down ($before of $n done)" test "$(results b)" = "$before" -a "$before" -lt "$n"
check "C: AuditEIS EXPIRED (1.6/4.10) once its validity elapsed" \
	grep -q "msg-c0?.*<rps:Status>EXPIRED</rps:Status>.*<rps:Subject>1.6</rps:Subject><rps:Reason>4.10</rps:Reason>" \
	"$run/callbacks"
/usr/sbin/smsbox "$KANNEL_DIR/kannel.conf" >>"$run/smsbox-restart.log" 2>&1 &
SMSBOX2=$!
check "B: all $n complete once Kannel is back" wait_results b "$n" 180
sleep 2
check "B: each exactly once, EXECUTED_SUCCESS" each_once b ES4-DisableProfileResponse
check "C: exactly one callback for the expired AuditEIS" test "$(results c)" = 1
check "C: smsrd withdrew its command before it reached Kannel" \
	grep -q "cancelled in [A-Z_]*, nothing reached Kannel" "$run/smsrd.log"

# ---- final state and counters
mkreq es4_get_eis.xml g0 "$(eid $((n - 1)))" x 3600
post g0 >/dev/null
check "the EIS of the last card: profile 0 Enabled again, profile 1 Disabled" \
	grep -q "$(iccid $((n - 1)) 0)</rps:Iccid>.*<rps:State>Enabled.*$(iccid $((n - 1)) 1)</rps:Iccid>.*<rps:State>Disabled" \
	<<<"$(tr -d '\n' <"$run/resp-g0")"
kill -TERM "$PID"
wait "$PID"
check "SIGTERM: clean exit" test $? -eq 0
PID=
kill -TERM "$SIM"
wait "$SIM" 2>/dev/null
SIM=
check "euicc-sim: no error PoR at all (no counter ever reused or stale)" grep -qx "por_errors=0" "$run/sim.stats"
check "euicc-sim: commands executed" test "$(sed -n 's/^por_ok=//p' "$run/sim.stats")" -ge $((2 * n))
check "--db-check clean" grep -q consistent <<<"$("$smsrd" --db-check -c "$run/smsrd.conf")"
if [ $fail -ne 0 ]; then
	echo "--- smsrd log (tail)"; tail -40 "$run/smsrd.log"
	echo "--- sim stats"; cat "$run/sim.stats" 2>/dev/null
	echo "--- codes"; cat "$run/codes-a" "$run/codes-b" | tr '\n' ' '; echo
fi
echo "smsrd_batch_test.sh: $pass checks passed, $fail failed"
[ $fail -eq 0 ]
