#!/usr/bin/env python3
"""Regenerate the seed corpus of the fuzz targets (tests/fuzz/corpus/<target>/) from the conformance vectors and
from sm-ota packets built with the fuzz targets' fixed keys (tests/fuzz/fuzz.h). Developers run it by hand:
    tests/fuzz/make_corpus.py _build/ota/sm-ota
and commit the files; `make check` and scripts/fuzz only read them."""
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
VEC = os.path.join(HERE, "..", "vectors")
OUT = os.path.join(HERE, "corpus")
SM_OTA = sys.argv[1] if len(sys.argv) > 1 else "ota/sm-ota"
KEYS = {"1": bytes(range(8)), "d": bytes(range(8)), "5": bytes(range(16)), "9": bytes(range(24)), "2": bytes(range(16))}


def put(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()[:16]), "wb") as f:
        f.write(data)


scp80 = json.load(open(os.path.join(VEC, "scp80.json")))["vectors"]
crypto = json.load(open(os.path.join(VEC, "crypto.json")))

for v in scp80:
    e = v["expected"]
    if v["kind"] == "command":
        put("spkt", bytes.fromhex(e["packet"]))
        segs = [bytes.fromhex(s) for s in e.get("ud_segments", [])]
        if segs:
            put("sms", b"\x00" + b"".join(bytes([len(s)]) + s for s in segs))
            put("sms", b"\x00" + b"".join(bytes([len(s)]) + s for s in reversed(segs)))
        for t in e.get("tpdus", []):
            put("sms", b"\x01" + bytes.fromhex(t))
    else:
        hdr = bytes.fromhex(v["spi"] + v["kic"] + v["kid"])
        put("por", hdr + bytes.fromhex(v["ud"]))

# packets the fuzz keys verify, so mutations reach the deciphering and CC code
for spi, kic, kid, data in [("1621", "12", "12", "aa0a22088000000000000000"), ("0619", "25", "25", "00a40004023f00"),
                            ("1e39", "19", "19", "01" * 40), ("0a01", "11", "11", ""), ("1d32", "35", "35", "0102"),
                            ("0901", "15", "11", "0203"), ("0c01", "1d", "01", "ff" * 26), ("1228", "a2", "42", "00" * 150)]:
    args = [SM_OTA, "build", "--spi", spi, "--kic", kic, "--kid", kid, "--tar", "000001", "--cntr", "0000000001",
            "--key-enc", KEYS[kic[1]].hex(), "--key-mac", KEYS[kid[1]].hex(), "--data", data]
    pkt = subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()
    put("spkt", bytes.fromhex(pkt))
    put("tlv", bytes.fromhex(pkt))

c = crypto["sgp02_cert_dp_ecdsa"]
put("cert", bytes.fromhex(c["cert_7F21"]))
put("tlv", bytes.fromhex(c["cert_7F21"]))
put("tlv", bytes.fromhex(c["store_data_1_apdu"])[5:])
for item in ["e3124f10a0000005591010ffffffff89000010009f700107",
             "e1354c10890010120123412340123456789012244d01024e0200004f10a0000005591010ffffffff8900001300"
             "14083a45990057918503",
             "a6159002030995011080018881011082010183013091 00".replace(" ", ""),
             "aa1a2218 80e60c0013 10a0000005591010ffffffff8900000d00 00".replace(" ", "") + "2205 80ca00e000",
             "ae80220580ca00e000 2203 80f200 0000".replace(" ", "")]:
    put("tlv", bytes.fromhex(item))
for item in ["aa0d220b80e2880006 3a03124f0100".replace(" ", ""), "ae80220580e28800 00 0000".replace(" ", ""),
             "ae8022058 0e2880000 830101 0000".replace(" ", ""), "ab078001012302 9000", "af80800101 2302 9000 0000",
             "af8023148610" + "00" * 16 + "9000" + "0000", "ab0480010190 00", "016132", "00a40004023f0000b0000a"]:
    put("rcmd", bytes.fromhex(item.replace(" ", "")))
print("corpus written to", OUT)
