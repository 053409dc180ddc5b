"""SOCKS (TCP port 1080): the extra ``tcp.stream`` number Wireshark's SOCKS dissector takes.

Wireshark's SOCKS dissector (``packet-socks.c``, on TCP port 1080 by default) follows each SOCKS v4/v5
handshake; once the server has answered the CONNECT, it hands every later payload to the dissector of
the *proxied* port, looking up the TCP conversation data with the SOCKS port replaced by that port.
That lookup creates a second TCP conversation (client address and port, server address, the
proxied port) and so takes a ``tcp.stream`` number, at the first payload after the handshake, though
no frame ever shows it: tshark numbers the streams of a SOCKS capture 0, 2, 4, ... (arkime's
``socks-http-example.pcap``: 3 connections, streams 0, 2 and 4).

:func:`socks_samples` replays the handshake from the payload bytes (the state machines of
``packet-socks.c``, first pass) and gives, for each frame where such a conversation is born, the
frame's own record followed by a record of the proxied conversation;
:class:`~forensics.network.sflow.SampledAnalyzer` feeds both to the TCP analysis (the frame's row
is its own record, as for sFlow's sampled headers), so every later stream keeps Wireshark's number.
The proxied conversation has no row of its own (it is counted in ``len(capture.irtt)``).
"""
from __future__ import annotations

import numpy as np

SOCKS_PORT = 1080

# Handshake states (the names of packet-socks.c).
NONE, CONNECTING, V4_USER, V4_NAME, V5_COMMAND, V5_REPLY, V5_BIND_REPLY, USER_AUTH, USER_AUTH_REPLY, \
    GSS_AUTH, GSS_AUTH_REPLY, DONE = range(12)
CONNECT, BIND, UDP_ASSOCIATE, PING, TRACEROUTE = 1, 2, 3, 0x80, 0x81


def may_carry_socks(sport, dport, paylen) -> bool:
    """Whether any TCP payload of a capture is on the SOCKS port (cheap test on the first read's columns)."""
    return bool((((sport == SOCKS_PORT) | (dport == SOCKS_PORT)) & (paylen > 0)).any())


class _Handshake:
    __slots__ = ("version", "state", "command", "port", "done_frame", "proxied")

    def __init__(self, version):
        self.version, self.state, self.command, self.port = version, NONE, 0, 0
        self.done_frame = None
        self.proxied = False
        if version not in (4, 5):
            self.state = DONE  # not SOCKS: Wireshark never hands its payload on


def _v5_address_end(p: bytes, i: int) -> int:
    """Offset after a SOCKS v5 address (type byte, then IPv4, a length-prefixed name or IPv6)."""
    atyp = p[i] if i < len(p) else 0
    i += 1
    if atyp == 1:
        return i + 4
    if atyp == 4:
        return i + 16
    if atyp == 3:
        return i + 1 + (p[i] if i < len(p) else 0)
    return i


def _step(h: _Handshake, p: bytes) -> None:
    """One payload of the handshake (state_machine_v4 / state_machine_v5 of packet-socks.c)."""
    b = lambda i: p[i] if i < len(p) else 0  # noqa: E731 - Wireshark would throw past the end; rare
    u16 = lambda i: (b(i) << 8) | b(i + 1)  # noqa: E731
    if h.version == 4:
        if h.state == NONE:  # the request: command, port, address, then a user name (and a v4a host name)
            h.state = CONNECTING
            h.command = b(1)
            if h.command == CONNECT:
                h.port = u16(2)
            if len(p) <= 8:  # the user name comes in a segment of its own
                h.state = V4_USER
                after = 9
            else:
                nul = p.find(b"\0", 8)
                after = (nul if nul >= 0 else len(p)) + 1
            if p[4:8] == b"\0\0\0\0":  # no address: a host name follows, here or in the next segment
                h.state = CONNECTING if len(p) > after else V4_NAME
        elif h.state in (V4_USER, V4_NAME):
            h.state = CONNECTING
        elif h.state == CONNECTING:
            h.state = DONE
        return
    if h.state == NONE:
        h.state = CONNECTING
    elif h.state == CONNECTING:
        method = b(1)
        h.state = {0: V5_COMMAND, 2: USER_AUTH, 1: GSS_AUTH}.get(method, DONE)
    elif h.state == V5_COMMAND:
        h.command = b(1)
        h.state = V5_REPLY
        end = _v5_address_end(p, 3)
        if h.command in (CONNECT, UDP_ASSOCIATE):
            h.port = u16(end)
    elif h.state == V5_REPLY:
        if h.command in (CONNECT, PING, TRACEROUTE):
            h.state = DONE
        elif h.command == BIND:
            h.state = V5_BIND_REPLY
    elif h.state == V5_BIND_REPLY:
        h.state = DONE
    elif h.state == USER_AUTH:
        h.state = USER_AUTH_REPLY
    elif h.state == USER_AUTH_REPLY:
        h.state = V5_COMMAND
    elif h.state == GSS_AUTH:
        h.state = GSS_AUTH_REPLY
    elif h.state == GSS_AUTH_REPLY:
        if b(1) != 0xFF:
            h.state = V5_COMMAND if u16(2) == 0 else GSS_AUTH


def _payload(data: bytes, r) -> bytes | None:
    """The TCP payload of a decoded frame: found by its ports and sequence number (any link layer or tunnel)."""
    key = int(r["sport"]).to_bytes(2, "big") + int(r["dport"]).to_bytes(2, "big") + int(r["seq"]).to_bytes(4, "big")
    at = data.find(key)
    if at < 0:
        return None
    start = at + int(r["hdrlen"])
    return data[start:start + int(r["paylen"])]


def socks_samples(frames) -> dict:
    """{frame: [its record, the proxied conversation's record]} for each frame at which Wireshark's
    SOCKS dissector creates the proxied TCP conversation. ``frames`` as ``sflow.frames_of`` yields them."""
    from .decode import PACKET_DTYPE, decode_packet

    one = np.zeros(1, PACKET_DTYPE)
    server_port = {}  # conversation -> the port its SYN went to (Wireshark tries that port's dissector first)
    shakes, proxied, out = {}, set(), {}
    for fno, link, data, wirelen in frames:
        one[0] = 0
        decode_packet(np.frombuffer(bytearray(data), np.uint8), 0, len(data), wirelen, link, one, 0)
        r = one[0]
        if r["proto"] != 6 or not r["l4ok"] or r["frag"] or r["ipver"] == 0 or r["no_analysis"]:
            continue
        sport, dport = int(r["sport"]), int(r["dport"])
        if sport != SOCKS_PORT and dport != SOCKS_PORT:
            continue
        a = (int(r["src_hi"]), int(r["src_lo"]), sport)
        z = (int(r["dst_hi"]), int(r["dst_lo"]), dport)
        conv = (min(a, z), max(a, z))
        if r["flags"] & 0x12 == 0x02:  # a SYN: the port it is sent to is the server's
            server_port[conv] = dport
            shakes.pop(conv, None)  # a new connection on the same ports starts a new handshake
        if r["paylen"] <= 0:
            continue
        # decode_tcp_ports: the SYN's server port first, else the lower port; only SOCKS on 1080 matters here
        if server_port.get(conv, min(sport, dport)) != SOCKS_PORT:
            continue
        p = _payload(data, r)
        if p is None or not len(p):
            continue
        h = shakes.get(conv)
        if h is None:
            h = shakes[conv] = _Handshake(p[0])
        if h.state != DONE:
            _step(h, p)
            if h.state == DONE:
                h.done_frame = fno
            continue
        if h.done_frame is None or h.proxied or h.command in (PING, TRACEROUTE):
            continue
        h.proxied = True
        rec = np.zeros(2, PACKET_DTYPE)
        rec[0] = r
        rec[1] = r
        ph = rec[1]
        if dport == SOCKS_PORT:
            ph["dport"] = h.port
        else:
            ph["sport"] = h.port
        key = ((int(ph["src_hi"]), int(ph["src_lo"]), int(ph["sport"])),
               (int(ph["dst_hi"]), int(ph["dst_lo"]), int(ph["dport"])))
        key = (min(key), max(key))
        if key in proxied:
            continue
        proxied.add(key)
        # an ACK carrying nothing: it opens the conversation (a stream number) and raises no analysis flag
        ph["flags"], ph["paylen"], ph["window"], ph["has_ts"], ph["sack_blocks"] = 0x10, 0, 1, False, 0
        ph["mss"], ph["wscale"], ph["sack_perm"] = -1, -1, False
        out[fno] = rec
    return out
