#!/bin/sh
# memcached (4 worker threads) driven over loopback by memcaslap (libmemcached's
# memaslap): the multi-threaded server of `./bench app`'s real programs.
#
#   ./bench app --impl ... -- scripts/apps/memcached.sh [EXECUTIONS]
#
# Only the server runs under the shim: the client is started without
# LD_PRELOAD.  stdout is what must be the same under every lock: after the
# load, a set and a get of one key over the text protocol, and the
# server's exit status.  memcaslap's own report goes to stderr.
set -eu
n=${1:-200000}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
memcached -u root -U 0 -l 127.0.0.1 -p "$port" -t 4 -m 64 &
srv=$!
python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(500):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 0.1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.02)
sys.exit("memcached did not listen")
PY
env -u LD_PRELOAD -u LB_SHIM_IMPL -u LB_SHIM_STATS \
	memcaslap -s "127.0.0.1:$port" -T 2 -c 16 -x "$n" >&2
env -u LD_PRELOAD python3 - "$port" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.sendall(b"set lockbench 0 0 5\r\nhello\r\nget lockbench\r\n")
buf = b""
while not buf.endswith(b"END\r\n"):
    chunk = s.recv(4096)
    if not chunk:
        break
    buf += chunk
print(buf.decode().replace("\r", "").strip())
PY
kill -TERM "$srv"
rc=0
wait "$srv" || rc=$?
echo "memcached exit $rc"
