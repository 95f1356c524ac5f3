//! Who is calling: passwords, opaque tokens (API bearer and browser session), CSRF.
pub mod password;
pub mod token;

use uuid::Uuid;

use crate::domain::codes::{Exchange, OrgRole, Role};
use crate::domain::interconnect::Scope;

/// The signed-in user as the service layer sees it.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    /// The member's role in their organisation as the request began (the service checks it again
    /// under lock where it decides on it).
    pub org_role: Option<OrgRole>,
    pub admin_exchange: Option<Exchange>,
    /// Set when the caller is an exchange's system with an API key (then `id` is the key's id,
    /// `role` is admin of the key's exchange, and there is no organisation): never a person.
    pub api_key: Option<KeyActor>,
}

/// An API key acting for its exchange.
#[derive(Clone, Debug)]
pub struct KeyActor {
    pub id: Uuid,
    pub name: String,
    pub scopes: Vec<Scope>,
}

impl CurrentUser {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// The exchange an admin acts for, or 403.
    pub fn require_admin(&self) -> crate::error::Result<Exchange> {
        match (self.role, self.admin_exchange) {
            (Role::Admin, Some(ex)) => Ok(ex),
            _ => Err(crate::error::Error::Forbidden("admin_required")),
        }
    }

    /// The person's id, `None` for an API key (for columns that name the user who acted).
    pub fn person_id(&self) -> Option<Uuid> {
        self.api_key.is_none().then_some(self.id)
    }

    /// For an API key, 403 `scope_missing` unless it has `scope`; people are not limited by scopes.
    pub fn require_scope(&self, scope: Scope) -> crate::error::Result<()> {
        match &self.api_key {
            Some(k) if !k.scopes.contains(&scope) => {
                Err(crate::error::Error::Forbidden("scope_missing"))
            }
            _ => Ok(()),
        }
    }

    /// Refuses API keys (403 `scope_missing`): for what only a person may do, such as issuing keys.
    pub fn require_person(&self) -> crate::error::Result<()> {
        match self.api_key {
            Some(_) => Err(crate::error::Error::Forbidden("scope_missing")),
            None => Ok(()),
        }
    }

    /// Whether the member owns their organisation (may invite, set roles, remove colleagues).
    pub fn is_owner(&self) -> bool {
        self.organization_id.is_some() && self.org_role == Some(OrgRole::Owner)
    }

    /// The member's organisation, or 403 (admins act for their exchange, not an organisation).
    pub fn require_org(&self) -> crate::error::Result<Uuid> {
        self.organization_id
            .ok_or(crate::error::Error::Forbidden("organization_required"))
    }
}
