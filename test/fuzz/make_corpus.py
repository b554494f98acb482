#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Writes the seed corpus of fuzz_frames (test/fuzz/corpus/), reproducibly.

The input format is fuzz_frames.cc's: a mode byte (0 whole frames, 1 TCP
segments the harness wraps, with seq relative to the peer's ISS + 1 and ack
relative to ours + 1), then records behind a 2-byte big-endian header:
0xf000 | ms or 0xf800 | s advances the clock; otherwise the low 12 bits are
the length, bit 12 asks for a pool mbuf, bit 13 splits the frame (a chain
of mbufs, or two IPv4 fragments in TCP mode), bit 14 has the harness set
the checksums of a frame (frame mode) or keeps seq and ack as given (TCP
mode).

The state every input starts from: a listener on port 7, connection A
(peer 198.18.0.1:40000 to us 198.18.0.2:7) ESTABLISHED with timestamps,
SACK and window scaling, connection B (us :9 to the peer's :80) in SYN-SENT.

    python3 test/fuzz/make_corpus.py [DIR]
"""
import os
import struct
import sys

OUR_IP = bytes([198, 18, 0, 2])
PEER_IP = bytes([198, 18, 0, 1])
OTHER_IP = bytes([198, 18, 0, 3])
OUR_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
OTHER_MAC = bytes([2, 0, 0, 0, 0, 3])
BCAST = b"\xff" * 6

ISS = 0x10000000        # every ISN of ours (the harness's ISN source)
PEER_ISS = 0x20000000   # connection A's
PEER_TS = 0x30000000    # the TSval A's handshake carried

FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128

FRAMES, SEGMENTS = b"\x00", b"\x01"


def csum(data, seed=0):
    if len(data) % 2:
        data += b"\x00"
    s = seed + sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(payload, etype=0x0800, dst=OUR_MAC, src=PEER_MAC):
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(payload, proto=6, src=PEER_IP, dst=OUR_IP, ident=1, frag=0, ttl=64, opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), ident, frag,
                    ttl, proto, 0, src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


# --- TCP options -----------------------------------------------------------------------------

def o_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def o_ws(shift):
    return bytes([3, 3, shift])


def o_sack_ok():
    return bytes([4, 2])


def o_ts(val, ecr=0):
    return struct.pack("!BBII", 8, 10, val, ecr)


def o_sack(*blocks):
    return bytes([5, 2 + 8 * len(blocks)]) + b"".join(struct.pack("!II", l, r) for l, r in blocks)


NOP, EOL = b"\x01", b"\x00"


def pad(opts):
    return opts + EOL * (-len(opts) % 4)


def tcp(sport, dport, seq, ack, flags, win=65535, opts=b"", data=b"", urp=0, src=PEER_IP,
        dst=OUR_IP, checksum=True):
    opts = pad(opts)
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                    (5 + len(opts) // 4) << 4, flags, win, 0, urp) + opts + data
    if checksum:
        seed = sum(struct.unpack("!HHHH", src + dst)) + 6 + len(h)
        h = h[:16] + struct.pack("!H", csum(h, seed)) + h[18:]
    return h


def seg_a(rel_seq, rel_ack, flags, data=b"", ts=1, opts=b"", win=65535):
    """A segment of connection A in TCP mode: relative numbers, TS agreed."""
    return tcp(40000, 7, rel_seq, rel_ack, flags, win=win,
               opts=NOP + NOP + o_ts(PEER_TS + ts) + opts, data=data)


def frame_a(rel_seq, rel_ack, flags, data=b"", ts=1):
    """The same as a whole frame, with absolute numbers."""
    return eth(ipv4(tcp(40000, 7, PEER_ISS + 1 + rel_seq, ISS + 1 + rel_ack, flags,
                        opts=NOP + NOP + o_ts(PEER_TS + ts), data=data)))


# --- Records ---------------------------------------------------------------------------------

def rec(b, pool=False, split=False, fix=False):
    assert len(b) < 0x1000
    return struct.pack("!H", len(b) | (0x1000 if pool else 0) | (0x2000 if split else 0) |
                       (0x4000 if fix else 0)) + b


def ms(n):
    assert n < 0x800
    return struct.pack("!H", 0xF000 | n)


def secs(n):
    assert n < 0x800
    return struct.pack("!H", 0xF800 | n)


def arp(op, sha, spa, tha, tpa, dst=BCAST):
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa
    return eth(body, 0x0806, dst=dst, src=sha)


def icmp_echo(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def seeds():
    s = {}

    # A SYN to the listener from a new port, MSS only.
    s["syn_port7"] = FRAMES + rec(eth(ipv4(tcp(40001, 7, 0x01020304, 0, SYN, opts=o_mss(1460)))))

    # Every option a SYN may carry, an unknown one and a SACK block besides.
    every = (o_mss(1460) + o_sack_ok() + o_ts(0x11111111) + NOP + o_ws(14) +
             bytes([30, 4, 0xAA, 0xBB]) + o_sack((1, 2)))
    s["syn_every_option"] = FRAMES + rec(eth(ipv4(tcp(40002, 7, 0x0A0B0C0D, 0, SYN | ECE | CWR,
                                                    opts=every))))

    # A whole connection in TCP mode: handshake, data (echoed), our data
    # ACKed, the peer's FIN, our FIN ACKed; then 2 x MSL for TIME-WAIT... on
    # our side LAST-ACK ends it, so the clock is only moved for what remains.
    def new(seq, ack, flags, data=b"", tsv=1, tse=0, opts=b""):
        return tcp(40003, 7, seq, ack, flags, opts=NOP + NOP + o_ts(0x40000000 + tsv, tse) + opts,
                   data=data)
    s["handshake_data_fin"] = SEGMENTS + b"".join([
        rec(new(-1, 0, SYN, opts=o_mss(1460) + o_sack_ok() + NOP + o_ws(7))),
        rec(new(0, 0, ACK)),
        rec(new(0, 0, ACK | PSH, b"hello, echo", tsv=2)),
        rec(new(11, 11, ACK, tsv=3)),
        rec(new(11, 11, ACK | FIN, tsv=4)),
        rec(new(12, 12, ACK, tsv=5)),
        ms(300),
    ])

    # The same on connection A, as whole frames: data, ACK of the echo, FIN.
    s["conn_a_data_fin_frames"] = FRAMES + b"".join([
        rec(frame_a(0, 0, ACK | PSH, b"0123456789")),
        rec(frame_a(10, 10, ACK, ts=2)),
        rec(frame_a(10, 10, ACK | FIN, ts=3)),
        rec(frame_a(11, 11, ACK, ts=4)),
    ])

    # Connection A in TCP mode: out-of-order data, a duplicate, SACK, URG,
    # a zero window, then time for the retransmission and the persist timer.
    s["conn_a_segments"] = SEGMENTS + b"".join([
        rec(seg_a(100, 0, ACK, b"later")),
        rec(seg_a(0, 0, ACK | PSH, b"abcdefgh", ts=2)),
        rec(seg_a(0, 0, ACK | PSH, b"abcdefgh", ts=3)),
        rec(seg_a(8, 0, ACK | URG, b"!", ts=4)),
        rec(seg_a(9, 3, ACK, ts=5, opts=NOP + NOP + o_sack((ISS + 5, ISS + 9)))),
        rec(seg_a(9, 9, ACK, ts=6, win=0)),
        ms(250), ms(500), secs(2),
        rec(seg_a(9, 9, ACK, ts=7)),
    ])

    # ARP: the peer asks, another host asks (learned), a reply, a probe, a
    # gratuitous announcement, a request for someone else.
    s["arp"] = FRAMES + b"".join([
        rec(arp(1, PEER_MAC, PEER_IP, bytes(6), OUR_IP)),
        rec(arp(1, OTHER_MAC, OTHER_IP, bytes(6), OUR_IP)),
        rec(arp(2, OTHER_MAC, OTHER_IP, OUR_MAC, OUR_IP, dst=OUR_MAC)),
        rec(arp(1, OTHER_MAC, bytes(4), bytes(6), OUR_IP)),
        rec(arp(1, OTHER_MAC, OTHER_IP, bytes(6), OTHER_IP)),
        rec(arp(1, PEER_MAC, PEER_IP, bytes(6), bytes([198, 18, 0, 99]))),
    ])

    # Ping, small and then large enough to be answered in fragments.
    s["ping"] = FRAMES + b"".join([
        rec(eth(ipv4(icmp_echo(0x4242, 1, b"ping"), proto=1))),
        rec(eth(ipv4(icmp_echo(0x4242, 2, bytes(range(256)) * 7), proto=1))),
    ])

    # A datagram in three fragments, out of order, then an overlapping one.
    payload = icmp_echo(0x4343, 3, bytes(i * 7 & 0xFF for i in range(200)))
    f = [payload[0:64], payload[64:128], payload[128:]]
    s["fragments"] = FRAMES + b"".join([
        rec(eth(ipv4(f[1], proto=1, ident=7, frag=0x2000 | 8))),
        rec(eth(ipv4(f[0], proto=1, ident=7, frag=0x2000 | 0))),
        rec(eth(ipv4(f[2], proto=1, ident=7, frag=16))),
        rec(eth(ipv4(f[0], proto=1, ident=8, frag=0x2000 | 0))),
        rec(eth(ipv4(payload[32:96], proto=1, ident=8, frag=4))),
        secs(31),
    ])

    # TCP mode, every segment split into two IPv4 fragments.
    s["conn_a_fragmented"] = SEGMENTS + b"".join([
        rec(seg_a(0, 0, ACK | PSH, b"fragmented data, 32 bytes long!!"), split=True),
        rec(seg_a(32, 32, ACK, ts=2), split=True),
    ])

    # RST: at RCV.NXT on A (reset), in the window but off RCV.NXT
    # (challenge), outside; to B (SYN-SENT) with and without an acceptable ACK.
    s["rst"] = SEGMENTS + b"".join([
        rec(tcp(80, 9, 0, 0, RST)),
        rec(tcp(80, 9, 0, 0, RST | ACK)),
        rec(seg_a(1000, 0, RST)),
        rec(seg_a(0x7FFFFFFF, 0, RST)),
        rec(seg_a(0, 0, RST)),
    ])

    # Malformed options, each to A: length 0, past the header, TS of
    # length 3, MSS of 5 bytes, a bare kind at the end; then a data offset
    # past the segment and one below 5.
    bad = [bytes([2, 0, 0, 0]), bytes([8, 40, 0, 0]), bytes([8, 3, 1, 2]),
           bytes([2, 5, 1, 2, 3]), bytes([1, 1, 1, 8]), bytes([5, 3, 0, 0])]
    recs = [rec(tcp(40000, 7, 0, 0, ACK, opts=o)) for o in bad]
    short = tcp(40000, 7, 0, 0, ACK, data=b"xy")
    recs.append(rec(short[:12] + bytes([0xF0]) + short[13:]))
    recs.append(rec(short[:12] + bytes([0x40]) + short[13:]))
    recs.append(rec(short[:14]))
    s["malformed_options"] = SEGMENTS + b"".join(recs)

    # B: the peer's SYN-ACK (B becomes ESTABLISHED), data, the peer's FIN;
    # then a simultaneous open on another run of B.
    s["conn_b_synack"] = SEGMENTS + b"".join([
        rec(tcp(80, 9, -1, 0, SYN | ACK, opts=o_mss(536) + o_sack_ok() + o_ts(5) + NOP + o_ws(3))),
        rec(tcp(80, 9, 0, 0, ACK | PSH, opts=NOP + NOP + o_ts(6), data=b"HTTP/1.0 200 OK\r\n")),
        rec(tcp(80, 9, 17, 0, ACK | FIN, opts=NOP + NOP + o_ts(7))),
    ])
    s["conn_b_simultaneous_open"] = SEGMENTS + rec(tcp(80, 9, 0x1234, 0, SYN, opts=o_mss(1460)))

    # Timers alone: B's SYN retransmissions until it gives up, A's keepalive.
    s["timers"] = FRAMES + b"".join([ms(1000), ms(1500), secs(4), secs(8), secs(16), secs(32),
                                     secs(64), secs(128)])

    # A passive open left in SYN-RECEIVED, its SYN-ACK retransmitted; five
    # SYNs to fill the backlog of four (the last answered with a cookie).
    s["syn_backlog"] = SEGMENTS + b"".join(
        [rec(tcp(41000 + i, 7, 0x100 * i, 0, SYN, opts=o_mss(1400))) for i in range(5)] +
        [secs(1), secs(3)])

    # ICMP errors about A once it has data in flight (the echo of ten
    # bytes): fragmentation needed (MTU 576), port unreachable, time exceeded.
    quoted = ipv4(tcp(7, 40000, ISS + 1, PEER_ISS + 11, ACK | PSH, src=OUR_IP, dst=PEER_IP),
                  src=OUR_IP, dst=PEER_IP)[:28]
    def icmp_err(t, code, extra):
        m = struct.pack("!BBHI", t, code, 0, extra) + quoted
        return m[:2] + struct.pack("!H", csum(m)) + m[4:]
    s["icmp_errors"] = FRAMES + b"".join([
        rec(frame_a(0, 0, ACK | PSH, b"0123456789")),
        rec(eth(ipv4(icmp_err(3, 4, 576), proto=1))),
        rec(eth(ipv4(icmp_err(3, 3, 0), proto=1))),
        rec(eth(ipv4(icmp_err(11, 0, 0), proto=1))),
    ])

    # Our FIN first: the application shuts A down on data starting with 'Q'
    # (FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, 2 MSL); then a simultaneous close
    # (CLOSING) and the other commands, 'W' (fill the send buffer), 'C', 'X'.
    s["active_close"] = SEGMENTS + b"".join([
        rec(seg_a(0, 0, ACK | PSH, b"Quit")),
        rec(seg_a(4, 5, ACK, ts=2)),
        rec(seg_a(4, 5, ACK | FIN, ts=3)),
        ms(100),
        rec(seg_a(4, 5, ACK | FIN, ts=4)),
        secs(61),
    ])
    s["simultaneous_close"] = SEGMENTS + b"".join([
        rec(seg_a(0, 0, ACK | PSH, b"Q")),
        rec(seg_a(1, 1, ACK | FIN, ts=2)),
        rec(seg_a(2, 2, ACK, ts=3)),
    ])
    s["listener_close_keepalive"] = SEGMENTS + b"".join([
        rec(tcp(41000, 7, 0, 0, SYN, opts=o_mss(1400))),
        rec(seg_a(0, 0, ACK | PSH, b"L")),
        rec(seg_a(1, 0, ACK | PSH, b"k", ts=2)),
        secs(1), secs(1), secs(1), secs(1),
    ])
    s["app_commands"] = SEGMENTS + b"".join([
        rec(seg_a(0, 0, ACK | PSH, b"W")),
        rec(seg_a(1, 1448, ACK, ts=2)),
        rec(seg_a(1, 8000, ACK, ts=3)),
        rec(tcp(80, 9, -1, 0, SYN | ACK, opts=o_mss(1460))),
        rec(tcp(80, 9, 0, 0, ACK | PSH, data=b"C")),
        rec(seg_a(1, 8000, ACK | PSH, b"X", ts=4)),
    ])

    # Frames most stacks drop: bad IPv4 checksum, IPv4 options, a broadcast,
    # a VLAN tag, a runt, a chained mbuf, a frame in a pool mbuf, a bad TCP
    # checksum, a segment to a closed port.
    good = ipv4(icmp_echo(1, 1, b"x"), proto=1)
    s["odd_frames"] = FRAMES + b"".join([
        rec(eth(good[:10] + b"\x00\x00" + good[12:])),
        rec(eth(ipv4(icmp_echo(1, 2, b"y"), proto=1, opts=b"\x01\x01\x01\x00"))),
        rec(eth(good, dst=BCAST)),
        rec(eth(b"\x00\x01\x08\x00" + good, 0x8100)),
        rec(eth(b"")[:10]),
        rec(eth(good), split=True),
        rec(eth(good), pool=True),
        rec(eth(ipv4(tcp(40000, 7, PEER_ISS + 1, ISS + 1, ACK, checksum=False)))),
        rec(eth(ipv4(tcp(40004, 12345, 1, 0, SYN, opts=o_mss(1460))))),
    ])
    # The harness sets the checksums (bit 14 in frame mode): a SYN to the
    # listener and a ping with both left zero; in TCP mode the same bit keeps
    # seq and ack absolute: A's data at P(1), acknowledging O(1).
    def zero_ip_cksum(f):
        return f[:24] + b"\x00\x00" + f[26:]
    syn = eth(ipv4(tcp(40005, 7, 0x55555555, 0, SYN, opts=o_mss(1460), checksum=False)))
    s["checksums_set_by_harness"] = FRAMES + b"".join([
        rec(zero_ip_cksum(syn), fix=True),
        rec(zero_ip_cksum(eth(ipv4(b"\x08\x00\x00\x00\x00\x01\x00\x01data", proto=1))),
            fix=True),
    ])
    s["absolute_seq_ack"] = SEGMENTS + rec(
        tcp(40000, 7, PEER_ISS + 1, ISS + 1, ACK | PSH, opts=NOP + NOP + o_ts(PEER_TS + 1),
            data=b"absolute"), fix=True)
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds()), out))


if __name__ == "__main__":
    main()
