//! The one error type of the service layer, and the error policy.
//!
//! Policy: every failure a request can cause is a *client* error with a stable snake_case `code`
//! (API.md "Errors") whose human text comes from the translation files (`error.<code>`), in the
//! caller's language. `Internal` carries its cause chain for the log and is never shown: users see
//! a generic message. Errors are logged once, by the HTTP middleware that renders them.
use axum::http::StatusCode;

use crate::domain::error::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400: malformed body or query.
    #[error("bad request: {code}")]
    BadRequest {
        code: &'static str,
        fields: Option<FieldErrors>,
    },
    /// 401: missing or invalid credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: not allowed (role, ownership, unverified or restricted organisation).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: not found, also for things the caller may not see.
    #[error("not found")]
    NotFound,
    /// 409: conflict with the current state.
    #[error("conflict: {code}")]
    Conflict {
        code: &'static str,
        args: Vec<(&'static str, String)>,
        extra: Option<serde_json::Value>,
    },
    /// 405: the route exists, the method does not.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 413
    #[error("payload too large")]
    PayloadTooLarge,
    /// 422 with the fields that are wrong.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 422 with its own code (not `validation_failed`): well-formed input that is refused
    /// (`webhook_target_refused`) or needs something more (`amount_outlier` needs a confirmation).
    #[error("unprocessable: {code}")]
    Unprocessable {
        code: &'static str,
        fields: FieldErrors,
        extra: Option<serde_json::Value>,
    },
    /// 429
    #[error("too many requests")]
    TooManyRequests,
    /// 503 with `Retry-After`: a bounded resource (password hashing) is saturated; nothing was done.
    #[error("busy")]
    Busy,
    /// 503 with `Retry-After`: the database cannot be reached (restarting, down, out of
    /// connections); the request's transaction did not commit. Logged with its cause.
    #[error("database unavailable: {0:#}")]
    Unavailable(anyhow::Error),
    /// 500: logged with its cause chain, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn conflict(code: &'static str) -> Self {
        Error::Conflict {
            code,
            args: Vec::new(),
            extra: None,
        }
    }

    pub fn bad_request(code: &'static str) -> Self {
        Error::BadRequest { code, fields: None }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Validation(_) | Error::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Error::Busy | Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::BadRequest { code, .. } => code,
            Error::Unauthorized(code) => code,
            Error::Forbidden(code) => code,
            Error::NotFound => "not_found",
            Error::Conflict { code, .. } => code,
            Error::PayloadTooLarge => "payload_too_large",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Validation(_) => "validation_failed",
            Error::Unprocessable { code, .. } => code,
            Error::TooManyRequests => "too_many_requests",
            Error::Busy => "busy",
            Error::Unavailable(_) => "database_unavailable",
            Error::Internal(_) => "internal_error",
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        // Text PostgreSQL cannot store (a NUL character, `\u0000` in JSON or `%00` in a form) is
        // refused by the statement, which changes nothing: the sender's mistake, not ours. Every
        // text field is covered this way, including those no validator looks into.
        if let sqlx::Error::Database(db) = &e {
            if matches!(db.code().as_deref(), Some("22021" | "22P05")) {
                return Error::bad_request("invalid_characters");
            }
        }
        if is_unreachable(&e) {
            return Error::Unavailable(anyhow::Error::new(e));
        }
        Error::Internal(anyhow::Error::new(e))
    }
}

/// Whether a database error means "the database cannot be reached now" rather than a fault of
/// the statement: no connection in time, the socket broke, or the server is shutting down or
/// starting up (SQLSTATE classes 08 and 57P). Such a request changed nothing: its transaction
/// never committed.
pub fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

impl Error {
    /// An internal error whose cause chain holds an unreachable database becomes
    /// [`Error::Unavailable`] (errors wrapped with context on their way up keep their 503).
    pub fn reclassify(self) -> Self {
        match self {
            Error::Internal(cause)
                if cause
                    .chain()
                    .any(|c| c.downcast_ref::<sqlx::Error>().is_some_and(is_unreachable)) =>
            {
                Error::Unavailable(cause)
            }
            other => other,
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Validation(e)
    }
}

/// Turns a unique violation of `constraint` into a 409 with `code`; other errors stay internal.
pub trait OnConstraint<T> {
    fn on_constraint(self, constraint: &str, code: &'static str) -> Result<T>;
}

impl<T> OnConstraint<T> for std::result::Result<T, sqlx::Error> {
    fn on_constraint(self, constraint: &str, code: &'static str) -> Result<T> {
        self.map_err(|e| match &e {
            sqlx::Error::Database(db) if db.constraint() == Some(constraint) => {
                Error::conflict(code)
            }
            _ => Error::from(e),
        })
    }
}

impl<T> OnConstraint<T> for Result<T> {
    fn on_constraint(self, constraint: &str, code: &'static str) -> Result<T> {
        self.map_err(|e| match e {
            Error::Internal(inner) => match inner.downcast_ref::<sqlx::Error>() {
                Some(sqlx::Error::Database(db)) if db.constraint() == Some(constraint) => {
                    Error::conflict(code)
                }
                _ => Error::Internal(inner),
            },
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_database_is_a_503_even_behind_context() {
        let e: Error = sqlx::Error::PoolTimedOut.into();
        assert_eq!(e.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(e.code(), "database_unavailable");
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let wrapped =
            Error::Internal(anyhow::Error::new(sqlx::Error::Io(io)).context("loading the listing"));
        assert_eq!(wrapped.reclassify().code(), "database_unavailable");
        // A statement's own failure stays internal.
        let e: Error = sqlx::Error::RowNotFound.into();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            Error::Internal(anyhow::anyhow!("bug")).reclassify().code(),
            "internal_error"
        );
    }
}
