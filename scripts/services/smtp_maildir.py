"""An SMTP relay for the email sink's tests: aiosmtpd on 127.0.0.1:PORT that requires AUTH
(user `ferry`, password `ferry-test-smtp`) and saves every message it accepts to a Maildir,
where the tests read it back.

    smtp_maildir.py PORT MAILDIR [CERT KEY]

With CERT and KEY it requires STARTTLS before anything else (and AUTH only over TLS);
without, it is plain SMTP."""

import ssl
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = b"ferry"
PASSWORD = b"ferry-test-smtp"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER,
        PASSWORD,
    )
    # handled=False: aiosmtpd then answers a failure with 535 itself.
    return AuthResult(success=ok, handled=False)


def main():
    port, maildir = int(sys.argv[1]), sys.argv[2]
    tls = {}
    if len(sys.argv) == 5:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        tls = {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    else:
        # No TLS on this loopback test relay, so AUTH has to be allowed in the clear.
        tls = {"auth_require_tls": False}
    controller = Controller(
        Mailbox(maildir),
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        **tls,
    )
    controller.start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
