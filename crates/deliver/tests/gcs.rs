//! The GCS sink against fake-gcs-server on 127.0.0.1:4443 (`scripts/services/gcs.sh`), and
//! the token it signs (the emulator does not check tokens, so the test here does).

mod common;

use common::{Dir, closed_port, noise, package_file, require_server, sha256, unique};
use ferry_deliver::gcs::{Claims, GcsConfig, GcsSink, bearer_token};
use ferry_deliver::{DeliveryError, Secret, Sink};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

const BASE: &str = "http://127.0.0.1:4443";
const ACCOUNT: &str = include_str!("fixtures/gcs-test-service-account.json");
const ACCOUNT_PUBLIC_KEY: &str = include_str!("fixtures/gcs-test-key.pub.pem");

async fn new_bucket() -> String {
    require_server(4443, "gcs.sh");
    let name = unique("ferry").to_lowercase();
    let made = reqwest::Client::new()
        .post(format!("{BASE}/storage/v1/b?project=ferry-test"))
        .json(&serde_json::json!({ "name": name }))
        .send()
        .await
        .unwrap();
    assert!(made.status().is_success(), "{}", made.status());
    name
}

fn config(bucket: &str) -> GcsConfig {
    GcsConfig {
        bucket: bucket.into(),
        path: "exports/ferry/".into(),
        service_account_json: Secret::new(ACCOUNT),
        endpoint: Some(BASE.into()),
    }
}

async fn object(bucket: &str, name: &str) -> Vec<u8> {
    let mut url = reqwest::Url::parse(BASE).unwrap();
    url.path_segments_mut()
        .unwrap()
        .extend(["storage", "v1", "b", bucket, "o", name]);
    url.set_query(Some("alt=media"));
    let got = reqwest::get(url).await.unwrap();
    assert!(got.status().is_success(), "{name}: {}", got.status());
    got.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn files_arrive_as_objects_with_the_manifest_bytes() {
    let bucket = new_bucket().await;
    let store = tempfile::tempdir().unwrap();
    let files = [
        package_file(store.path(), "export.zip", &noise(5 * 1024 * 1024 + 3, 7)),
        package_file(store.path(), "manifest.json", b"{\"files\":2}"),
    ];
    let delivery = GcsSink {
        config: config(&bucket),
    }
    .deliver("exp_9", &files, &Dir(store.path().into()))
    .await
    .unwrap();
    assert_eq!(delivery.method, "gcs");
    assert_eq!(
        delivery.location.as_deref(),
        Some(format!("gs://{bucket}/exports/ferry/exp_9/").as_str())
    );
    for file in &files {
        let bytes = object(&bucket, &format!("exports/ferry/exp_9/{}", file.name)).await;
        assert_eq!(sha256(&bytes), file.sha256, "{}", file.name);
    }
}

#[tokio::test]
async fn a_missing_bucket_or_an_unusable_key_is_permanent_and_a_server_down_is_transient() {
    require_server(4443, "gcs.sh");
    let store = tempfile::tempdir().unwrap();
    let files = [package_file(store.path(), "export.zip", b"rows")];
    let source = Dir(store.path().into());

    let missing = GcsSink {
        config: config(&unique("no-such-bucket")),
    }
    .deliver("exp_1", &files, &source)
    .await;
    assert!(
        matches!(&missing, Err(DeliveryError::Permanent(m)) if m.contains("no bucket")),
        "{missing:?}"
    );

    let mut bad_key = config(&new_bucket().await);
    bad_key.service_account_json =
        Secret::new(r#"{"client_email":"a@b","private_key":"-----BEGIN nonsense-4f1a"}"#);
    let refused = GcsSink { config: bad_key }
        .deliver("exp_1", &files, &source)
        .await;
    let Err(DeliveryError::Permanent(message)) = refused else {
        panic!("an unusable key is permanent: {refused:?}");
    };
    assert!(message.contains("service_account_json"), "{message}");
    assert!(!message.contains("nonsense-4f1a"), "never echoes the key");

    let mut down = config("any");
    down.endpoint = Some(format!("http://127.0.0.1:{}", closed_port()));
    let refused = GcsSink { config: down }
        .deliver("exp_1", &files, &source)
        .await;
    assert!(
        matches!(refused, Err(DeliveryError::Transient(_))),
        "{refused:?}"
    );
}

#[test]
fn the_bearer_token_is_an_rs256_jwt_signed_by_the_service_account_key() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = bearer_token(&Secret::new(ACCOUNT), now).unwrap();
    let key = DecodingKey::from_rsa_pem(ACCOUNT_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    let decoded = jsonwebtoken::decode::<Claims>(&token, &key, &validation).unwrap();
    assert_eq!(decoded.header.alg, Algorithm::RS256);
    assert_eq!(decoded.header.kid.as_deref(), Some("ferry-test-key-1"));
    assert_eq!(
        decoded.claims,
        Claims {
            iss: "ferry-test@ferry-test.iam.gserviceaccount.com".into(),
            sub: "ferry-test@ferry-test.iam.gserviceaccount.com".into(),
            scope: "https://www.googleapis.com/auth/devstorage.read_write".into(),
            iat: now,
            exp: now + 3600,
        }
    );
    // Another key does not verify it: the signature is the account's.
    let other = DecodingKey::from_rsa_pem(include_bytes!("fixtures/other-key.pub.pem")).unwrap();
    assert!(jsonwebtoken::decode::<Claims>(&token, &other, &validation).is_err());
}

#[test]
fn the_config_reads_the_destination_json_and_debug_hides_the_key() {
    let config: GcsConfig = serde_json::from_value(serde_json::json!({
        "type": "gcs", "bucket": "b", "path": "p", "service_account_json": ACCOUNT
    }))
    .unwrap();
    assert!(config.endpoint.is_none());
    assert!(!format!("{config:?}").contains("PRIVATE KEY"));
}
