#!/usr/bin/env bash
# sm-ota command-line contract: exact outputs on known vectors (pySim's AES-128 card exchange, a concatenated
# packet, pySim's SCP03 trace, WHTY's CERT.DP.ECDSA) and exit codes 0 / 2 (usage, malformed) / 3 (integrity).
set -u
SM_OTA=${SM_OTA:-../ota/sm-ota}
pass=0 fail=0

expect() { # name, expected exit code, expected stdout, command...
	local name=$1 want_rc=$2 want_out=$3 out rc
	shift 3
	out=$("$@" 2>/tmp/sm_ota_test.$$.err)
	rc=$?
	if [ "$rc" = "$want_rc" ] && { [ "$want_out" = "-" ] || [ "$out" = "$want_out" ]; }; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		printf 'FAIL %s: exit %s (want %s)\n--- got\n%s\n--- want\n%s\n--- stderr\n' "$name" "$rc" "$want_rc" "$out" "$want_out"
		cat /tmp/sm_ota_test.$$.err
	fi
}

KE=200102030405060708090a0b0c0d0e0f
KM=201102030405060708090a0b0c0d0e0f
PKT=00281506192222b00011e87cceebb2d93083011ce294f93fc4d8de80da1abae8c37ca3e72ec4432e5058
POR=027100002412b00011ebc6b497e2cad7aedf36ace0e3a29b38853f0fe9ccde81913be5702b73abce1f
SEC=(--key-enc $KE --key-mac $KM)

# build
expect build-packet 0 "$PKT" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00a40004023f00
expect build-packet-explicit 0 "$PKT" $SM_OTA build --out packet --data 00A40004023F00 --tar B00011 --kid 22 --kic 22 --spi 0619 --cntr 0000000000 "${SEC[@]}"
expect build-ud 0 "027000$PKT" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00a40004023f00 --out ud
expect build-empty-data 0 "000e0d00000000000000000000000000" $SM_OTA build --spi 0000 --kic 00 --kid 00 --tar 000000 --cntr 0000000000 --data ""
# scp80.json cmd-pysim-054: 140-byte packet -> 2 concatenated SMS
D054=178a4fa0fd18c28fa1030f7d967f6e5d4307da0c363a99eaaebadac5471f1eb4143e3ea83cd167059a9211399e54815268c768c85dbefd7976811229e0eccf47bce9ee5d3686c03d1df1e03463ab9042f0e1ccb0d3c49a199d41f856679c6d62d9ebe5be255bd058a4e3eccb724d11d7f42b971f9b
UD054="0700030002017000008b151228a2420000008a874ed68e00fde381e5bdc67ed6178a4fa0fd18c28fa1030f7d967f6e5d4307da0c363a99eaaebadac5471f1eb4143e3ea83cd167059a9211399e54815268c768c85dbefd7976811229e0eccf47bce9ee5d3686c03d1df1e03463ab9042f0e1ccb0d3c49a199d41f856679c6d62d9ebe5be255bd058a4e3eccb
050003000202724d11d7f42b971f9b"
expect build-concatenated 0 "$UD054" $SM_OTA build --spi 1228 --kic a2 --kid 42 --tar 000000 --cntr 8a874ed68e --key-enc b784b3ae83b8786d84ece3aa65b35b31 --key-mac 227d1a7f07223086417105b3c693a536 --cc-len 8 --data $D054 --out ud
expect build-cmac4 0 - $SM_OTA build --spi 1621 --kic 12 --kid 12 --tar 000001 --cntr 0000000001 "${SEC[@]}" --cc-len 4 --data 01
expect build-missing-key 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 --data 00
expect build-missing-data 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}"
expect build-short-tar 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b000 --cntr 0000000000 "${SEC[@]}" --data 00
expect build-bad-hex 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 0g
expect build-odd-hex 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 001
expect build-bad-out 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00 --out sms
expect build-bad-cclen 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00 --cc-len 6
expect build-unknown-opt 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00 --verbose
expect build-dup-opt 2 "" $SM_OTA build --spi 0619 --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00
expect build-key-len 2 "" $SM_OTA build --spi 0619 --kic 22 --kid 22 --tar b00011 --cntr 0000000000 --key-enc 0011 --key-mac $KM --data 00
expect build-reserved-alg 2 "" $SM_OTA build --spi 0619 --kic 23 --kid 22 --tar b00011 --cntr 0000000000 "${SEC[@]}" --data 00

# parse-por: the SJA5 card's answer
POR_OUT="tar=b00011
cntr=0000000000
pcntr=14
status=00
integrity=ok
data=016132"
expect por-ud 0 "$POR_OUT" $SM_OTA parse-por --spi 0619 --kic 22 --kid 22 "${SEC[@]}" $POR
expect por-raw 0 "$POR_OUT" $SM_OTA parse-por --spi 0619 --kic 22 --kid 22 "${SEC[@]}" ${POR#027100}
BAD=${POR%?}e
expect por-tampered 3 - $SM_OTA parse-por --spi 0619 --kic 22 --kid 22 "${SEC[@]}" $BAD
expect por-tampered-says-bad 0 "integrity=bad" bash -c "$SM_OTA parse-por --spi 0619 --kic 22 --kid 22 ${SEC[*]} $BAD | grep '^integrity='"
expect por-truncated 2 "" $SM_OTA parse-por --spi 0619 --kic 22 --kid 22 "${SEC[@]}" ${POR:0:40}
expect por-clear-error 0 "tar=000001
cntr=0000000001
pcntr=0
status=06
integrity=none
data=" $SM_OTA parse-por --spi 1639 --kic 12 --kid 12 "${SEC[@]}" 027100000b0a00000100000000010006
expect por-no-input 2 "" $SM_OTA parse-por --spi 0619 --kic 22 --kid 22 "${SEC[@]}"
expect por-two-inputs 2 "" $SM_OTA parse-por --spi 0619 --kic 22 --kid 22 "${SEC[@]}" $POR $POR
expect por-missing-spi 2 "" $SM_OTA parse-por --kic 22 --kid 22 "${SEC[@]}" $POR

# parse-cmd: the card's view of the same packet
CMD_OUT="spi=0619
kic=22
kid=22
tar=b00011
cntr=0000000000
pcntr=11
integrity=ok
data=00a40004023f00"
expect cmd-packet 0 "$CMD_OUT" $SM_OTA parse-cmd "${SEC[@]}" $PKT
expect cmd-ud 0 "$CMD_OUT" $SM_OTA parse-cmd "${SEC[@]}" 027000$PKT
expect cmd-wrong-mac-key 3 - $SM_OTA parse-cmd --key-enc $KE --key-mac $KE $PKT
expect cmd-no-key 2 "" $SM_OTA parse-cmd $PKT
expect cmd-truncated 2 "" $SM_OTA parse-cmd "${SEC[@]}" ${PKT:0:60}
expect cmd-spi-option 2 "" $SM_OTA parse-cmd --spi 0619 "${SEC[@]}" $PKT

# scp03-derive: pySim test_globalplatform AES128 SL 11 trace
expect scp03 0 "s_enc=c4e87149f2114da66bb015a567d751f9
s_mac=8b2635556e987a6b84f43d9ffc197d3f
s_rmac=3f6b2ce3b3abd9a99bd4453afa54cc7b
card_cryptogram=66c484c1d2ef1948
host_cryptogram=7d5f5826a993ebc8" $SM_OTA scp03-derive --key-enc 000102030405060708090a0b0c0d0e0f --key-mac 101112131415161718191a1b1c1d1e1f --host-challenge b13e5f938fc108c4 --card-challenge 3eb51047495b249f
expect scp03-missing 2 "" $SM_OTA scp03-derive --key-enc 000102030405060708090a0b0c0d0e0f --host-challenge b13e5f938fc108c4 --card-challenge 3eb51047495b249f

# cert-verify: WHTY CERT.DP.ECDSA signed by its CI test key
CI=04f5d2ffb5293ed953053daf0865f7fcaee9790216ad861246777b3ccbe4077ba261bb8a999dd9d56f987e5ac8548afba5b11a91a786acfca4982b18c5192d15ca
CERT=7f2181a59301024201025f2001029501885f2404214501017303c801017f4946b041046466e042804faac48f839ea53e85d0b8b93f2f015028a472f07f3227af408170acfb39d198ba7d0dcff3de5032a6cc8f6acc84ef556bfe530dec0ff75f2af59af001005f37405f8fb981d078662bba38f22f4041ac8299b6869f724545fdcf0c2b8b575ae8ec3d6a12e2adab160646266ceea067baefbfb4899a5f71162b56770c63d029236d
CERT_OUT="serial=02
ca_id=02
subject=02
key_usage=88
effective=
expiry=21450101
pk=046466e042804faac48f839ea53e85d0b8b93f2f015028a472f07f3227af408170acfb39d198ba7d0dcff3de5032a6cc8f6acc84ef556bfe530dec0ff75f2af59a
signature=ok"
expect cert-ok 0 "$CERT_OUT" $SM_OTA cert-verify --ci-pk $CI $CERT
expect cert-bad-sig 3 "${CERT_OUT%ok}bad" $SM_OTA cert-verify --ci-pk $CI ${CERT%?}c
expect cert-truncated 2 "" $SM_OTA cert-verify --ci-pk $CI ${CERT:0:100}
expect cert-no-pk 2 "" $SM_OTA cert-verify $CERT

# cert-issue, checked with cert-verify: a P-256 CI certifying a brainpoolP256r1 key and the reverse
T=$(mktemp -d /tmp/sm_ota_test.XXXXXX)
openssl ecparam -name prime256v1 -genkey -noout -out "$T/p256.key" 2>/dev/null
openssl ecparam -name brainpoolP256r1 -genkey -noout -out "$T/bp.key" 2>/dev/null
openssl ec -in "$T/bp.key" -pubout -out "$T/bp.pub" 2>/dev/null
point() { openssl ec -in "$1" -pubout -outform DER 2>/dev/null | tail -c 65 | od -An -tx1 | tr -d ' \n'; }
ISSUE=(--serial 0102 --ca-id 4142 --subject 0a0b --usage 88 --discretionary c80101 --effective 20260101 --expiry 20360101)
C1=$($SM_OTA cert-issue --ca-key "$T/p256.key" --subject-key "$T/bp.pub" "${ISSUE[@]}" | sed -n 's/^cert=//p')
expect cert-issue-p256-ci 0 "serial=0102
ca_id=4142
subject=0a0b
key_usage=88
effective=20260101
expiry=20360101
pk=$(point "$T/bp.key")
signature=ok" $SM_OTA cert-verify --ci-pk "$(point "$T/p256.key")" "$C1"
expect cert-issue-f0-brainpool 0 "03" sh -c "echo $C1 | grep -o 'F00103' | cut -c5-6"
C2=$($SM_OTA cert-issue --ca-key "$T/bp.key" --subject-key "$T/p256.key" "${ISSUE[@]}" | sed -n 's/^cert=//p')
expect cert-issue-brainpool-ci 0 - $SM_OTA cert-verify --ci-pk "$(point "$T/bp.key")" "$C2"
expect cert-issue-other-ci 3 - $SM_OTA cert-verify --ci-pk "$(point "$T/p256.key")" "$C2"
expect cert-issue-public-ca-key 2 "" $SM_OTA cert-issue --ca-key "$T/bp.pub" --subject-key "$T/p256.key" "${ISSUE[@]}"
expect cert-issue-bad-date 2 "" $SM_OTA cert-issue --ca-key "$T/p256.key" --subject-key "$T/bp.pub" --serial 01 --ca-id 01 --subject 01 --usage 88 --expiry 2036-01-01
expect cert-issue-no-serial 2 "" $SM_OTA cert-issue --ca-key "$T/p256.key" --subject-key "$T/bp.pub" --ca-id 01 --subject 01 --usage 88 --expiry 20360101
# the test PKI's GP certificates (scripts/gen-test-pki with SM_OTA): each verifies under its issuer
if [ -n "${TOP_SRCDIR:-}" ]; then
	SM_OTA=$(cd "$(dirname "$SM_OTA")" && pwd)/$(basename "$SM_OTA") "$TOP_SRCDIR/scripts/gen-test-pki" "$T/pki" >/dev/null
	for c in smdp-ecdsa:ci smsr-ecdsa:ci ecasd:eum smdp-ecdsa-bp:ci-bp; do
		expect "gen-test-pki-${c%%:*}" 0 - sh -c "$SM_OTA cert-verify --ci-pk \$(cat $T/pki/${c#*:}.pk) \$(cat $T/pki/${c%%:*}.gpcert) | grep -x signature=ok"
	done
fi
rm -rf "$T"

# general
expect no-args 2 "" $SM_OTA
expect unknown-command 2 "" $SM_OTA frobnicate

rm -f /tmp/sm_ota_test.$$.err
echo "sm_ota_test.sh: $pass checks passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
