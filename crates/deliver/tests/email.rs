//! The email sink against aiosmtpd on 127.0.0.1:2525 (`scripts/services/smtp.sh`), which
//! requires AUTH and saves each message to a Maildir; Python's `email` package reads the
//! message back here, as a mail client would.

mod common;

use std::process::Command;

use common::{Dir, closed_port, noise, package_file, require_server, unique};
use ferry_deliver::email::{DEFAULT_ATTACH_LIMIT, EmailConfig, EmailSink, ExportNotice, SmtpRelay};
use ferry_deliver::{DeliveryError, PackageFile, Sink};
use serde::Deserialize;

const PORT: u16 = 2525;
const MAILDIR: &str = "/var/tmp/ferry-services/smtp/maildir/new";
const RELAY_PASSWORD: &str = "ferry-test-smtp";

fn relay(password: &str, port: u16) -> SmtpRelay {
    SmtpRelay::new(
        format!("smtp://ferry:{password}@127.0.0.1:{port}"),
        "Ferry <exports@ferry.test>",
    )
}

fn sink(to: &str, attach_limit: u64) -> EmailSink {
    require_server(PORT, "smtp.sh");
    EmailSink {
        config: EmailConfig { to: to.into() },
        relay: relay(RELAY_PASSWORD, PORT),
        notice: ExportNotice {
            download_url: "https://ferry.example/api/external/v1/download/tok_abc".into(),
            expires_at: "2026-12-08 13:00 UTC".into(),
            data_types: ["pageviews", "events", "sessions", "profile"]
                .map(String::from)
                .into(),
            date_range: Some(("2026-01-01".into(), "2026-03-31".into())),
        },
        attach_limit,
    }
}

#[derive(Deserialize, Debug)]
struct Received {
    subject: String,
    to: String,
    body: String,
    attachments: Vec<(String, String)>,
}

/// The one message in the Maildir addressed to `to`, read by Python's `email` package
/// (`scripts/services/read_mail.py`).
fn received(to: &str) -> Received {
    // The checkout running the test, not the one that first built it (see golden.rs).
    let dir =
        std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| env!("CARGO_MANIFEST_DIR").into());
    let script = format!("{dir}/../../scripts/services/read_mail.py");
    let out = Command::new("python3")
        .args([script.as_str(), MAILDIR, to])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn a_small_export_arrives_attached_in_a_mail_like_the_reference_example() {
    let store = tempfile::tempdir().unwrap();
    let files = [package_file(store.path(), "export.zip", &noise(200_000, 3))];
    let to = format!("{}@subject.test", unique("person"));
    let delivery = sink(&to, DEFAULT_ATTACH_LIMIT)
        .deliver("exp_5", &files, &Dir(store.path().into()))
        .await
        .unwrap();
    assert_eq!(delivery.method, "email");
    assert!(delivery.delivered);
    assert_eq!(
        delivery.location, None,
        "the address stays out of the audit trail"
    );

    let mail = received(&to);
    assert_eq!(mail.subject, "Your data export is ready");
    assert!(mail.to.contains(&to));
    for line in [
        "Download your data here: https://ferry.example/api/external/v1/download/tok_abc",
        "This link expires on 2026-12-08 13:00 UTC.",
        "- Page view history",
        "- Event tracking data",
        "- Session information",
        "- Your profile data",
        "Date range: 2026-01-01 to 2026-03-31",
        "Size: 200.0 kB (200000 bytes)",
        "The files are also attached",
    ] {
        assert!(
            mail.body.contains(line),
            "{line:?} missing from:\n{}",
            mail.body
        );
    }
    assert_eq!(
        mail.attachments,
        [("export.zip".to_string(), files[0].sha256.clone())]
    );
}

#[tokio::test]
async fn an_export_over_the_attachment_limit_is_sent_as_the_link_alone() {
    let store = tempfile::tempdir().unwrap();
    let files: Vec<PackageFile> = ["part-1.zip", "part-2.zip"]
        .iter()
        .enumerate()
        .map(|(i, name)| package_file(store.path(), name, &noise(600, i as u64)))
        .collect();
    let to = format!("{}@subject.test", unique("big"));
    sink(&to, 1000)
        .deliver("exp_6", &files, &Dir(store.path().into()))
        .await
        .unwrap();
    let mail = received(&to);
    assert!(mail.attachments.is_empty(), "{:?}", mail.attachments);
    assert!(
        mail.body.contains("download it from the link above"),
        "{}",
        mail.body
    );
    for file in &files {
        assert!(
            mail.body.contains(&file.sha256),
            "lists each file's checksum"
        );
    }
}

#[tokio::test]
async fn refused_relay_credentials_are_permanent_and_a_relay_down_is_transient() {
    let store = tempfile::tempdir().unwrap();
    let files = [package_file(store.path(), "export.zip", b"rows")];
    let to = format!("{}@subject.test", unique("nobody"));
    let mut wrong = sink(&to, DEFAULT_ATTACH_LIMIT);
    wrong.relay = relay("wrong-pass-5e1f", PORT);
    assert!(!format!("{:?}", wrong.relay).contains("wrong-pass-5e1f"));
    let refused = wrong
        .deliver("exp_7", &files, &Dir(store.path().into()))
        .await;
    let Err(DeliveryError::Permanent(message)) = refused else {
        panic!("refused credentials are permanent: {refused:?}");
    };
    assert!(!message.contains("wrong-pass-5e1f"), "{message}");
    assert!(!message.contains(&to), "{message}");

    let mut down = sink(&to, DEFAULT_ATTACH_LIMIT);
    down.relay = relay(RELAY_PASSWORD, closed_port());
    let refused = down
        .deliver("exp_7", &files, &Dir(store.path().into()))
        .await;
    assert!(
        matches!(refused, Err(DeliveryError::Transient(_))),
        "{refused:?}"
    );
}

/// STARTTLS to the relay on 127.0.0.1:2526, whose certificate a test CA signed
/// (`scripts/services/smtp.sh`): trusted through the CA file, the mail arrives; without it,
/// rustls refuses the certificate and the error says which flag fixes it.
#[tokio::test]
async fn starttls_to_a_relay_with_a_private_ca_works_once_the_ca_is_trusted() {
    require_server(2526, "smtp.sh");
    let ca = std::sync::Arc::new(
        std::fs::read("/var/tmp/ferry-services/smtp/tls/ca.pem")
            .expect("the test CA (scripts/services/smtp.sh makes it)"),
    );
    let store = tempfile::tempdir().unwrap();
    let files = [package_file(store.path(), "export.zip", b"over tls")];
    let to = format!("{}@subject.test", unique("tls"));
    let url = format!("smtp://ferry:{RELAY_PASSWORD}@127.0.0.1:2526?tls=required");

    let mut untrusted = sink(&to, DEFAULT_ATTACH_LIMIT);
    untrusted.relay = SmtpRelay::new(url.clone(), "Ferry <exports@ferry.test>");
    let refused = untrusted
        .deliver("exp_8", &files, &Dir(store.path().into()))
        .await;
    let Err(DeliveryError::Permanent(message)) = refused else {
        panic!("an untrusted certificate is permanent: {refused:?}");
    };
    assert!(message.contains("--smtp-ca-file"), "{message}");

    let mut trusted = sink(&to, DEFAULT_ATTACH_LIMIT);
    trusted.relay = SmtpRelay::new(url, "Ferry <exports@ferry.test>");
    trusted.relay.ca_pem = Some(ca.clone());
    trusted
        .deliver("exp_8", &files, &Dir(store.path().into()))
        .await
        .unwrap();
    let mail = received(&to);
    assert_eq!(
        mail.attachments,
        [("export.zip".to_string(), files[0].sha256.clone())]
    );

    // A CA file with a plain smtp:// URL asks for TLS nowhere: refused before connecting.
    let mut plain = SmtpRelay::new(
        format!("smtp://ferry:{RELAY_PASSWORD}@127.0.0.1:2525"),
        "exports@ferry.test",
    );
    plain.ca_pem = Some(ca);
    let Err(DeliveryError::Permanent(message)) = plain.check() else {
        panic!("a CA file without TLS is a configuration error");
    };
    assert!(message.contains("?tls=required"), "{message}");
}
