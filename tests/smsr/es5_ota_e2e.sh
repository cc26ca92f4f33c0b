#!/usr/bin/env bash
# ES5 over SCP80 SMS end to end: real Kannel (bearerbox + smsbox) started on free loopback ports, the euicc-sim
# fleet as its fake-SMSC peer, and es5_ota_e2e as the SM-SR side. Everything is stopped at the end.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${TOP_SRCDIR:-$here/../..}
bin=${E2E_BIN:-smsr/es5_ota_e2e}
sim=${EUICC_SIM:-euicc-sim/euicc-sim}
run=$(mktemp -d /tmp/es5_ota_e2e_run.XXXXXX)
seed=e2e$$

cleanup() {
	[ -n "${SIM_PID:-}" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
	"$top/tests/kannel/kannel-down" "$run/kannel" >/dev/null 2>&1
	rm -rf "$run"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
if ! "$top/tests/kannel/kannel-up" "$run/kannel" --mo-url "http://127.0.0.1:$port/mo" >"$run/kannel-up.log" 2>&1; then
	cat "$run/kannel-up.log"
	echo "es5_ota_e2e.sh: 0 checks passed, 1 failed"
	exit 1
fi
. "$run/kannel/env"
"$sim" --kannel "127.0.0.1:$KANNEL_FAKE_PORT" --fleet 3 --seed "$seed" --duration 120 --notif-delay 300 \
	>"$run/sim.log" 2>&1 &
SIM_PID=$!
"$bin" "$port" "$KANNEL_SENDSMS_URL" "$KANNEL_SENDSMS_USER" "$KANNEL_SENDSMS_PASSWORD" "$seed"
rc=$?
[ $rc -eq 0 ] || { echo "--- euicc-sim log"; tail -20 "$run/sim.log"; }
exit $rc
