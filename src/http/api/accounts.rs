use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Result;
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{ApiJson, ApiUser, BearerToken, ClientAddr};
use crate::http::state::AppState;
use crate::service::accounts::{self, Me, RegisterInput, Registered, SessionKind, UserView};
use crate::service::two_factor::SecondFactor;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

/// Registers a member and their organisation (unverified), whose owner they are; or, with
/// `invitation` in place of `organization`, a member of the inviting organisation. A credit code
/// already registered is `duplicate_credit_code`: ask that organisation's owner for an invitation.
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts", request_body = RegisterInput,
    responses((status = 201, body = Registered), (status = 409, body = ErrorBody, description = "`duplicate_email`, `duplicate_credit_code`, `invitation_invalid` (used, expired, revoked or for another e-mail address; `reason` says which)"), (status = 422, body = ErrorBody), (status = 503, body = ErrorBody, description = "`busy`")))]
async fn register(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RegisterInput>,
) -> Result<(StatusCode, Json<Registered>)> {
    Ok(created(accounts::register(&state, input).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginInput {
    pub email: String,
    pub password: String,
    /// 6-digit TOTP code of the authenticator app: required for administrators and for members who
    /// turned two-factor sign-in on (401 `otp_required` without a valid one). Accepted once.
    pub otp: Option<String>,
    /// One of the ten one-time recovery codes, instead of `otp`.
    pub recovery_code: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOutput {
    /// Bearer token for `Authorization: Bearer …`; valid 30 days or until logout.
    pub token: String,
    pub user: UserView,
}

/// Exchanges e-mail and password for a bearer token. 10 failures per e-mail or address in 15 minutes → 429.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginInput,
    responses((status = 200, body = LoginOutput), (status = 401, body = ErrorBody, description = "`invalid_credentials`, `otp_required`"), (status = 429, body = ErrorBody, description = "`too_many_requests`"), (status = 503, body = ErrorBody, description = "`busy`")))]
async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(input): ApiJson<LoginInput>,
) -> Result<Json<LoginOutput>> {
    let l = accounts::login(
        &state.pool,
        &input.email,
        &input.password,
        SecondFactor {
            otp: input.otp.as_deref(),
            recovery_code: input.recovery_code.as_deref(),
        },
        &client,
        SessionKind::Api,
    )
    .await?;
    Ok(Json(LoginOutput {
        token: l.secret,
        user: UserView::from(&l.user),
    }))
}

/// Revokes the token.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    _user: ApiUser,
    BearerToken(token): BearerToken,
) -> Result<StatusCode> {
    accounts::logout(&state.pool, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller and their organisation.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
async fn me(State(state): State<AppState>, ApiUser(user): ApiUser) -> Result<Json<Me>> {
    Ok(Json(
        accounts::me(&state.pool, &user, state.clock.now()).await?,
    ))
}
