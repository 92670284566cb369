#!/usr/bin/env bash
# aiosmtpd 1.4.6 for the email sink's tests, both relays requiring AUTH and saving every
# accepted message to the Maildir /var/tmp/ferry-services/smtp/maildir (see smtp_maildir.py):
# - 127.0.0.1:2525, plain SMTP;
# - 127.0.0.1:2526, STARTTLS required, with a certificate for 127.0.0.1 signed by a test CA
#   made here ($DATA/tls/ca.pem: rustls rejects a bare self-signed certificate, so Ferry is
#   given the CA with --smtp-ca-file).
# Idempotent: installs aiosmtpd when missing, makes the CA and certificate once, starts each
# relay only when nothing answers on its port.
set -euo pipefail
cd "$(dirname "$0")"

DATA=/var/tmp/ferry-services/smtp
TLS="$DATA/tls"

answering() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && head -c 3 <&3" 2>/dev/null | grep -q 220; }

python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd==1.4.6
mkdir -p "$DATA"

if [ ! -s "$TLS/server.pem" ]; then
  mkdir -p "$TLS"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Ferry test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$TLS/server.ext"
  openssl x509 -req -in "$TLS/server.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" \
    -CAcreateserial -days 3650 -extfile "$TLS/server.ext" -out "$TLS/server.pem.new" 2>/dev/null
  mv "$TLS/server.pem.new" "$TLS/server.pem"
fi

start() { # PORT NAME [CERT KEY]
  local port=$1 name=$2
  shift 2
  if answering "$port"; then
    echo "SMTP relay ($name) already answering on 127.0.0.1:$port"
    return 0
  fi
  setsid nohup python3 -W ignore "$PWD/smtp_maildir.py" "$port" "$DATA/maildir" "$@" \
    >"$DATA/server-$port.log" 2>&1 </dev/null &
  echo $! >"$DATA/server-$port.pid"
  for _ in $(seq 100); do
    answering "$port" && { echo "SMTP relay ($name) started on 127.0.0.1:$port"; return 0; }
    sleep 0.1
  done
  echo "SMTP relay ($name) did not start; see $DATA/server-$port.log" >&2
  exit 1
}

start 2525 plain
start 2526 STARTTLS "$TLS/server.pem" "$TLS/server.key"
