"""Host-side listeners for the hostile host-program tests: a TCP server and a UDP socket on
127.0.0.1, a unix socket at a path and an abstract unix socket. Each answers with the secret
given as its first argument and prints "hit <kind>" when reached; it prints
"ready <tcp port> <udp port> <socket path> <abstract name>" once listening.

Usage: python3 _net_listener.py <secret> <folder for the socket>
"""
import os
import select
import socket
import sys

secret = sys.argv[1].encode()
folder = sys.argv[2]
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(("127.0.0.1", 0))
tcp.listen(16)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
path = os.path.join(folder, "host.sock")
unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
unix.bind(path)
unix.listen(16)
abstract_name = f"tusk-test-{os.getpid()}"
abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
abstract.bind("\0" + abstract_name)
abstract.listen(16)
print(f"ready {tcp.getsockname()[1]} {udp.getsockname()[1]} {path} {abstract_name}", flush=True)
kinds = {tcp: "tcp", unix: "unix", abstract: "abstract"}
while True:
    ready, _, _ = select.select([tcp, udp, unix, abstract], [], [])
    for s in ready:
        if s is udp:
            _, addr = udp.recvfrom(4096)
            print("hit udp", flush=True)
            udp.sendto(secret, addr)
        else:
            conn, _ = s.accept()
            print(f"hit {kinds[s]}", flush=True)
            try:
                conn.sendall(secret)
            finally:
                conn.close()
