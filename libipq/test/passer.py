"""passer.py - the libipq(3) man-page passer in Python, through ctypes: an
interpreter loading libipq.so with dlopen, as scripting languages did with
the original library. It accepts COUNT packets, printing each one's
payload, and how many threads the process has.

    python3 passer.py LIBRARY COUNT
"""

import ctypes
import os
import sys

IPQ_COPY_PACKET = 2
IPQM_PACKET = 0x13
NF_ACCEPT = 1
PF_INET = 2
NLMSG_HDRLEN = 16


class PacketMsg(ctypes.Structure):
    """ipq_packet_msg_t of <linux/netfilter_ipv4/ip_queue.h>."""

    _fields_ = [
        ("packet_id", ctypes.c_ulong),
        ("mark", ctypes.c_ulong),
        ("timestamp_sec", ctypes.c_long),
        ("timestamp_usec", ctypes.c_long),
        ("hook", ctypes.c_uint),
        ("indev_name", ctypes.c_char * 16),
        ("outdev_name", ctypes.c_char * 16),
        ("hw_protocol", ctypes.c_ushort),
        ("hw_type", ctypes.c_ushort),
        ("hw_addrlen", ctypes.c_ubyte),
        ("hw_addr", ctypes.c_ubyte * 8),
        ("data_len", ctypes.c_size_t),
    ]


def threads():
    return len(os.listdir("/proc/self/task"))


def main():
    lib = ctypes.CDLL(sys.argv[1], use_errno=True)
    count = int(sys.argv[2])
    lib.ipq_create_handle.restype = ctypes.c_void_p
    lib.ipq_create_handle.argtypes = [ctypes.c_uint32, ctypes.c_uint32]
    lib.ipq_set_mode.argtypes = [ctypes.c_void_p, ctypes.c_uint8, ctypes.c_size_t]
    lib.ipq_read.restype = ctypes.c_ssize_t
    lib.ipq_read.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    lib.ipq_message_type.argtypes = [ctypes.c_char_p]
    lib.ipq_set_verdict.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_uint, ctypes.c_size_t, ctypes.c_char_p]
    lib.ipq_destroy_handle.argtypes = [ctypes.c_void_p]
    lib.ipq_errstr.restype = ctypes.c_char_p

    h = lib.ipq_create_handle(0, PF_INET)
    if not h or lib.ipq_set_mode(h, IPQ_COPY_PACKET, 2048) < 0:
        sys.exit("passer.py: %s" % lib.ipq_errstr().decode())
    print("ready threads=%d" % threads(), flush=True)
    buf = ctypes.create_string_buffer(2048)
    passed = 0
    while passed < count:
        n = lib.ipq_read(h, buf, len(buf), 5000000)
        if n < 0:
            sys.exit("passer.py: ipq_read: %s" % lib.ipq_errstr().decode())
        if n == 0 or lib.ipq_message_type(buf) != IPQM_PACKET:
            continue
        m = PacketMsg.from_buffer(buf, NLMSG_HDRLEN)
        payload = buf.raw[NLMSG_HDRLEN + ctypes.sizeof(PacketMsg):][: m.data_len]
        if lib.ipq_set_verdict(h, m.packet_id, NF_ACCEPT, 0, None) < 0:
            sys.exit("passer.py: ipq_set_verdict: %s" % lib.ipq_errstr().decode())
        ihl = (payload[0] & 0x0F) * 4
        print("packet outdev=%s payload=%s" % (m.outdev_name.decode(), payload[ihl + 8 :].decode()), flush=True)
        passed += 1
    lib.ipq_destroy_handle(h)
    print("done threads=%d" % threads(), flush=True)


if __name__ == "__main__":
    main()
