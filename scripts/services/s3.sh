#!/usr/bin/env bash
# S3 servers for the delivery tests, on 127.0.0.1 (idempotent: installs what is missing,
# starts what is not answering, leaves running servers alone):
#   - moto_server (moto[server] 5.2.5, PyPI) on port 5000: the whole S3 API, multipart
#     included, path-style; it accepts any signature.
#   - s3s-fs 0.14.1 (crates.io) on port 5002: checks SigV4, so a bad-credentials test gets
#     the refusal a real S3 gives. Access key `ferry-test`, secret `ferry-test-secret`.
# Data and logs under /var/tmp/ferry-services/<name>.
set -euo pipefail

base=/var/tmp/ferry-services
MOTO_PORT=5000
S3S_PORT=5002

answering() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {
  local name=$1 port=$2 log=$3
  for _ in $(seq 1 100); do
    answering "$port" && return 0
    sleep 0.2
  done
  echo "$name did not start on 127.0.0.1:$port; its log:" >&2
  tail -n 30 "$log" >&2 || true
  return 1
}

if ! answering "$MOTO_PORT"; then
  if ! python3 -c 'import moto, sys; sys.exit(moto.__version__ != "5.2.5")' 2>/dev/null \
    || ! command -v moto_server >/dev/null; then
    python3 -m pip install -q 'moto[server]==5.2.5'
  fi
  mkdir -p "$base/moto"
  (cd "$base/moto" && setsid nohup moto_server -H 127.0.0.1 -p "$MOTO_PORT" \
    >"$base/moto/server.log" 2>&1 </dev/null &)
  wait_for moto "$MOTO_PORT" "$base/moto/server.log"
fi

if ! answering "$S3S_PORT"; then
  if ! command -v s3s-fs >/dev/null; then
    cargo install s3s-fs@0.14.1 --features binary --locked
  fi
  mkdir -p "$base/s3s-fs/data/ferry-test"
  (cd "$base/s3s-fs" && setsid nohup s3s-fs --host 127.0.0.1 --port "$S3S_PORT" \
    --access-key ferry-test --secret-key ferry-test-secret "$base/s3s-fs/data" \
    >"$base/s3s-fs/server.log" 2>&1 </dev/null &)
  wait_for s3s-fs "$S3S_PORT" "$base/s3s-fs/server.log"
fi
echo "S3: moto on 127.0.0.1:$MOTO_PORT, s3s-fs (SigV4 checked) on 127.0.0.1:$S3S_PORT"
