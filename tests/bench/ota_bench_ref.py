#!/usr/bin/env python3
"""Reference for tests/bench/ota-bench: the same SCP80 command packet build in Python (the pyca `cryptography`
package, Debian python3-cryptography), written from TS 102 225 like pySim's encoder. Prints first_packet= (checked
byte for byte against the C build by scripts/bench) and python_build_aes128_cc_cipher_64b_per_s=."""
import sys
import time
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_ENC = bytes.fromhex("200102030405060708090a0b0c0d0e0f")
KEY_MAC = bytes.fromhex("201102030405060708090a0b0c0d0e0f")
SPI, KIC, KID, TAR = bytes.fromhex("1621"), 0x12, 0x12, bytes.fromhex("000001")


def build(cntr: int, data: bytes) -> bytes:
    cc_len = 8
    pcntr = (16 - (6 + cc_len + len(data)) % 16) % 16
    chl = 13 + cc_len
    cpl = 1 + chl + len(data) + pcntr
    hdr = cpl.to_bytes(2, "big") + bytes([chl]) + SPI + bytes([KIC, KID]) + TAR
    c5 = cntr.to_bytes(5, "big")
    pad = bytes(pcntr)
    m = cmac.CMAC(algorithms.AES(KEY_MAC))
    m.update(hdr + c5 + bytes([pcntr]) + data + pad)
    cc = m.finalize()[:cc_len]
    enc = Cipher(algorithms.AES(KEY_ENC), modes.CBC(bytes(16))).encryptor()
    return hdr + enc.update(c5 + bytes([pcntr]) + cc + data + pad) + enc.finalize()


def main():
    secs = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    data = bytes(range(64))
    print("first_packet=" + build(1, data).hex())
    n = 0
    t0 = time.monotonic()
    while True:
        for _ in range(1000):
            n += 1
            build(n, data)
        t = time.monotonic() - t0
        if t >= secs:
            break
    print("python_build_aes128_cc_cipher_64b_per_s=%.0f" % (n / t))


if __name__ == "__main__":
    main()
