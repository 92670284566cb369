//! What keeps the public form from being a mail cannon or a guessing machine.
//!
//! - Per client address: [`SUBMITS_PER_HOUR_PER_CLIENT`] requests an hour (over it: `429`
//!   with `Retry-After`, the form kept), on top of the per-minute limit every privacy page
//!   shares.
//! - Per email: [`SUBMITS_PER_HOUR_PER_EMAIL`] an hour in each account, so nobody can flood
//!   one mailbox with codes from many addresses. Over it the form answers exactly as
//!   when it took the request, and nothing is created or sent: a refusal would tell a
//!   stranger that someone asked about that address. Keyed by a keyed hash of the address,
//!   so the limiter's memory holds no email.
//! - The form token: `{expiry}.{MAC(account, expiry)}` with the server's secret, valid
//!   [`FORM_TOKEN_LIFETIME_MS`]. There is no session to bind it to, so it proves that the form
//!   was fetched from this account's page recently, not who fetched it: a bot must load the
//!   page first, and a post built elsewhere, or replayed long after, is refused.
//!
//! The limiters live in memory (one Ferry process); a restart starts them afresh.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ferry_domain::{AccountId, Millis};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::links::LinkSigner;

pub const SUBMITS_PER_HOUR_PER_CLIENT: u32 = 10;
pub const SUBMITS_PER_HOUR_PER_EMAIL: u32 = 3;
/// A form filled in slowly still goes through; one kept open overnight does not.
pub const FORM_TOKEN_LIFETIME_MS: Millis = 2 * 3_600_000;

const FORM: &str = "privacy-form";
const EMAIL: &str = "privacy-email";
/// Keys each limiter remembers before it forgets those idle long enough to be full again.
const REMEMBERED: usize = 10_000;

pub struct Limits {
    clients: DefaultKeyedRateLimiter<IpAddr>,
    emails: DefaultKeyedRateLimiter<String>,
    /// Keys the email limiter's hashes with the server's secret.
    links: Arc<LinkSigner>,
}

fn per_hour(n: u32) -> Quota {
    Quota::per_hour(NonZeroU32::new(n).expect("a limit above zero"))
}

impl Limits {
    pub fn new(links: Arc<LinkSigner>) -> Self {
        Limits {
            clients: RateLimiter::keyed(per_hour(SUBMITS_PER_HOUR_PER_CLIENT)),
            emails: RateLimiter::keyed(per_hour(SUBMITS_PER_HOUR_PER_EMAIL)),
            links,
        }
    }

    /// Counts a submit from `client`; `Err(seconds to wait)` when over the limit.
    pub fn client(&self, client: IpAddr) -> Result<(), u64> {
        if self.clients.len() > REMEMBERED {
            self.clients.retain_recent();
        }
        self.clients.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
        })
    }

    /// Counts a request for `email` (normalised) in `account`; `false` when over the limit.
    pub fn email(&self, account: AccountId, email: &str) -> bool {
        if self.emails.len() > REMEMBERED {
            self.emails.retain_recent();
        }
        let key = hex::encode(self.links.derive(EMAIL, &format!("{}:{email}", account.0)));
        self.emails.check_key(&key).is_ok()
    }
}

pub fn form_token(links: &LinkSigner, account: AccountId, now: Millis) -> String {
    let expires = now + FORM_TOKEN_LIFETIME_MS;
    let mac = links.derive(FORM, &format!("{}:{expires}", account.0));
    format!("{expires}.{}", URL_SAFE_NO_PAD.encode(mac))
}

/// Made by [`form_token`] for this account, and not expired.
pub fn form_token_valid(links: &LinkSigner, account: AccountId, token: &str, now: Millis) -> bool {
    let Some((expires, mac)) = token.split_once('.').filter(|_| token.len() <= 100) else {
        return false;
    };
    let (Ok(at), Ok(mac)) = (expires.parse::<Millis>(), URL_SAFE_NO_PAD.decode(mac)) else {
        return false;
    };
    now < at
        && at <= now + FORM_TOKEN_LIFETIME_MS
        && links.derived_matches(FORM, &format!("{}:{expires}", account.0), &mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_token_works_for_its_account_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let links = LinkSigner::load(dir.path()).unwrap();
        let (a, b) = (AccountId(1), AccountId(2));
        let t = form_token(&links, a, 1_000);
        assert!(form_token_valid(&links, a, &t, 1_000));
        assert!(form_token_valid(
            &links,
            a,
            &t,
            1_000 + FORM_TOKEN_LIFETIME_MS - 1
        ));
        assert!(!form_token_valid(
            &links,
            a,
            &t,
            1_000 + FORM_TOKEN_LIFETIME_MS
        ));
        assert!(!form_token_valid(&links, b, &t, 1_000), "another account");
        let later = t.replacen("7201000", "9201000", 1);
        assert!(
            !form_token_valid(&links, a, &later, 1_000),
            "a moved expiry"
        );
        assert!(!form_token_valid(&links, a, "", 1_000));
    }

    #[test]
    fn the_fourth_request_for_one_email_in_an_hour_is_not_taken() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits::new(Arc::new(LinkSigner::load(dir.path()).unwrap()));
        for _ in 0..SUBMITS_PER_HOUR_PER_EMAIL {
            assert!(limits.email(AccountId(1), "ann@example.com"));
        }
        assert!(!limits.email(AccountId(1), "ann@example.com"));
        assert!(limits.email(AccountId(2), "ann@example.com"), "per account");
        assert!(limits.email(AccountId(1), "bob@example.com"));
    }
}
