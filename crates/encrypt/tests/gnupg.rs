//! Against real GnuPG: keys it makes are read (or refused for the right reason), and what Ferry
//! encrypts it decrypts to the same bytes.

use std::io::Write;

use ferry_encrypt::test_support::Gpg;
use ferry_encrypt::{EncryptingWriter, KeyProblem, Recipient};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn encrypt(recipient: &Recipient, data: &[u8], write_size: usize) -> Vec<u8> {
    let mut writer = EncryptingWriter::new(recipient, "export.zip", Vec::new()).unwrap();
    for piece in data.chunks(write_size.max(1)) {
        writer.write_all(piece).unwrap();
    }
    writer.finish().unwrap()
}

#[test]
fn gnupg_decrypts_what_is_encrypted_to_its_rsa_and_curve25519_keys() {
    let gpg = Gpg::new();
    // 3 MiB of varied bytes in odd-sized writes: many chunks, a partial last one.
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 17)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (uid, algo, subkey) in [
        ("rsa@example.com", "rsa3072", "rsa3072"),
        ("cv@example.com", "ed25519", "cv25519"),
        ("nist@example.com", "nistp256", "nistp256"),
    ] {
        let (armored, fingerprint) = gpg.key(uid, algo, Some(subkey), "never");
        let recipient = Recipient::parse(&armored, now()).unwrap();
        assert_eq!(recipient.fingerprint(), fingerprint, "{algo}");
        let encrypted = encrypt(&recipient, &data, 10_007);
        assert_eq!(gpg.decrypt(&encrypted), data, "{algo}");
        let packets = gpg.packets(&encrypted);
        assert!(
            packets.contains(":encrypted data packet:"),
            "SEIPDv1: {packets}"
        );
        assert!(
            packets.contains("mdc_method: 2"),
            "SEIPDv1 with MDC: {packets}"
        );
        assert!(
            !packets.contains("compressed packet"),
            "no compression inside: {packets}"
        );
    }
    // Nothing written at all is still a message GnuPG reads.
    let (armored, _) = gpg.key("empty@example.com", "rsa2048", Some("rsa2048"), "never");
    let recipient = Recipient::parse(&armored, now()).unwrap();
    assert_eq!(gpg.decrypt(&encrypt(&recipient, b"", 1)), b"");
}

#[test]
fn keys_gnupg_cannot_or_must_not_use_are_refused_by_name() {
    let gpg = Gpg::new();
    let (signing_only, _) = gpg.key("sign@example.com", "ed25519", None, "never");
    assert_eq!(
        Recipient::parse(&signing_only, now()).unwrap_err(),
        KeyProblem::NoEncryptionKey
    );

    let (expiring, _) = gpg.key("soon@example.com", "ed25519", Some("cv25519"), "1d");
    assert!(Recipient::parse(&expiring, now()).is_ok());
    let later = now() + 3 * 86_400;
    assert!(matches!(
        Recipient::parse(&expiring, later).unwrap_err(),
        KeyProblem::Expired(_)
    ));

    let (revoked, fingerprint) = gpg.key("gone@example.com", "ed25519", Some("cv25519"), "never");
    assert!(Recipient::parse(&revoked, now()).is_ok());
    let certificate = std::fs::read_to_string(
        gpg.home()
            .join(format!("openpgp-revocs.d/{fingerprint}.rev")),
    )
    .unwrap()
    .replacen(":-----BEGIN", "-----BEGIN", 1);
    gpg.run(&["--import"], Some(certificate.as_bytes()));
    let revoked_now =
        String::from_utf8(gpg.run(&["--armor", "--export", "gone@example.com"], None)).unwrap();
    assert_eq!(
        Recipient::parse(&revoked_now, now()).unwrap_err(),
        KeyProblem::Revoked
    );

    let private = gpg.private_key("sign@example.com");
    assert_eq!(
        Recipient::parse(&private, now()).unwrap_err(),
        KeyProblem::PrivateKey
    );
}
