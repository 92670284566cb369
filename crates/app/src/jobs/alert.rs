//! The `alert` job kind: one channel (mail or webhook) of one alert. A channel the account
//! has not set is done at once; one that fails now is retried with the deliveries' back-off.

use ferry_domain::AccountId;
use ferry_domain::alert::{Alert, AlertChannel};

use super::{Failure, Worker};

pub(super) async fn run(
    worker: &Worker,
    account: i64,
    channel: AlertChannel,
    alert: &Alert,
) -> Result<(), Failure> {
    let store = worker.store.as_ref();
    let account = AccountId(account);
    let sent = match channel {
        AlertChannel::Mail => {
            crate::alerts::mail::send(store, worker.mail.as_deref(), account, alert).await
        }
        AlertChannel::Webhook => {
            worker
                .alerts
                .post(store, worker.sealer.as_ref(), account, &alert.to_json())
                .await
        }
    };
    if let Err(failure) = &sent {
        // The reason names no address: the mail's recipient is never part of it.
        tracing::warn!(
            account = account.0,
            channel = channel.as_str(),
            export.id = %alert.export_id,
            will_retry = failure.transient,
            reason = %failure.message,
            "an alert did not arrive"
        );
    }
    sent
}
