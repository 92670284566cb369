//! Alerts by email: the account's alert address (`PUT/GET/DELETE /alerts/email`, admin) and
//! the mail each alert becomes.
//!
//! The address is personal data (a person's mailbox, as a rule). It is kept in one row per
//! account, shown only to the account's admins, and used only to send alerts. The audit
//! trail, which is append-only and cannot forget, records that it was set or removed
//! (`alert_email.set`, `alert_email.removed`) and by whom, never the address itself; the log
//! never names it either. Setting it sends nothing (a PUT that mailed a confirmation would let
//! a stolen admin key mail anyone, once per request).

use ferry_domain::AccountId;
use ferry_store::Store;
use serde_json::{Value, json};

use super::Alert;
use crate::error_code::{ErrorCode, Problem};
use crate::jobs::{Failure, MailSetup};
use crate::services::Actor;

/// RFC 5321's longest forward path, less its angle brackets.
const MAX_ADDRESS: usize = 254;

fn no_relay() -> Problem {
    Problem::new(
        ErrorCode::MailRelayNotConfigured,
        "alerts by email need a mail relay, and this server has none: start ferry serve with \
         --smtp-url (FERRY_SMTP_URL, like smtp://user:pass@host:587?tls=required) and \
         --smtp-from (FERRY_SMTP_FROM), then set the address again",
    )
}

/// Sets the account's alert address. Refused when this server has no relay to send with.
pub async fn set(
    store: &dyn Store,
    mail: Option<&MailSetup>,
    actor: &Actor,
    to: &str,
    now: i64,
) -> Result<Value, Problem> {
    if mail.is_none() {
        return Err(no_relay());
    }
    if to.len() > MAX_ADDRESS || !ferry_deliver::smtp::is_address(to) {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            "`to` must be one plain email address (`dpo@example.com`, no name or brackets), at \
             most 254 characters",
        ));
    }
    let account = actor.account();
    store.set_alert_email(account, to, now).await?;
    let entry = crate::audit::event(actor.audit_name(), "alert_email.set", json!({}));
    store.audit(account, entry).await?;
    Ok(json!({ "to": to }))
}

pub async fn show(store: &dyn Store, account: AccountId) -> Result<Value, Problem> {
    Ok(json!({ "to": store.alert_email(account).await? }))
}

pub async fn remove(store: &dyn Store, actor: &Actor) -> Result<Value, Problem> {
    let account = actor.account();
    let removed = store.delete_alert_email(account).await?;
    if removed {
        let entry = crate::audit::event(actor.audit_name(), "alert_email.removed", json!({}));
        store.audit(account, entry).await?;
    }
    Ok(json!({ "to": null, "removed": removed }))
}

/// Mails `alert` to the account's alert address, if it set one. `Err` says why it was not
/// sent (never the address), and whether trying again may help.
pub async fn send(
    store: &dyn Store,
    mail: Option<&MailSetup>,
    account: AccountId,
    alert: &Alert,
) -> Result<(), Failure> {
    let to = match store.alert_email(account).await {
        Ok(Some(to)) => to,
        Ok(None) => return Ok(()),
        Err(e) => return Err(Failure::transient(e)),
    };
    let Some(mail) = mail else {
        return Err(Failure::permanent(
            ErrorCode::MailRelayNotConfigured,
            "the account has an alert address, but this worker has no mail relay: start it \
             with --smtp-url",
        ));
    };
    let (subject, body) = compose(alert, &mail.public_url);
    mail.relay
        .send_text(&to, &subject, body)
        .await
        .map_err(|e| super::retry(format!("the alert mail could not be sent: {e}")))
}

/// Subject and body: which export, which destination (its name and type; never its settings
/// or credentials), why, and what to do.
pub fn compose(alert: &Alert, public_url: &str) -> (String, String) {
    let api = format!("{public_url}/api/external/v1");
    let destination = alert.destination_label();
    // The destination's name is the account's own text: no line break reaches a header.
    let subject: String = format!(
        "Ferry: export {} was not delivered to {destination}",
        alert.export_id
    )
    .chars()
    .map(|c| if c.is_control() { ' ' } else { c })
    .collect();
    let mut body = format!(
        "Ferry could not deliver an export and has stopped trying.\n\n\
         Export:       {export}\n\
         Destination:  {destination}\n\
         Attempts:     {attempts}\n\
         Failed at:    {at}\n\
         Reason:       {reason}\n\n\
         What to do:\n",
        export = alert.export_id,
        attempts = alert
            .attempts
            .map_or_else(|| "-".to_string(), |n| n.to_string()),
        at = alert.at.format("%Y-%m-%d %H:%M UTC"),
        reason = alert.message,
    );
    match &alert.destination_id {
        Some(id) => body.push_str(&format!(
            "- Fix the destination (its address, path or credentials, as the reason says), \
             then check it: POST {api}/destinations/{id}/test\n"
        )),
        None => body.push_str(
            "- The destination was given with the export request: correct it in the next \
             request.\n",
        ),
    }
    body.push_str(&format!(
        "- The export itself is complete; its status and download link: GET \
         {api}/exports/{}\n\
         - Once the destination works, ask for the export again (a schedule's window: POST \
         {api}/schedules/{{id}}/backfill).\n\n\
         This alert went to the address set with PUT {api}/alerts/email.\n",
        alert.export_id
    ));
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_name_with_line_breaks_stays_on_the_subject_line() {
        let alert = Alert {
            export_id: "exp_1".into(),
            destination_id: Some("dst_1".into()),
            destination_name: Some("warehouse\r\nBcc: victim@example.com".into()),
            kind: Some("s3".into()),
            attempts: Some(6),
            message: "the S3 server could not be reached".into(),
            at: chrono::DateTime::from_timestamp(0, 0).unwrap(),
        };
        let (subject, body) = compose(&alert, "https://ferry.example.com");
        assert!(
            !subject.contains('\n') && !subject.contains('\r'),
            "{subject}"
        );
        assert!(
            subject.contains("exp_1") && subject.contains("dst_1"),
            "{subject}"
        );
        assert!(
            body.contains("POST https://ferry.example.com/api/external/v1/destinations/dst_1/test")
        );
    }
}
