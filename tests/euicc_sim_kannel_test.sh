#!/usr/bin/env bash
# (the cN_* variables come from eval of --print-identity; helpers run through check/wait_for and traps)
# shellcheck disable=SC2154,SC2317
# Integration test of euicc-sim against a REAL Kannel (Debian 12 kannel package), everything on 127.0.0.1:
#   mo-sink (MO callbacks) <- smsbox <- bearerbox <-fake SMSC-> euicc-sim --fleet 3
# The SM-SR side is played with curl (sendsms GET, every byte percent-encoded) and the sm-ota tool (build the
# SCP80 command packet, parse the PoR and the notification). Checks: ES5 Enable -> PoR 00 with R-APDU 9000 and an
# E1 notification (type 02, AID of the enabled profile) as an MO command packet; NotificationConfirmation -> PoR
# 00 with 80 00 9000; a packet with a wrong KID key -> PoR status 01 (TS 102 225); a text MT is never answered;
# euicc-sim exits on SIGTERM with its statistics; kannel-down leaves no Kannel process behind.
#
# Environment: SM_OTA (default ../ota/sm-ota), EUICC_SIM (./euicc-sim/euicc-sim), MO_SINK (./euicc-sim/mo-sink),
# KANNEL_UP / KANNEL_DOWN (next to this script in kannel/), KEEP_TMP=1 keeps the run directory.
# Exit: 0 all checks passed, 1 a check failed, 77 skipped (Kannel or a binary missing).
set -uo pipefail

name=euicc_sim_kannel_test.sh
srcdir=$(cd "$(dirname "$0")" && pwd)
SM_OTA=${SM_OTA:-../ota/sm-ota}
EUICC_SIM=${EUICC_SIM:-./euicc-sim/euicc-sim}
MO_SINK=${MO_SINK:-./euicc-sim/mo-sink}
KANNEL_UP=${KANNEL_UP:-$srcdir/kannel/kannel-up}
KANNEL_DOWN=${KANNEL_DOWN:-$srcdir/kannel/kannel-down}
SEED=itest

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() { # check DESCRIPTION COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else bad "$d"; fi
}
finish() {
	echo "$name: $pass checks passed, $fail failed"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
	exit $?
}

for b in /usr/sbin/bearerbox /usr/sbin/smsbox; do
	[ -x "$b" ] || { echo "$name: $b missing: skipped"; exit 77; }
done
for b in "$SM_OTA" "$EUICC_SIM" "$MO_SINK"; do
	[ -x "$b" ] || { echo "$name: $b not built: skipped"; exit 77; }
done
for t in curl ss; do
	command -v "$t" >/dev/null || { echo "$name: $t missing: skipped"; exit 77; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/euicc-sim-kannel.XXXXXX") || exit 1
sim_pid='' sink_pid=''
cleanup() {
	trap - EXIT INT TERM
	[ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	[ -n "$sink_pid" ] && kill -TERM "$sink_pid" 2>/dev/null && wait "$sink_pid" 2>/dev/null
	"$KANNEL_DOWN" "$tmp/kannel" >/dev/null 2>&1
	if [ "${KEEP_TMP:-0}" = 1 ] || [ "$fail" -gt 0 ]; then
		echo "$name: run directory kept: $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'bad "interrupted"; finish' INT TERM

# wait_for SECONDS COMMAND...: poll every 0.1 s until COMMAND succeeds
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# hex -> every byte percent-encoded
pct() {
	local h=$1 out='' i
	for ((i = 0; i < ${#h}; i += 2)); do out+="%${h:i:2}"; done
	printf '%s' "$out"
}

# MO lines from MSISDN $1 with UDH $2 (percent form as smsbox's %u gives it), value of e= (hex body) of the Nth ($3)
mo_hex() {
	grep -F "from=$1&" "$tmp/mo.log" 2>/dev/null | grep -F "udh=$2&" | sed -n "${3}p" |
		sed -n 's/.*[?&]e=\([0-9A-Fa-f]*\).*/\1/p'
}
have_mo() { [ -n "$(mo_hex "$1" "$2" "$3")" ]; }

# identities, as the SM-SR's EIS would hold them
ident() { "$EUICC_SIM" --print-identity --seed "$SEED" --index "$1" | sed "s/^/$2/"; }
eval "$(ident 0 c0_)"
eval "$(ident 1 c1_)"
eval "$(ident 2 c2_)"

# sendsms_ud MSISDN UDHEX: one binary MT (UD hex = UDH || data)
sendsms_ud() {
	local ud=$2 udhl
	udhl=$(((16#${ud:0:2} + 1) * 2))
	local q="username=$KANNEL_SENDSMS_USER&password=$KANNEL_SENDSMS_PASSWORD&from=$KANNEL_SMSR_ADDRESS&to=$1"
	q+="&coding=1&pid=127&mclass=2&alt-dcs=1&udh=$(pct "${ud:0:udhl}")&text=$(pct "${ud:udhl}")"
	curl -s --max-time 5 "$KANNEL_SENDSMS_URL?$q"
}

# build SPI CNTR KIC_KEY KID_KEY SCRIPT: the TP-UD of a single-SMS command packet to the ISD-R
build() {
	"$SM_OTA" build --spi "$1" --kic 12 --kid 12 --tar 000001 --cntr "$2" --key-enc "$3" --key-mac "$4" \
		--data "$5" --out ud
}

# 1. MO sink and Kannel
"$MO_SINK" --out "$tmp/mo.log" --port-file "$tmp/sink.port" --duration 180 >/dev/null 2>"$tmp/mo-sink.err" &
sink_pid=$!
check "mo-sink listening" wait_for 5 test -s "$tmp/sink.port"
sink_port=$(cat "$tmp/sink.port" 2>/dev/null)
check "kannel-up" "$KANNEL_UP" "$tmp/kannel" --mo-url "http://127.0.0.1:${sink_port:-1}/mo"
# shellcheck disable=SC1091
. "$tmp/kannel/env" 2>/dev/null || { bad "kannel env"; finish; }

# 2. the fleet
"$EUICC_SIM" --kannel "127.0.0.1:$KANNEL_FAKE_PORT" --fleet 3 --seed "$SEED" --duration 120 --notif-delay 200 \
	--notif-resend 0 --stats-file "$tmp/stats" -v 2>"$tmp/euicc-sim.log" &
sim_pid=$!
fake_online() {
	curl -s --max-time 2 "http://127.0.0.1:$KANNEL_ADMIN_PORT/status.txt?password=$KANNEL_STATUS_PASSWORD" |
		grep -q 'fake1.*online'
}
check "euicc-sim connected to the fake SMSC" wait_for 10 fake_online

# 3. ES5 EnableProfile of profile 1 on card 1: AA { 22 { 80 E2 88 00 15 3A03 12 4F10 <AID> } }, SPI 1621, CNTR 1
enable="AA1C221A80E28800153A03124F10$c1_profile1_aid"
ud=$(build 1621 0000000001 "$c1_kic" "$c1_kid" "$enable")
check "sm-ota build (Enable)" test -n "$ud"
reply=$(sendsms_ud "$c1_msisdn" "$ud")
check "sendsms accepted ($reply)" grep -q '^0: Accepted' <<<"$reply"

check "PoR MO arrives at the sink" wait_for 15 have_mo "$c1_msisdn" '%02q%00' 1
por=$(mo_hex "$c1_msisdn" '%02q%00' 1)
out=$("$SM_OTA" parse-por --spi 1621 --kic 12 --kid 12 --key-enc "$c1_kic" --key-mac "$c1_kid" "027100$por")
check "sm-ota parse-por" test $? -eq 0
check "PoR status 00" grep -qx 'status=00' <<<"$out"
check "PoR echoes TAR and CNTR" grep -qx 'cntr=0000000001' <<<"$out"
check "R-APDU SW 9000 (AB 80 01 01 23 02 9000)" grep -qx 'data=ab0780010123029000' <<<"$out"

# 4. the Default Notification, an MO command packet (SPI 0200, KIc 10, KID 12, TAR 000001, CNTR 0)
check "notification MO arrives" wait_for 15 have_mo "$c1_msisdn" '%02p%00' 1
ntf=$(mo_hex "$c1_msisdn" '%02p%00' 1)
out=$("$SM_OTA" parse-cmd --key-mac "$c1_kid" "027000$ntf")
check "sm-ota parse-cmd: CC verified" grep -qx 'integrity=ok' <<<"$out"
hdr=$(grep -E '^(spi|kic|kid|tar|cntr)=' <<<"$out" | tr '\n' ' ')
check "notification header SPI 0200 KIc 10 KID 12" test "$hdr" = "spi=0200 kic=10 kid=12 tar=000001 cntr=0000000000 "
data=$(sed -n 's/^data=//p' <<<"$out")
eid_lc=$(tr 'A-F' 'a-f' <<<"$c1_eid")
aid_lc=$(tr 'A-F' 'a-f' <<<"$c1_profile1_aid")
check "E1 { 4C EID, 4D 02, 4E seq, 4F AID of the enabled profile, 14 IMEI }" \
	grep -qE "^e1354c10${eid_lc}4d01024e02[0-9a-f]{4}4f10${aid_lc}1408" <<<"$data"
seq=$(sed -n 's/^e1354c10[0-9a-f]*4d01024e02\([0-9a-f]\{4\}\).*/\1/p' <<<"$data")

# 5. NotificationConfirmation: AA { 22 { 80 E2 89 00 07 3A08 04 4E02 <seq> 00 } }, CNTR 2
confirm="AA0F220D80E28900073A08044E02${seq:-0000}00"
reply=$(sendsms_ud "$c1_msisdn" "$(build 1621 0000000002 "$c1_kic" "$c1_kid" "$confirm")")
check "sendsms accepted (confirmation)" grep -q '^0: Accepted' <<<"$reply"
check "second PoR arrives" wait_for 15 have_mo "$c1_msisdn" '%02q%00' 2
out=$("$SM_OTA" parse-por --spi 1621 --kic 12 --kid 12 --key-enc "$c1_kic" --key-mac "$c1_kid" \
	"027100$(mo_hex "$c1_msisdn" '%02q%00' 2)")
check "confirmation PoR 00 with 80 00 9000" \
	test "$(grep -E '^(status|data)=' <<<"$out" | tr '\n' ' ')" = "status=00 data=ab09800101230480009000 "

# 6. wrong key: card 2 gets a packet whose CC was made with card 0's KID -> PoR status 01, nothing executed
reply=$(sendsms_ud "$c2_msisdn" "$(build 1621 0000000001 "$c2_kic" "$c0_kid" "$enable")")
check "sendsms accepted (wrong key)" grep -q '^0: Accepted' <<<"$reply"
check "error PoR arrives" wait_for 15 have_mo "$c2_msisdn" '%02q%00' 1
out=$("$SM_OTA" parse-por --spi 1621 --kic 12 --kid 12 --key-enc "$c2_kic" --key-mac "$c2_kid" \
	"027100$(mo_hex "$c2_msisdn" '%02q%00' 1)")
check "PoR status 01 (RC/CC/DS failed), no response data" \
	test "$(grep -E '^(status|data)=' <<<"$out" | tr '\n' ' ')" = "status=01 data= "

# 7. a text MT to card 0 is never answered
auth="username=$KANNEL_SENDSMS_USER&password=$KANNEL_SENDSMS_PASSWORD"
reply=$(curl -s --max-time 5 "$KANNEL_SENDSMS_URL?$auth&from=$KANNEL_SMSR_ADDRESS&to=$c0_msisdn&text=hello")
check "sendsms accepted (text)" grep -q '^0: Accepted' <<<"$reply"
sleep 1.5
check "no MO from card 0" test "$(grep -cF "from=$c0_msisdn&" "$tmp/mo.log")" -eq 0
check "nothing unrouted reached the sink" test "$(grep -c 'unrouted=1' "$tmp/mo.log")" -eq 0

# 8. clean stop and statistics
kill -TERM "$sim_pid"
wait_for 10 bash -c "! kill -0 $sim_pid 2>/dev/null"
wait "$sim_pid"
rc=$?
sim_pid=
check "euicc-sim exits 0 on SIGTERM" test "$rc" -eq 0
stat() { sed -n "s/^$1=//p" "$tmp/stats" 2>/dev/null; }
check "stats: mt_sms=3 mt_ignored=1" test "$(stat mt_sms) $(stat mt_ignored)" = "3 1"
check "stats: por_ok=2 por_errors=1 por_error_01=1" \
	test "$(stat por_ok) $(stat por_errors) $(stat por_error_01)" = "2 1 1"
check "stats: notifications=1 confirmed=1" test "$(stat notifications) $(stat notifications_confirmed)" = "1 1"
check "stats: mo_sms=4 (card 1: two PoRs and a notification; card 2: one PoR)" test "$(stat mo_sms)" = 4

"$KANNEL_DOWN" "$tmp/kannel"
left=0
for p in /proc/[0-9]*; do
	{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF " $tmp/kannel/kannel.conf " && left=$((left + 1))
done
check "kannel-down: no Kannel process left" test "$left" -eq 0
finish
