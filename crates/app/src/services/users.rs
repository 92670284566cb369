//! Finding a person before exporting their data: the reference page's `findUserByEmail` step.
//! Their profile and every visitor linked to them, as an export of them would cover.

use ferry_domain::AccountId;
use ferry_domain::export::{Identity, Profile, SubjectRef};
use ferry_store::Store;

use crate::error_code::{ErrorCode, Problem};

/// A user's profile and the visitors linked to them.
pub struct User {
    pub profile: Profile,
    pub identities: Vec<Identity>,
}

/// The user a user id or an email (in any case) names in `account`. Another account's user
/// is not found, with the same answer as nobody at all, so a key cannot learn who exists
/// elsewhere.
pub async fn find_user(
    store: &dyn Store,
    account: AccountId,
    by: &SubjectRef,
) -> Result<User, Problem> {
    let mut found = store.find_subject(account, by, None).await?;
    // Several users may share an email: show the one whose profile is found, with only their
    // own visitors, which is what `POST /users/{userId}/export` of them covers.
    if let (SubjectRef::Email(_), Some(profile)) =
        (by, found.as_ref().and_then(|s| s.profile.as_ref()))
    {
        let own = SubjectRef::UserId(profile.user_id.clone());
        found = store.find_subject(account, &own, None).await?;
    }
    // A visitor id may name an anonymous visitor, who has no profile: not a user.
    let user = found.and_then(|s| {
        s.profile.map(|profile| User {
            profile,
            identities: s.identities,
        })
    });
    user.ok_or_else(|| {
        Problem::new(
            ErrorCode::UserNotFound,
            format!(
                "no user with that {} in this account: check it, or look the person up by \
                 another identifier (GET /users/{{userId}}, GET /users?email=)",
                by.kind_name()
            ),
        )
    })
}
