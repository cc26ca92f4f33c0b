#!/usr/bin/env bash
# The main job, scripts/demo, on the tree `make check` built: real Kannel, smsrd, smdpd and euicc-sim on loopback.
# Every step must end as the demo promises: 3 RegisterEIS, GetEIS, AuditEIS, EnableProfile and DisableProfile
# EXECUTED_SUCCESS, both Handle*Notifications, the final EIS back on the fall-back profile, SMS through Kannel;
# then the SM-DP: the ES2 DownloadProfile timeline through key establishment and loading to EXECUTED_SUCCESS, the
# profile installed on the simulated card and Enabled in the EIS.
set -u
top=${TOP_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${DEMO_BUILD_DIR:-$(cd .. && pwd)}
pass=0 fail=0
check() { local what=$1; shift; if "$@"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $what"; fi; }

out=$(cd "$top" && DEMO_NO_BUILD=1 DEMO_BUILD_DIR="$build" timeout 300 scripts/demo 2>&1)
check "demo exits 0" test $? -eq 0
check "3 eUICCs registered over ES1" test "$(grep -c 'EID [0-9]*: HTTP 200 EXECUTED_SUCCESS' <<<"$out")" = 3
check "GetEIS" grep -q '^\[6\] ES4-GetEIS' <<<"$out"
for f in AuditEIS EnableProfile DisableProfile; do
	check "$f callback EXECUTED_SUCCESS" grep -q "ES4-${f}Response callback after .*: EXECUTED_SUCCESS" <<<"$out"
done
check "HandleProfileEnabledNotification" grep -q 'ES4-HandleProfileEnabledNotification' <<<"$out"
check "HandleProfileDisabledNotification" grep -q 'ES4-HandleProfileDisabledNotification' <<<"$out"
final=$(sed -n '/final EIS/,$p' <<<"$out")
check "final EIS: the fall-back profile enabled again" grep -q 'Enabled, fall-back' <<<"$final"
check "SMS went through Kannel" grep -qE 'through Kannel: [1-9][0-9]* MT SMS, [1-9][0-9]* MO SMS' <<<"$out"
check "ES2 DownloadProfile: key establishment in the timeline" grep -q 'receipt verified: ISD-P keyset established' <<<"$out"
check "ES2 DownloadProfile callback EXECUTED_SUCCESS" \
	grep -q 'ES2-DownloadProfileResponse callback after .*: EXECUTED_SUCCESS, ICCID 89499' <<<"$out"
check "the card installed the 16 KiB profile" grep -q 'on the card: profile ICCID 89499[0-9]* installed (16' <<<"$out"
final2=$(sed -n '/final EIS of eUICC 2/,$p' <<<"$out")
check "final EIS of eUICC 2: the downloaded profile Enabled" grep -q 'ICCID 89499[0-9]* .* Enabled$' <<<"$final2"
check "nothing FAILED" test -z "$(grep -o 'FAILED' <<<"$out")"
[ $fail -eq 0 ] || echo "$out" | tail -40
echo "demo_e2e_test.sh: $pass checks passed, $fail failed"
[ $fail -eq 0 ]
