#!/usr/bin/env bash
# aiosmtpd 1.4.6 for the email sink's tests: SMTP with AUTH on 127.0.0.1:2525, every accepted
# message saved to the Maildir /var/tmp/ferry-services/smtp/maildir (see smtp_maildir.py).
# Idempotent: installs aiosmtpd when missing, starts the relay only when nothing answers.
set -euo pipefail
cd "$(dirname "$0")"

PORT=2525
DATA=/var/tmp/ferry-services/smtp

answering() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && head -c 3 <&3" 2>/dev/null | grep -q 220; }

if answering; then
  echo "SMTP relay already answering on 127.0.0.1:$PORT"
  exit 0
fi
python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install -q aiosmtpd==1.4.6

mkdir -p "$DATA"
setsid nohup python3 -W ignore "$PWD/smtp_maildir.py" "$PORT" "$DATA/maildir" \
  >"$DATA/server.log" 2>&1 </dev/null &
echo $! >"$DATA/server.pid"
for _ in $(seq 100); do
  answering && { echo "SMTP relay started on 127.0.0.1:$PORT"; exit 0; }
  sleep 0.1
done
echo "SMTP relay did not start; see $DATA/server.log" >&2
exit 1
