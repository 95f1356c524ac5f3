//! Who is calling: passwords, opaque tokens (API bearer and browser session), CSRF.
pub mod password;
pub mod token;

use uuid::Uuid;

use crate::domain::codes::{Exchange, Role};

/// The signed-in user as the service layer sees it.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organization_id: Option<Uuid>,
    pub admin_exchange: Option<Exchange>,
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

    /// The member's organisation, or 403 (admins act for their exchange, not an organisation).
    pub fn require_org(&self) -> crate::error::Result<Uuid> {
        self.organization_id
            .ok_or(crate::error::Error::Forbidden("organization_required"))
    }
}
