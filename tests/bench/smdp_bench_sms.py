#!/usr/bin/env python3
"""SMS accounting of the SM-DP benchmark from smsrd's log: per eUICC, the ES3-SendData exchanges in order (1: key
establishment with the certificate, 2: key parameters + INITIALIZE UPDATE, 3..: the SCP03t profile loading) and
the SMS of each one's first attempt.
    smdp_bench_sms.py SMSRD_LOG PROFILE_BYTES MT_TOTAL MO_TOTAL DOWNLOADS"""
import re
import sys

log, size, mt, mo, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
acc = re.compile(r"EID (\w+): op (\d+) ES3-SendData accepted")
sent = re.compile(r"EID (\w+): op (\d+): attempt (\d+), CNTR \d+, (\d+)-byte packet in (\d+) SMS")
order = {}   # op -> position of the SendData for its eUICC
count = {}   # eid -> SendData seen
load_sms = 0
with open(log, errors="replace") as f:
    for line in f:
        m = acc.search(line)
        if m:
            eid, op = m.group(1), m.group(2)
            count[eid] = count.get(eid, 0) + 1
            order[op] = count[eid]
            continue
        m = sent.search(line)
        if m and m.group(2) in order and order[m.group(2)] >= 3:
            load_sms += int(m.group(5))
kib = size / 1024.0
if n:
    print("sms_per_kib_profile=%.2f" % (load_sms / n / kib))
    print("sms_per_download=%.1f" % ((mt + mo) / n))
    print("mt_sms_per_kib_download=%.2f" % (mt / n / kib))
