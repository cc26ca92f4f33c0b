# shellcheck shell=bash
# Helpers shared by the SM-SR shell tests and benchmarks (sourced, never run).

freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# smsrd_conf FILE: an smsrd configuration for a run on loopback next to a kannel-up Kannel ($run/kannel/env sourced)
# from $run (db/, pki/), $es4, $mo, $mno and $CALLBACK_URL; optional POR_TIMEOUT (5s), RETRIES (2), NOTIF_TIMEOUT
# (30s), LOG_LEVEL (info), MAP_SIZE (64M), KEYSTORE_EXTRA (more [keystore] lines). Standard input is appended
# (further [requester] sections).
smsrd_conf() {
	cat >"$1" <<CONF
[smsr]
entity-id = 1.3.6.1.4.1.99999.10
[db]
path = $run/db
map-size = ${MAP_SIZE:-64M}
[keystore]
master-key-file = $run/pki/smsr-master.key
${KEYSTORE_EXTRA:-}
[es4]
listen = 127.0.0.1:$es4
tls-cert = $run/pki/smsr-tls.crt
tls-key = $run/pki/smsr-tls.key
tls-ca = $run/pki/tls-ca.crt
[kannel]
sendsms-url = $KANNEL_SENDSMS_URL
username = $KANNEL_SENDSMS_USER
password = $KANNEL_SENDSMS_PASSWORD
mo-listen = 127.0.0.1:$mo
mo-url = http://127.0.0.1:$mo
[es5]
por-timeout = ${POR_TIMEOUT:-5s}
retries = ${RETRIES:-2}
notification-timeout = ${NOTIF_TIMEOUT:-30s}
[log]
timestamps = no
level = ${LOG_LEVEL:-info}
[requester mno1]
entity-id = $mno
role = mno
tls-subject = $(sed -n 's/^mno1 //p' "$run/pki/subjects")
callback-url = $CALLBACK_URL
CONF
	cat >>"$1"
}

# start_smsrd SMSRD CONF LOG: start it in the background (PID), true once it listens on $es4
start_smsrd() {
	"$1" -c "$2" >>"$3" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		[ -n "$(ss -Hltn sport = :"$es4")" ] && return 0
		sleep 0.1
	done
	return 1
}
