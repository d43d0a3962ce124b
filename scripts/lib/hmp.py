#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""hmp.py SOCKET COMMAND...: run QEMU human monitor commands, print replies.

SOCKET is a guest's DIR/.vm/monitor (scripts/vm.sh). Each COMMAND's reply
is printed under a "== COMMAND" line, without the monitor's echo of the
typed characters. Example:

    scripts/lib/hmp.py DIR/.vm/monitor "info registers -a" "cpu 1" "info lapic"
"""
import socket
import sys

PROMPT = b"(qemu) "


def read_to_prompt(sock):
    data = b""
    while not data.endswith(PROMPT):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(10)
    sock.connect(sys.argv[1])
    read_to_prompt(sock)  # the banner
    for cmd in sys.argv[2:]:
        sock.sendall(cmd.encode() + b"\n")
        reply = read_to_prompt(sock).decode(errors="replace")
        # The first line is the echo of the command, redrawn as typed.
        lines = reply.split("\r\n")[1:]
        if lines and lines[-1] == PROMPT.decode():
            lines.pop()
        print("== " + cmd)
        print("\n".join(line.rstrip("\r") for line in lines))


if __name__ == "__main__":
    main()
