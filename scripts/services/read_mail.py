#!/usr/bin/env python3
"""The one message in a Maildir folder addressed to TO, as JSON, read by Python's `email`
package (what a mail client sees): subject, to, plain body, attachments as [name, sha256].

    read_mail.py FOLDER TO

Tests use it to read back what Ferry sent through the relay of scripts/services/smtp.sh.
"""
import email
import email.policy
import hashlib
import json
import os
import sys

folder, to = sys.argv[1], sys.argv[2]
found = []
for name in os.listdir(folder):
    with open(os.path.join(folder, name), "rb") as f:
        message = email.message_from_binary_file(f, policy=email.policy.default)
    if message["To"] and to in message["To"]:
        found.append(message)
assert len(found) == 1, f"{len(found)} messages to {to}"
message = found[0]
print(json.dumps({
    "subject": message["Subject"],
    "to": message["To"],
    "body": message.get_body(("plain",)).get_content(),
    "attachments": [[part.get_filename(), hashlib.sha256(part.get_content()).hexdigest()]
                    for part in message.iter_attachments()],
}))
