#!/usr/bin/env python3
"""Every message in a Maildir folder addressed to TO, oldest first, as a JSON list of
{subject, to, body} read by Python's `email` package (what a mail client sees).

    read_mails.py FOLDER TO

Like read_mail.py, for tests that expect several mails (or none) to one address.
"""
import email
import email.policy
import json
import os
import sys

folder, to = sys.argv[1], sys.argv[2]
found = []
for name in os.listdir(folder):
    path = os.path.join(folder, name)
    with open(path, "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    if message["To"] and to in message["To"]:
        found.append((os.stat(path).st_mtime_ns, name, message))
found.sort(key=lambda m: (m[0], m[1]))
print(json.dumps([{
    "subject": str(m["Subject"]),
    "to": str(m["To"]),
    "body": m.get_body(("plain",)).get_content(),
} for _, _, m in found]))
