#!/usr/bin/env bash
# The codec demo (what scripts/demo runs today) completes the whole exchange and says so.
set -u
out=$("${CODEC_DEMO:-demo/codec-demo}") || { echo "$out"; echo "demo_test.sh: 0 checks passed, 1 failed"; exit 1; }
pass=0 fail=0
for want in "SMS 2/2 TP-UD" "segment 1/2" "packet complete" "CC ok -> PoR status 00 (PoR OK)" \
	"C-APDU 1: INSTALL" "C-APDU 2: GET STATUS" "status 00 (PoR OK), CC ok, was ciphered" \
	"R-APDU 2: SW 9000" "2 of 2 commands executed" "result: CreateISDP EXECUTED_SUCCESS"; do
	if grep -qF -- "$want" <<<"$out"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: missing '$want'"; fi
done
[ $fail -eq 0 ] || echo "$out"
echo "demo_test.sh: $pass checks passed, $fail failed"
[ $fail -eq 0 ]
