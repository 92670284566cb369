//! Password guessing is slowed down, for a known email and an unknown one alike.

use reqwest::StatusCode;

use super::{PASSWORD, add_user, location, try_login};
use crate::helpers::spawn_app_with;

/// Sign-ins from different clients (the trusted proxy header names them).
fn from(client: &str) -> [(&'static str, String); 1] {
    [("X-Forwarded-For", client.to_string())]
}

async fn attempt(
    base: &str,
    email: &str,
    password: &str,
    client: &str,
) -> (StatusCode, Option<String>, String) {
    let header = from(client);
    let headers: Vec<(&str, &str)> = header.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = try_login(base, email, password, &headers).await;
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (response.status(), retry, response.text().await.unwrap())
}

#[tokio::test]
async fn five_wrong_passwords_slow_the_next_try_and_say_nothing_about_whether_the_email_exists() {
    let mut args = ferry::config::ServeArgs::loopback();
    args.client_ip_header = Some("X-Forwarded-For".into());
    let app = spawn_app_with(args).await;
    add_user(app.store.as_ref(), "acme", "admin@company.com").await;

    for (email, client) in [
        ("admin@company.com", "10.0.0.1"),
        ("nobody@company.com", "10.0.0.2"),
    ] {
        for _ in 0..5 {
            let (status, _, page) = attempt(&app.base, email, "wrong password!!", client).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{email}");
            assert!(page.contains("Wrong email or password."));
        }
        // The sixth try waits, even with the right password, and from another client.
        let (status, retry, page) = attempt(&app.base, email, PASSWORD, "10.0.0.9").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{email}");
        assert_eq!(retry.as_deref(), Some("30"), "{email}");
        assert!(page.contains("Too many failed sign-ins"));
    }

    // One client guessing across many emails is slowed down as well.
    for i in 0..5 {
        let (status, _, _) =
            attempt(&app.base, &format!("guess{i}@company.com"), "x", "10.0.0.3").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (status, _, _) = attempt(&app.base, "admin@company.com", PASSWORD, "10.0.0.3").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);

    // Once the wait is over the right password signs in.
    app.clock.advance(30_000);
    let headers = from("10.0.0.4");
    let response = try_login(
        &app.base,
        "admin@company.com",
        PASSWORD,
        &[(headers[0].0, &headers[0].1)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/overview");
}
