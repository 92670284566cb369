//! The privacy page's second half over HTTP, black-box: the code typed on the page, the
//! mail's link, and the status page's token (its own request, on its own account's page).

use reqwest::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION};
use reqwest::{Response, StatusCode};

use crate::helpers::TestApp;
use crate::privacy_page::{ask, ask_ok, browser, form_token, hidden, of, requests, shape};
use crate::requests::{id, unique_email};
use crate::requests_verification::{app_with_mail, code_and_link};

/// Asks, reads the code from the mail, and returns the sent page's ticket and the code.
pub async fn asked(app: &TestApp, email: &str) -> (String, String) {
    let page = ask_ok(app, email, "portability")
        .await
        .text()
        .await
        .unwrap();
    app.run_jobs().await;
    let (code, _) = code_and_link(email);
    (hidden(&page, "ticket"), code)
}

pub async fn enter(app: &TestApp, account: &str, ticket: &str, code: &str) -> Response {
    let token = form_token(app, account).await;
    browser()
        .post(app.url(&format!("/privacy/{account}/code")))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(crate::dashboard::form(&[
            ("form_token", token.as_str()),
            ("ticket", ticket),
            ("code", code),
        ]))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn the_code_typed_on_the_page_opens_the_status_page_and_wrong_codes_say_one_thing() {
    let app = app_with_mail().await;
    let email = unique_email("code");
    let (ticket, code) = asked(&app, &email).await;
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let response = enter(&app, "acme", &ticket, wrong).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let said = shape(response).await;
    assert!(said.2.contains("That code did not work"), "{}", said.2);
    // A dropped submission's ticket (no request behind it) gets the very same answer.
    let token = form_token(&app, "acme").await;
    let bot = ask(
        &app,
        &[
            ("form_token", &token),
            ("email", &email),
            ("type", "access"),
            ("homepage", "x"),
        ],
    )
    .await;
    let decoy = hidden(&bot.text().await.unwrap(), "ticket");
    assert_eq!(shape(enter(&app, "acme", &decoy, wrong).await).await, said);

    let response = enter(&app, "acme", &ticket, &code).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(
        location.starts_with("/privacy/acme/status/req_"),
        "{location}"
    );
    let page = browser().get(app.url(&location)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()[CACHE_CONTROL], "no-store");
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let csp = page.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script"),
        "{csp}"
    );
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Your data to take elsewhere (portability, Art. 20)"),
        "{html}"
    );
    assert!(html.contains("We are preparing your data"), "{html}");
    assert!(html.contains("You confirmed your email address"), "{html}");
    assert!(!html.contains(&email), "the page does not show the address");
    assert!(
        !html.contains("verification_failed"),
        "staff's steps stay out"
    );

    let request = &of(&requests(&app).await, &email)[0];
    let shown = app
        .get_json(&app.api(&format!("/requests/{}", id(request))))
        .await;
    assert_eq!(shown["status"], "verified");
    assert_eq!(shown["verification"]["method"], "email_code_privacy_page");
    // The ticket cannot be used again once verified, nor on another account's page.
    let again = enter(&app, "acme", &ticket, &code).await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_status_token_opens_only_its_request_on_its_accounts_page() {
    let app = app_with_mail().await;
    app.other_account().await;
    let other = "globex";
    let email = unique_email("status");
    let (ticket, code) = asked(&app, &email).await;
    // Another account's page does not take this account's ticket.
    let foreign = enter(&app, other, &ticket, &code).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let response = enter(&app, "acme", &ticket, &code).await;
    let location = response.headers()[LOCATION].to_str().unwrap().to_string();
    let token = location.rsplit('/').next().unwrap().to_string();

    let generic = browser()
        .get(app.url("/privacy/no-such-account"))
        .send()
        .await
        .unwrap();
    assert_eq!(generic.status(), StatusCode::NOT_FOUND);
    assert!(
        generic.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let generic = generic.text().await.unwrap();
    let mut forged = token.clone();
    forged.pop();
    forged.push(if token.ends_with('A') { 'B' } else { 'A' });
    for path in [
        format!("/privacy/{other}/status/{token}"),
        format!("/privacy/acme/status/{forged}"),
        format!("/privacy/acme/status/{ticket}"),
        "/privacy/acme/status/req_00000000.AAAA".to_string(),
        format!("/privacy/no-such-account/status/{token}"),
    ] {
        let response = browser().get(app.url(&path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.text().await.unwrap(), generic, "{path}");
    }
    let own = browser().get(app.url(&location)).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_mails_link_leads_to_the_status_page_too() {
    let app = app_with_mail().await;
    let email = unique_email("link");
    ask_ok(&app, &email, "erasure").await;
    app.run_jobs().await;
    let (_, link) = code_and_link(&email);
    let path = link.split_once("://").unwrap().1;
    let path = &path[path.find('/').unwrap()..];
    // Before anything is confirmed, the link's page says what the request would do: a
    // stranger can type anyone's address, and this one asks for a deletion.
    let before = browser().get(app.url(path)).send().await.unwrap();
    assert_eq!(before.status(), StatusCode::OK);
    let page = before.text().await.unwrap();
    assert!(page.contains("your data to be deleted"), "{page}");
    assert!(page.contains("If you did not, do not"), "{page}");
    let confirmed = browser().post(app.url(path)).send().await.unwrap();
    assert_eq!(confirmed.status(), StatusCode::OK);
    let html = confirmed.text().await.unwrap();
    let href = html.split("id=\"status-link\" href=\"").nth(1).unwrap();
    let href = href.split('"').next().unwrap();
    assert!(href.starts_with("/privacy/acme/status/"), "{href}");
    let status = browser().get(app.url(href)).send().await.unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    let html = status.text().await.unwrap();
    assert!(
        html.contains("Deleting your data (erasure, Art. 17)"),
        "{html}"
    );
    assert!(html.contains("We are working on it"), "{html}");
}
