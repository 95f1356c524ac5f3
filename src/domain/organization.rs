//! Colleagues in one organisation: when an invitation may be used, and which role changes would
//! leave an organisation without an owner. Pure: the caller passes `now` and what it has read.
use chrono::{DateTime, Duration, Utc};

use crate::domain::codes::OrgRole;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// When an invitation made at `now` stops working.
pub fn invitation_expires(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::days(INVITATION_DAYS)
}

/// E-mail addresses compare case-insensitively everywhere (API.md), ignoring surrounding spaces.
pub fn same_email(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// What is known of an invitation when someone tries to use it.
#[derive(Debug, Clone)]
pub struct Invitation<'a> {
    pub email: &'a str,
    pub expires_at: DateTime<Utc>,
    pub accepted: bool,
    pub revoked: bool,
}

/// Why an invitation cannot be used (all of them are 409 `invitation_invalid` to the caller; the
/// pages say which).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationProblem {
    /// No invitation has that token.
    Unknown,
    /// It was used already: an invitation works once.
    Used,
    /// The owner revoked it.
    Revoked,
    /// Its 7 days are over.
    Expired,
    /// It was made out to another e-mail address.
    OtherEmail,
}

impl InvitationProblem {
    /// The `reason` of the 409 `invitation_invalid` answer.
    pub fn code(self) -> &'static str {
        match self {
            InvitationProblem::Unknown => "unknown",
            InvitationProblem::Used => "used",
            InvitationProblem::Revoked => "revoked",
            InvitationProblem::Expired => "expired",
            InvitationProblem::OtherEmail => "other_email",
        }
    }

    /// The translation key of the explanation.
    pub fn key(self) -> &'static str {
        match self {
            InvitationProblem::Unknown => "organization.invalid.unknown",
            InvitationProblem::Used => "organization.invalid.used",
            InvitationProblem::Revoked => "organization.invalid.revoked",
            InvitationProblem::Expired => "organization.invalid.expired",
            InvitationProblem::OtherEmail => "organization.invalid.other_email",
        }
    }
}

/// Whether the invitation is still open at `now` (neither used, revoked nor expired).
pub fn check_open(inv: &Invitation<'_>, now: DateTime<Utc>) -> Result<(), InvitationProblem> {
    if inv.accepted {
        Err(InvitationProblem::Used)
    } else if inv.revoked {
        Err(InvitationProblem::Revoked)
    } else if now >= inv.expires_at {
        Err(InvitationProblem::Expired)
    } else {
        Ok(())
    }
}

/// Whether the person with `email` may use the invitation at `now`: it is open and made out to them.
pub fn check_use(
    inv: &Invitation<'_>,
    email: &str,
    now: DateTime<Utc>,
) -> Result<(), InvitationProblem> {
    check_open(inv, now)?;
    if same_email(inv.email, email) {
        Ok(())
    } else {
        Err(InvitationProblem::OtherEmail)
    }
}

/// A change to one colleague's place in the organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Remove,
    SetRole(OrgRole),
}

/// The organisation must keep an owner: a change that takes the last owner's role away (removing
/// them or making them a member) is refused. `owners` counts the owners before the change.
pub fn keeps_an_owner(owners: usize, target: OrgRole, change: Change) -> bool {
    let loses_an_owner = target == OrgRole::Owner && change != Change::SetRole(OrgRole::Owner);
    !loses_an_owner || owners > 1
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn an_invitation_works_for_seven_days_for_its_address_only_and_once() {
        let made = at(1, 8);
        let open = Invitation {
            email: "Li.Wei@Example.cn",
            expires_at: invitation_expires(made),
            accepted: false,
            revoked: false,
        };
        let cases = [
            (open.clone(), "li.wei@example.cn", at(1, 9), Ok(())),
            (open.clone(), " LI.WEI@EXAMPLE.CN ", at(8, 7), Ok(())),
            (
                open.clone(),
                "li.wei@example.cn",
                at(8, 8),
                Err(InvitationProblem::Expired),
            ),
            (
                open.clone(),
                "zhang@example.cn",
                at(2, 8),
                Err(InvitationProblem::OtherEmail),
            ),
            (
                Invitation {
                    accepted: true,
                    ..open.clone()
                },
                "li.wei@example.cn",
                at(2, 8),
                Err(InvitationProblem::Used),
            ),
            (
                Invitation {
                    revoked: true,
                    ..open.clone()
                },
                "li.wei@example.cn",
                at(2, 8),
                Err(InvitationProblem::Revoked),
            ),
            // A used invitation says so even to someone else, and after its expiry.
            (
                Invitation {
                    accepted: true,
                    ..open.clone()
                },
                "zhang@example.cn",
                at(20, 8),
                Err(InvitationProblem::Used),
            ),
        ];
        for (inv, email, now, want) in cases {
            assert_eq!(check_use(&inv, email, now), want, "{inv:?} {email} {now}");
        }
    }

    #[test]
    fn the_last_owner_keeps_the_role() {
        use Change::*;
        use OrgRole::*;
        let cases = [
            (1, Owner, Remove, false),
            (1, Owner, SetRole(Member), false),
            (1, Owner, SetRole(Owner), true),
            (2, Owner, Remove, true),
            (2, Owner, SetRole(Member), true),
            (1, Member, Remove, true),
            (1, Member, SetRole(Owner), true),
            (0, Member, Remove, true),
        ];
        for (owners, target, change, ok) in cases {
            assert_eq!(
                keeps_an_owner(owners, target, change),
                ok,
                "{owners} {target:?} {change:?}"
            );
        }
    }

    #[test]
    fn every_problem_has_its_own_explanation() {
        let all = [
            InvitationProblem::Unknown,
            InvitationProblem::Used,
            InvitationProblem::Revoked,
            InvitationProblem::Expired,
            InvitationProblem::OtherEmail,
        ];
        let keys: std::collections::BTreeSet<_> = all.iter().map(|p| p.key()).collect();
        assert_eq!(keys.len(), all.len());
    }
}
