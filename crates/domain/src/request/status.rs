//! A data-subject request's status and the only moves between them:
//!
//! ```text
//! received ─▶ verification_sent ─▶ verified ─▶ in_progress ─▶ delivered ─▶ confirmed ─▶ closed
//!    │  ▲______________│ (resend)      │              │             └──────────────────▲
//!    └──────────────────────────────── ▶ verified     │
//! any state before delivered ─▶ rejected | cancelled
//! verified | in_progress ─fulfil─▶ in_progress, or awaiting_approval ─approve─▶ in_progress
//! ```
//!
//! `fulfil` asks for the subject's export (access and portability requests); where the
//! account requires a person's approval it stops at `awaiting_approval` first (the service
//! decides, from the account's settings: the machine only says where `fulfil` may start).
//!
//! `verify` also takes a request straight from `received` (identity proven otherwise, e.g.
//! a signed-in customer). `close` takes `delivered` too: a subject who never clicks "I
//! received it" must not keep the request open for ever. `rejected`, `cancelled` and
//! `closed` are final.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Received,
    VerificationSent,
    Verified,
    /// Fulfilment asked for; a person must approve before the export is generated.
    AwaitingApproval,
    InProgress,
    Delivered,
    Confirmed,
    Closed,
    Rejected,
    Cancelled,
}

/// What someone does to a request; each is one timeline step and one `request.*` audit
/// action (`request.` + [`RequestAction::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestAction {
    SendVerification,
    Verify,
    Start,
    Fulfil,
    Approve,
    Deliver,
    Confirm,
    Close,
    Reject,
    Cancel,
}

impl RequestStatus {
    pub const ALL: [RequestStatus; 10] = [
        RequestStatus::Received,
        RequestStatus::VerificationSent,
        RequestStatus::Verified,
        RequestStatus::AwaitingApproval,
        RequestStatus::InProgress,
        RequestStatus::Delivered,
        RequestStatus::Confirmed,
        RequestStatus::Closed,
        RequestStatus::Rejected,
        RequestStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Received => "received",
            RequestStatus::VerificationSent => "verification_sent",
            RequestStatus::Verified => "verified",
            RequestStatus::AwaitingApproval => "awaiting_approval",
            RequestStatus::InProgress => "in_progress",
            RequestStatus::Delivered => "delivered",
            RequestStatus::Confirmed => "confirmed",
            RequestStatus::Closed => "closed",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<RequestStatus> {
        RequestStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Not yet ended: a second request of the same person is linked to an open one.
    pub fn is_open(self) -> bool {
        !matches!(
            self,
            RequestStatus::Closed | RequestStatus::Rejected | RequestStatus::Cancelled
        )
    }

    /// Still owes the subject an answer: the deadline and its escalations apply.
    pub fn awaits_answer(self) -> bool {
        matches!(
            self,
            RequestStatus::Received
                | RequestStatus::VerificationSent
                | RequestStatus::Verified
                | RequestStatus::AwaitingApproval
                | RequestStatus::InProgress
        )
    }

    /// Identity not yet proven: the clock may stand still (an account setting).
    pub fn is_unverified(self) -> bool {
        matches!(
            self,
            RequestStatus::Received | RequestStatus::VerificationSent
        )
    }

    /// The status `action` leads to, or why it may not be taken now.
    pub fn after(self, action: RequestAction) -> Result<RequestStatus, IllegalTransition> {
        use RequestAction as A;
        use RequestStatus as S;
        let next = match (self, action) {
            (S::Received | S::VerificationSent, A::SendVerification) => S::VerificationSent,
            (S::Received | S::VerificationSent, A::Verify) => S::Verified,
            (S::Verified, A::Start) => S::InProgress,
            (S::Verified | S::InProgress, A::Fulfil) => S::InProgress,
            (S::AwaitingApproval, A::Approve) => S::InProgress,
            (S::InProgress, A::Deliver) => S::Delivered,
            (S::Delivered, A::Confirm) => S::Confirmed,
            (S::Delivered | S::Confirmed, A::Close) => S::Closed,
            (s, A::Reject | A::Cancel) if s.awaits_answer() => match action {
                A::Reject => S::Rejected,
                _ => S::Cancelled,
            },
            _ => {
                return Err(IllegalTransition { from: self, action });
            }
        };
        Ok(next)
    }

    /// The actions that may be taken now, for the API's answer and error messages.
    pub fn allowed(self) -> Vec<RequestAction> {
        RequestAction::ALL
            .into_iter()
            .filter(|a| self.after(*a).is_ok())
            .collect()
    }
}

impl RequestAction {
    pub const ALL: [RequestAction; 10] = [
        RequestAction::SendVerification,
        RequestAction::Verify,
        RequestAction::Start,
        RequestAction::Fulfil,
        RequestAction::Approve,
        RequestAction::Deliver,
        RequestAction::Confirm,
        RequestAction::Close,
        RequestAction::Reject,
        RequestAction::Cancel,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestAction::SendVerification => "send_verification",
            RequestAction::Verify => "verify",
            RequestAction::Start => "start",
            RequestAction::Fulfil => "fulfil",
            RequestAction::Approve => "approve",
            RequestAction::Deliver => "deliver",
            RequestAction::Confirm => "confirm",
            RequestAction::Close => "close",
            RequestAction::Reject => "reject",
            RequestAction::Cancel => "cancel",
        }
    }
}

/// An action the request's status does not allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a request that is {} cannot {}{}", from.as_str(), action.as_str(), allowed_hint(*from))]
pub struct IllegalTransition {
    pub from: RequestStatus,
    pub action: RequestAction,
}

fn allowed_hint(from: RequestStatus) -> String {
    let allowed: Vec<&str> = from.allowed().into_iter().map(|a| a.as_str()).collect();
    if allowed.is_empty() {
        format!(": {} is final", from.as_str())
    } else {
        format!(": from {} it can {}", from.as_str(), allowed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RequestAction as A;
    use RequestStatus as S;

    #[test]
    fn the_happy_path_walks_from_receipt_to_closed() {
        let mut status = S::Received;
        for action in [
            A::SendVerification,
            A::Verify,
            A::Start,
            A::Deliver,
            A::Confirm,
            A::Close,
        ] {
            status = status.after(action).unwrap();
        }
        assert_eq!(status, S::Closed);
    }

    #[test]
    fn every_move_outside_the_machine_is_refused() {
        let legal: &[(S, A, S)] = &[
            (S::Received, A::SendVerification, S::VerificationSent),
            (
                S::VerificationSent,
                A::SendVerification,
                S::VerificationSent,
            ),
            (S::Received, A::Verify, S::Verified),
            (S::VerificationSent, A::Verify, S::Verified),
            (S::Verified, A::Start, S::InProgress),
            (S::Verified, A::Fulfil, S::InProgress),
            (S::InProgress, A::Fulfil, S::InProgress),
            (S::AwaitingApproval, A::Approve, S::InProgress),
            (S::InProgress, A::Deliver, S::Delivered),
            (S::Delivered, A::Confirm, S::Confirmed),
            (S::Delivered, A::Close, S::Closed),
            (S::Confirmed, A::Close, S::Closed),
        ];
        for from in S::ALL {
            for action in A::ALL {
                let expected = legal
                    .iter()
                    .find(|(f, a, _)| *f == from && *a == action)
                    .map(|(_, _, to)| *to)
                    .or(match action {
                        A::Reject if from.awaits_answer() => Some(S::Rejected),
                        A::Cancel if from.awaits_answer() => Some(S::Cancelled),
                        _ => None,
                    });
                assert_eq!(from.after(action).ok(), expected, "{from:?} {action:?}");
            }
        }
    }

    #[test]
    fn a_refusal_says_what_is_allowed() {
        let e = S::Closed.after(A::Reject).unwrap_err();
        assert_eq!(
            e.to_string(),
            "a request that is closed cannot reject: closed is final"
        );
        let e = S::Received.after(A::Close).unwrap_err();
        assert!(
            e.to_string()
                .contains("it can send_verification, verify, reject, cancel"),
            "{e}"
        );
    }

    #[test]
    fn statuses_parse_back() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
    }
}
