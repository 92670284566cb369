//! Who may sign in to an account's dashboard: creating a user (`ferry users create`, `ferry
//! demo`, the dashboard's Users page), removing one, and checking a password at sign-in.
//! Passwords are hashed with argon2id before the store sees them; an unknown email and a
//! wrong password get the same answer, in the same time.

use ferry_domain::AccountId;
use ferry_store::{DashboardRole, DashboardUser, NewDashboardUser, Store};
use serde_json::json;

use crate::error_code::{ErrorCode, Problem};
use crate::keys::random_id;
use crate::passwords;

/// Long enough to resist guessing offline should the hashes leak.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Bounds what one sign-in makes the server hash.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// RFC 5321's longest address.
const MAX_EMAIL_BYTES: usize = 320;

/// An email as it is kept: trimmed; at most 320 bytes with one `@` between two non-empty
/// parts and no spaces or control characters.
pub fn valid_email(email: &str) -> Option<String> {
    let email = email.trim();
    let (local, domain) = email.split_once('@')?;
    let fine = !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && email.len() <= MAX_EMAIL_BYTES
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    fine.then(|| email.to_string())
}

/// 20 random characters from an alphabet without look-alikes (~115 bits): a generated
/// password, shown once.
pub fn new_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..20)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Creates a user of `account`; `actor` is who the audit trail names (`cli`, `demo`).
pub async fn create_user(
    store: &dyn Store,
    account: AccountId,
    email: &str,
    password: String,
    role: DashboardRole,
    actor: &str,
) -> Result<DashboardUser, Problem> {
    let email = valid_email(email).ok_or_else(|| {
        Problem::new(
            ErrorCode::InvalidValue,
            "the email is not an address (name@example.com)",
        )
    })?;
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            format!(
                "a dashboard password has at least {MIN_PASSWORD_CHARS} characters (and at most {MAX_PASSWORD_BYTES} bytes)"
            ),
        ));
    }
    let password_hash = passwords::hash(password)
        .await
        .map_err(|e| Problem::new(ErrorCode::InternalError, e.to_string()))?;
    let user = store
        .create_dashboard_user(
            account,
            NewDashboardUser {
                id: random_id("usr_", 8),
                email,
                password_hash,
                role,
            },
        )
        .await?;
    let details = json!({"user_id": user.id, "role": user.role.as_str()});
    store
        .audit(
            account,
            crate::audit::event(actor, "dashboard_user.created", details),
        )
        .await?;
    tracing::info!(user.id = %user.id, "dashboard user created");
    Ok(user)
}

/// The user whose email and password these are; `None` for a wrong password or an unknown
/// email alike.
pub async fn check_password(
    store: &dyn Store,
    email: &str,
    password: &str,
) -> Result<Option<DashboardUser>, Problem> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(None);
    }
    let found = match valid_email(email) {
        Some(email) => store.dashboard_login(&email).await?,
        None => None,
    };
    let (user, phc) = found.map_or((None, None), |(u, h)| (Some(u), Some(h)));
    let matches = passwords::verify(password.to_string(), phc).await;
    Ok(user.filter(|_| matches))
}

/// Removes a user of the actor's account, ending their sessions at once (audited
/// `dashboard_user.removed`). Nobody removes themselves: an account keeps the admin who
/// would do it.
pub async fn remove_user(
    store: &dyn Store,
    actor: &crate::services::Actor,
    user_id: &str,
) -> Result<(), Problem> {
    if let crate::services::Actor::User { id, .. } = actor
        && id == user_id
    {
        return Err(Problem::new(
            ErrorCode::InvalidValue,
            "you cannot remove yourself: another admin of the account can",
        ));
    }
    let entry = crate::audit::event(
        actor.audit_name(),
        "dashboard_user.removed",
        json!({"user_id": user_id}),
    );
    if !store
        .delete_dashboard_user(actor.account(), user_id, entry)
        .await?
    {
        return Err(Problem::new(
            ErrorCode::NotFound,
            format!("no dashboard user `{user_id}` in this account"),
        ));
    }
    tracing::info!(user.id = %user_id, actor = %actor.log_name(), "dashboard user removed");
    Ok(())
}
