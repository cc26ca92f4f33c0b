# shellcheck shell=bash
# Setup shared by the SM-DP end-to-end test and benchmark (sourced, never run): test PKI with CERT.DP.ECDSA, real
# Kannel, a fleet of N signed EIS onboarded into smsrd, ES3 CURVE keys, smsrd and smdpd configurations on free
# loopback ports, a 16 KiB profile template and a pool of ICCIDs. Needs: top run seed mno eum smsr_id smdp_id N
# sgen (fleet-eis-xml) simport (fleet-import) sctl dctl smsrd smdpd, and SMDP_LOG_LEVEL (info), POOL (N + 31),
# PROFILE_SIZE (16384). Defines es4 mo cb es2 zport, the eid*/iccid* of the first 16 eUICCs, and smdpd_up.
. "$top/tests/smsr/lib.sh"

smdp_setup() {
	SM_OTA=$(realpath "${SM_OTA:-../ota/sm-ota}") "$top/scripts/gen-test-pki" "$run/pki" >/dev/null || exit 1
	test -f "$run/pki/smdp-ecdsa.gpcert" || { echo "no CERT.DP.ECDSA (sm-ota missing?)"; exit 1; }
	es4=$(freeport) mo=$(freeport) cb=$(freeport) es2=$(freeport) zport=$(freeport)
	"$top/tests/kannel/kannel-up" "$run/kannel" --mo-url "http://127.0.0.1:$mo/mo" >"$run/kannel-up.log" 2>&1 ||
		{ cat "$run/kannel-up.log"; echo "smdpd_e2e_test.sh: 0 checks passed, 1 failed"; exit 1; }
	. "$run/kannel/env"
	mkdir -p "$run/db" "$run/dpdb"
	head -c 16 /dev/urandom >"$run/transport.key" && chmod 600 "$run/transport.key"
	"$sgen" -o "$run/fleet.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$run/transport.key" "$seed" "$N" "$mno" "$eum" \
		"$smsr_id" || { echo "fleet-eis-xml failed"; exit 1; }
	"$simport" - "$run/pki/smsr-master.key" "$seed" "$N" "$mno" "$smsr_id" >"$run/fleet" || exit 1
	. "$run/fleet"
	# ES3 CURVE keys of both ends
	"$dctl" keygen "$run/smsr-curve" >/dev/null && "$dctl" keygen "$run/smdp-curve" >/dev/null || exit 1
	KEYSTORE_EXTRA="transport-key-file = $run/transport.key
	ci-cert-file = $run/pki/ci.crt" CALLBACK_URL=https://127.0.0.1:$cb/es4 smsrd_conf "$run/smsrd.conf" <<-CONF
	[es3]
	zmq-listen = tcp://127.0.0.1:$zport
	curve-public-key = $(cat "$run/smsr-curve.pub")
	curve-secret-key-file = $run/smsr-curve.key
	[requester smdp1]
	entity-id = $smdp_id
	role = smdp
	curve-public-key = $(cat "$run/smdp-curve.pub")
	[requester eum1]
	entity-id = $eum
	role = eum
	tls-subject = $(sed -n 's/^eum1-client //p' "$run/pki/subjects")
	CONF
	out=$("$sctl" -c "$run/smsrd.conf" eis import "$run/fleet.xml" 2>&1)
	check "fleet onboarded" grep -q "imported=$N " <<<"$out"
	head -c 32 /dev/urandom >"$run/smdp-master.key" && chmod 600 "$run/smdp-master.key"
	cat >"$run/smdpd.conf" <<-CONF
	[smdp]
	entity-id = $smdp_id
	[db]
	path = $run/dpdb
	map-size = 64M
	[keystore]
	master-key-file = $run/smdp-master.key
	dp-ecdsa-key-file = $run/pki/smdp-ecdsa.key
	dp-ecdsa-cert-file = $run/pki/smdp-ecdsa.gpcert
	eum-cert-file = $run/pki/eum.crt
	ci-cert-file = $run/pki/ci.crt
	[es2]
	listen = 127.0.0.1:$es2
	tls-cert = $run/pki/smdp-tls.crt
	tls-key = $run/pki/smdp-tls.key
	tls-ca = $run/pki/tls-ca.crt
	[es3]
	smsr-id = $smsr_id
	endpoint = tcp://127.0.0.1:$zport
	name = smdp1
	curve-public-key = $(cat "$run/smdp-curve.pub")
	curve-secret-key-file = $run/smdp-curve.key
	smsr-public-key = $(cat "$run/smsr-curve.pub")
	resend = 2s
	timeout = 20s
	[download]
	send-data-timeout = 60s
	create-isdp-timeout = 60s
	enable-timeout = 60s
	[log]
	timestamps = no
	[requester mno1]
	entity-id = $mno
	role = mno
	tls-subject = $(sed -n 's/^mno1 //p' "$run/pki/subjects")
	callback-url = https://127.0.0.1:$cb/es2
	[requester mno2]
	entity-id = 1.3.6.1.4.1.99999.21
	role = mno
	tls-subject = $(sed -n 's/^mno2 //p' "$run/pki/subjects")
	callback-url = https://127.0.0.1:$cb/es2
	CONF
	check "smdpd configuration valid" "$smdpd" -c "$run/smdpd.conf" --check-config
	"$dctl" profile make-test --size "${PROFILE_SIZE:-16384}" --type M2M-16K --out "$run/profile.der" >/dev/null
	out=$("$dctl" -c "$run/smdpd.conf" profile import --mno "$mno" --type M2M-16K "$run/profile.der")
	check "profile template imported" grep -q "RequiredMemory" <<<"$out"
	for i in $(seq 1 "${POOL:-31}"); do
		printf '8949000000%09d,26201%010d,%032x,%032x\n' "$i" "$i" "$i" "$((i + 100000))"
	done >"$run/pool.csv"
	out=$("$dctl" -c "$run/smdpd.conf" pool import --type M2M-16K "$run/pool.csv")
	check "ICCID pool imported" grep -q "${POOL:-31} ICCIDs imported" <<<"$out"
}

# start smdpd in the background (DPID), true once it listens on $es2
smdpd_up() {
	"$smdpd" -c "$run/smdpd.conf" >>"$run/smdpd.log" 2>&1 &
	DPID=$!
	for _ in $(seq 100); do
		[ -n "$(ss -Hltn sport = :"$es2")" ] && return 0
		sleep 0.1
	done
	return 1
}
