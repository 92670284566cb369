#!/usr/bin/env bash
# OpenSSH's sshd for the SFTP sink's tests: 127.0.0.1:2222, internal-sftp only, a test user
# `ferrytest` with a password and an authorized ed25519 key. Idempotent: installs what is
# missing, makes keys and the user once, starts sshd only when nothing answers on the port.
#
# Everything but the chroot lives in /var/tmp/ferry-services/sftp. The chroot cannot: sshd
# refuses one with any world-writable component on its path (/var/tmp and /tmp are), so it is
# /srv/ferry-sftp, root-owned, with `upload/` writable by the test user.
set -euo pipefail

PORT=2222
DATA=/var/tmp/ferry-services/sftp
CHROOT=/srv/ferry-sftp
USER_NAME=ferrytest
PASSWORD=ferry-test-password

answering() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT && head -c 4 <&3" 2>/dev/null | grep -q SSH; }

if [ ! -x /usr/sbin/sshd ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssh-server >/dev/null
fi

mkdir -p "$DATA" /run/sshd
# Readable: sshd reads authorized_keys as the test user. The private keys stay 600.
chmod 755 "$DATA"
[ -f "$DATA/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-test-host -f "$DATA/ssh_host_ed25519_key"
[ -f "$DATA/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C ferry-test-client -f "$DATA/client_ed25519"
cp "$DATA/client_ed25519.pub" "$DATA/authorized_keys"

if ! id "$USER_NAME" >/dev/null 2>&1; then
  useradd --no-create-home --home-dir / --shell /usr/sbin/nologin "$USER_NAME"
fi
echo "$USER_NAME:$PASSWORD" | chpasswd

install -d -o root -g root -m 755 "$CHROOT"
install -d -o "$USER_NAME" -g "$USER_NAME" -m 755 "$CHROOT/upload"

cat > "$DATA/sshd_config" <<CONF
Port $PORT
ListenAddress 127.0.0.1
HostKey $DATA/ssh_host_ed25519_key
PidFile $DATA/sshd.pid
UsePAM no
PasswordAuthentication yes
KbdInteractiveAuthentication no
PubkeyAuthentication yes
AuthorizedKeysFile $DATA/authorized_keys
# The keys live under /var/tmp, which is world-writable (sticky): strict modes would refuse them.
StrictModes no
PermitRootLogin no
AllowUsers $USER_NAME
Subsystem sftp internal-sftp
ChrootDirectory $CHROOT
ForceCommand internal-sftp
AllowTcpForwarding no
X11Forwarding no
CONF

if answering; then
  echo "sshd already answering on 127.0.0.1:$PORT"
  exit 0
fi
/usr/sbin/sshd -t -f "$DATA/sshd_config"
/usr/sbin/sshd -f "$DATA/sshd_config" -E "$DATA/sshd.log"
for _ in $(seq 50); do
  answering && { echo "sshd started on 127.0.0.1:$PORT"; exit 0; }
  sleep 0.1
done
echo "sshd did not start; see $DATA/sshd.log" >&2
exit 1
