#!/usr/bin/env bash
# smsr-ctl eis import: a signed fleet file (fleet-eis-xml) imported into a fresh store; a rerun finds everything
# unchanged; tampered, unsigned, bad-ECASD and foreign-EUM EIS are refused one by one with their status while the
# rest is imported; a truncated file and a DOCTYPE store nothing; the keys re-sealed from the transport key drive
# real SCP80 (fleet keys from euicc-sim's derivation); the store then passes smsrd --db-check.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=${TOP_SRCDIR:-$here/../..}
ctl=${SMSR_CTL:-../smsr/smsr-ctl}
smsrd=${SMSRD:-../smsr/smsrd}
gen=${FLEET_EIS_XML:-smsr/fleet-eis-xml}
sign=${EIS_SIGN:-smsr/eis-sign}
run=$(mktemp -d /tmp/smsr_ctl_test.XXXXXX)
pass=0 fail=0
ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok; else ko "$what"; fi; }
trap 'rm -rf "$run"' EXIT

mno=1.3.6.1.4.1.99901 eum=1.3.6.1.4.1.99920 smsr=1.3.6.1.4.1.99900
"$top/scripts/gen-test-pki" "$run/pki" >/dev/null || { echo "gen-test-pki failed"; exit 1; }
"$top/scripts/gen-test-pki" "$run/pki2" >/dev/null || { echo "gen-test-pki failed"; exit 1; }
head -c 16 /dev/urandom >"$run/transport.key"
chmod 600 "$run/transport.key"
mkdir -p "$run/db"
cat >"$run/smsrd.conf" <<CONF
[smsr]
entity-id = $smsr
[db]
path = $run/db
map-size = 64M
[keystore]
master-key-file = $run/pki/smsr-master.key
transport-key-file = $run/transport.key
ci-cert-file = $run/pki/ci.crt
[log]
timestamps = no
[requester eum]
entity-id = $eum
role = eum
tls-subject = CN=Test EUM client
CONF
imp() { # file [options] -> stdout in $run/out, exit code echoed
	"$ctl" -c "$run/smsrd.conf" eis import "${@:2}" "$1" >"$run/out" 2>"$run/err"
	echo $?
}
summary() { tail -n 1 "$run/out"; }

"$gen" -o "$run/fleet.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$run/transport.key" 7 200 "$mno" "$eum" "$smsr"
check "fleet file generated" test -s "$run/fleet.xml"
rc=$(imp "$run/fleet.xml" --jobs 2 --batch 64)
check "200 signed EIS imported (exit 0)" test "$rc" = 0 -a -n "$(summary | grep -F 'seen=200 imported=200 unchanged=0 refused=0')"
rc=$(imp "$run/fleet.xml")
check "rerun: everything unchanged (exit 0)" test "$rc" = 0 -a -n "$(summary | grep -F 'seen=200 imported=0 unchanged=200 refused=0')"

# a file of 5 new EIS (index 200..204): #2 tampered after signing, #3 with a bad ECASD certificate signature,
# #4 signed by an EUM of another CI, #5 Eum-id of another EUM; #1 is good
"$gen" -f 200 -o "$run/new.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$run/transport.key" 7 5 "$mno" "$eum" "$smsr"
python3 - "$run/new.xml" "$run/pki" "$run/pki2" "$sign" "$eum" <<'PY'
import re, subprocess, sys
path, pki, pki2, sign, eum = sys.argv[1:]
text = open(path).read()
head, rest = text.split('\n', 1)
items = re.findall(r'<rps:Eis>.*?</rps:Eis>', rest, re.S)
assert len(items) == 5, len(items)
ns = 'xmlns:rps="http://namespaces.gsma.org/esim-messaging/3"'
def resign(xml, opts, k=pki):
    doc = '<?xml version="1.0"?>\n<rps:Eis ' + ns + xml[len('<rps:Eis'):]
    open(path + '.one', 'w').write(doc)
    subprocess.check_call([sign, '-i'] + opts + [k + '/eum.key', k + '/eum.crt', path + '.one'])
    out = open(path + '.one').read().split('\n', 1)[1].strip()
    return out.replace(' ' + ns, '', 1)
items[1] = items[1].replace('<rps:PlatformVersion>1.0.0<', '<rps:PlatformVersion>1.0.9<', 1)
items[2] = resign(items[2], ['-B'])
items[3] = resign(items[3], [], pki2)
items[4] = resign(items[4].replace('<rps:Eum-id>' + eum + '<', '<rps:Eum-id>1.3.6.1.4.1.99921<', 1), [])
open(path, 'w').write('<?xml version="1.0" encoding="UTF-8"?>\n<rps:EisList ' + ns + '>\n' + '\n'.join(items) + '\n</rps:EisList>\n')
PY
check "mixed file prepared" test $? -eq 0
rc=$(imp "$run/new.xml" --jobs 2)
check "mixed file: exit 1, 1 imported, 4 refused" test "$rc" = 1 -a -n "$(summary | grep -F 'seen=5 imported=1 unchanged=0 refused=4')"
check "tampered EIS: 8.6/6.1 on the EumSignature" grep -q 'refused eis=2 .*subject=8.6 reason=6.1 id=Eis/EumSignature msg="DigestValue' "$run/out"
check "bad ECASD certificate: 8.6/6.1 on the Ecasd" grep -q 'refused eis=3 .*subject=8.6 reason=6.1 id=Eis/EumSignedInfo/Ecasd msg="ECASD certificate signature does not verify' "$run/out"
check "EUM of another CI: 8.6/6.1" grep -q 'refused eis=4 .*subject=8.6 reason=6.1 id=Eis/EumSignature msg="EUM certificate not accepted' "$run/out"
check "Eum-id of another EUM: 8.6/6.1 on Eum-id" grep -q 'refused eis=5 .*subject=8.6 reason=6.1 id=Eis/EumSignedInfo/Eum-id' "$run/out"
rc=$(imp "$run/new.xml" --any-eum)
check "--any-eum: the foreign Eum-id is accepted, the first is unchanged" test "$rc" = 1 -a -n "$(summary | grep -F 'seen=5 imported=1 unchanged=1 refused=3')"

# the same EID with other content: 8.1.1/3.3
"$gen" -f 3 -o "$run/dup.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$run/transport.key" 7 1 1.3.6.1.4.1.99902 "$eum" "$smsr"
rc=$(imp "$run/dup.xml")
check "registered EID with other content: 8.1.1/3.3" test "$rc" = 1 -a -n "$(grep 'subject=8.1.1 reason=3.3' "$run/out")"

# files that store nothing
"$gen" -f 300 -o "$run/more.xml" "$run/pki/eum.key" "$run/pki/eum.crt" "$run/transport.key" 7 20 "$mno" "$eum" "$smsr"
head -c $(($(wc -c <"$run/more.xml") - 300)) "$run/more.xml" >"$run/trunc.xml"
rc=$(imp "$run/trunc.xml")
check "truncated file: exit 3, nothing stored" test "$rc" = 3 -a -n "$(grep -F 'not well-formed' "$run/err")" -a -n "$(summary | grep -F 'seen=0')"
{ echo '<?xml version="1.0"?>'; echo '<!DOCTYPE x [<!ENTITY a "b">]>'; tail -n +2 "$run/more.xml"; } >"$run/doctype.xml"
rc=$(imp "$run/doctype.xml")
check "DOCTYPE: exit 3, refused" test "$rc" = 3 -a -n "$(grep -F 'DOCTYPE not allowed' "$run/err")"
rc=$(imp "$run/more.xml")
check "the complete file then imports all 20" test "$rc" = 0 -a -n "$(summary | grep -F 'seen=20 imported=20')"
rc=$(imp "$run/nonexistent.xml")
check "missing file: exit 3" test "$rc" = 3
"$ctl" -c "$run/smsrd.conf" eis import >/dev/null 2>&1
check "usage error: exit 2" test $? -eq 2

# the keys arrived under the transport key and were re-sealed: the store is consistent and holds 222 EIS
out=$("$smsrd" --db-check -c "$run/smsrd.conf" 2>&1)
check "smsrd --db-check clean after the imports" test $? -eq 0
check "--db-check counts 222 EIS and their 444 ICCIDs" grep -q "schema [0-9]*, 222 EIS, 444 ICCID" <<<"$out"
[ "$fail" -eq 0 ] || { echo "--- last output"; cat "$run/out" "$run/err"; echo "--- db-check"; echo "$out"; }
echo "smsr_ctl_test.sh: $pass checks passed, $fail failed"
[ "$fail" -eq 0 ]
