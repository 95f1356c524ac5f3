//! Pages: the organisation's colleagues (`/organization`: members, roles, inviting, pending
//! invitations) and the invitation link (`/join/{token}`: register or sign in, then join).
use askama::Template;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::auth::CurrentUser;
use crate::domain::codes::OrgRole;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, ClientAddr, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::accounts::{self, Me, RegisterInput, SessionKind};
use crate::service::organization::{
    self, InvitationCreated, InvitationPreview, InvitationView, InviteInput, MemberView, RoleInput,
};
use crate::service::two_factor::SecondFactor;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/organization", get(page))
        .route("/organization/invitations", post(invite))
        .route("/organization/invitations/{id}/revoke", post(revoke))
        .route("/organization/members/{id}/role", post(set_role))
        .route("/organization/members/{id}/remove", post(remove))
        .route("/join/{token}", get(join_page).post(join_submit))
}

#[derive(Template)]
#[template(path = "organization/colleagues.html")]
struct ColleaguesPage {
    ctx: PageCtx,
    me: Me,
    members: Vec<MemberView>,
    /// Owners only: the invitations that can still be used.
    invitations: Vec<InvitationView>,
    owner: bool,
    /// The invitation just made, with its link (shown this once).
    created: Option<(InvitationCreated, String)>,
    errors: FormErrors,
    message: String,
    typed_email: String,
}

impl ColleaguesPage {
    fn role_name(&self, code: &str) -> &'static str {
        self.ctx.name_of::<OrgRole>(code)
    }
    fn is_me(&self, m: &MemberView) -> bool {
        m.user_id == self.me.user.id
    }
}

async fn show(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    edit: impl FnOnce(&mut ColleaguesPage),
) -> Result<Response> {
    let me = accounts::me(&state.pool, user, state.clock.now()).await?;
    let owner = me.organization_role.as_deref() == Some("owner");
    let members = organization::members(state, user).await?.items;
    let invitations = if owner {
        organization::invitations(state, user).await?.items
    } else {
        Vec::new()
    };
    let mut p = ColleaguesPage {
        ctx,
        me,
        members,
        invitations,
        owner,
        created: None,
        errors: FormErrors::default(),
        message: String::new(),
        typed_email: String::new(),
    };
    edit(&mut p);
    let status = if p.message.is_empty() && p.errors.is_empty() {
        axum::http::StatusCode::OK
    } else if p.errors.is_empty() {
        axum::http::StatusCode::CONFLICT
    } else {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    };
    let mut resp = render(&p)?;
    *resp.status_mut() = status;
    Ok(resp)
}

async fn page(State(state): State<AppState>, WebUser(user, ctx): WebUser) -> Result<Response> {
    show(&state, &user, ctx, |_| {}).await
}

/// A refusal the page explains in place (a conflict), or the error itself.
fn explained(ctx: &PageCtx, e: &Error) -> Option<String> {
    matches!(e, Error::Conflict { .. })
        .then(|| crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string())
}

async fn invite(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    form: Form,
) -> Result<Response> {
    let input = InviteInput {
        email: form.get("email").to_string(),
        role: form.get("role").to_string(),
    };
    match organization::invite(&state, &user, input).await {
        Ok(created) => {
            let link = format!(
                "{}/join/{}",
                state.config.public_url.trim_end_matches('/'),
                created.token
            );
            show(&state, &user, ctx, |p| p.created = Some((created, link))).await
        }
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let message = explained(&ctx, &e).unwrap_or_default();
            let typed = form.get("email").to_string();
            show(&state, &user, ctx, |p| {
                p.errors = errors;
                p.message = message;
                p.typed_email = typed;
            })
            .await
        }
        Err(e) => Err(e),
    }
}

async fn revoke(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    match organization::revoke(&state, &user, parse_id(&id)?).await {
        Ok(()) => Ok(Redirect::to("/organization?done=invitation_revoked").into_response()),
        Err(e) => match explained(&ctx, &e) {
            Some(message) => show(&state, &user, ctx, |p| p.message = message).await,
            None => Err(e),
        },
    }
}

async fn set_role(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let input = RoleInput {
        role: form.get("role").to_string(),
    };
    match organization::set_role(&state, &user, parse_id(&id)?, input).await {
        Ok(_) => Ok(Redirect::to("/organization?done=role_set").into_response()),
        Err(e) => match explained(&ctx, &e) {
            Some(message) => show(&state, &user, ctx, |p| p.message = message).await,
            None => Err(e),
        },
    }
}

async fn remove(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    match organization::remove(&state, &user, id).await {
        // Who removed themselves is signed out with the rest of their sessions.
        Ok(()) if id == user.id => Ok(Redirect::to("/").into_response()),
        Ok(()) => Ok(Redirect::to("/organization?done=member_removed").into_response()),
        Err(e) => match explained(&ctx, &e) {
            Some(message) => show(&state, &user, ctx, |p| p.message = message).await,
            None => Err(e),
        },
    }
}

#[derive(Template)]
#[template(path = "organization/join.html")]
struct JoinPage {
    ctx: PageCtx,
    token: String,
    /// The invitation, or why it cannot be used (a translation key).
    invitation: std::result::Result<InvitationPreview, &'static str>,
    errors: FormErrors,
    message: String,
    display_name: String,
}

impl JoinPage {
    fn role_name(&self) -> &'static str {
        match &self.invitation {
            Ok(i) => self.ctx.name_of::<OrgRole>(i.role.code()),
            Err(_) => "",
        }
    }
    fn join_as(&self) -> String {
        self.ctx
            .t1("organization.join_as", "name", &self.ctx.display_name())
    }
    /// Why the invitation cannot be used.
    fn refused(&self) -> &'static str {
        match self.invitation {
            Err(key) => crate::i18n::t(self.ctx.lang, key),
            Ok(_) => "",
        }
    }
    /// Whether the signed-in visitor is the person invited.
    fn for_me(&self) -> bool {
        match (&self.invitation, &self.ctx.user) {
            (Ok(i), Some(u)) => crate::domain::organization::same_email(&i.email, &u.email),
            _ => false,
        }
    }
    /// Whether the signed-in visitor already belongs to an organisation (or is an administrator).
    fn has_org(&self) -> bool {
        self.ctx
            .user
            .as_ref()
            .is_some_and(|u| u.organization_id.is_some() || u.is_admin())
    }
    fn login_link(&self) -> String {
        let next = format!("/join/{}", self.token);
        format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        )
    }
}

/// The reason's translation key of a refused invitation, if that is what `e` is.
fn refusal(e: &Error) -> Option<&'static str> {
    match e {
        Error::Conflict {
            code: "invitation_invalid",
            extra: Some(extra),
            ..
        } => Some(match extra["reason"].as_str() {
            Some("used") => "organization.invalid.used",
            Some("revoked") => "organization.invalid.revoked",
            Some("expired") => "organization.invalid.expired",
            Some("other_email") => "organization.invalid.other_email",
            _ => "organization.invalid.unknown",
        }),
        _ => None,
    }
}

async fn join_view(
    state: &AppState,
    ctx: PageCtx,
    token: String,
    edit: impl FnOnce(&mut JoinPage),
) -> Result<Response> {
    let invitation = match organization::preview(state, &token).await {
        Ok(p) => Ok(p),
        Err(e) => Err(refusal(&e).ok_or(e)?),
    };
    let refused = invitation.is_err();
    let mut p = JoinPage {
        ctx,
        token,
        invitation,
        errors: FormErrors::default(),
        message: String::new(),
        display_name: String::new(),
    };
    edit(&mut p);
    let mut resp = render(&p)?;
    if refused {
        *resp.status_mut() = axum::http::StatusCode::CONFLICT;
    } else if !p.errors.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    } else if !p.message.is_empty() {
        *resp.status_mut() = axum::http::StatusCode::CONFLICT;
    }
    // The link's secret is in the address: keep it out of other sites' Referer headers.
    resp.headers_mut().insert(
        header::REFERRER_POLICY,
        axum::http::HeaderValue::from_static("no-referrer"),
    );
    Ok(resp)
}

async fn join_page(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(token): Path<String>,
) -> Result<Response> {
    join_view(&state, ctx, token, |_| {}).await
}

/// Signed in: joins with this account. Otherwise: makes the account (for the invited address) and
/// signs it in.
async fn join_submit(
    State(state): State<AppState>,
    Ctx(ctx, r): Ctx,
    ClientAddr(client): ClientAddr,
    Path(token): Path<String>,
    form: Form,
) -> Result<Response> {
    if let Some(user) = &ctx.user {
        return match organization::accept(&state, user, &token).await {
            Ok(_) => Ok(Redirect::to("/organization?done=joined").into_response()),
            Err(e) => {
                let message = refusal(&e)
                    .map(|k| crate::i18n::t(ctx.lang, k).to_string())
                    .or_else(|| explained(&ctx, &e))
                    .ok_or(e)?;
                join_view(&state, ctx, token, |p| p.message = message).await
            }
        };
    }
    let email = form.get("email").trim().to_string();
    let password = form.get("password").to_string();
    let input = RegisterInput {
        email: email.clone(),
        password: password.clone(),
        display_name: form.get("display_name").to_string(),
        organization: None,
        invitation: Some(token.clone()),
    };
    match accounts::register(&state, input).await {
        Ok(_) => {
            if let Some(old) = r.session_secret {
                accounts::logout(&state.pool, &old).await?;
            }
            let l = accounts::login(
                &state.pool,
                &email,
                &password,
                SecondFactor::default(),
                &client,
                SessionKind::Web,
            )
            .await?;
            let mut resp = Redirect::to("/organization?done=joined").into_response();
            resp.headers_mut().append(
                header::SET_COOKIE,
                crate::http::web::accounts::session_cookie(&state, l.secret)?,
            );
            Ok(resp)
        }
        Err(e @ (Error::Validation(_) | Error::Conflict { .. })) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let message = refusal(&e)
                .map(|k| crate::i18n::t(ctx.lang, k).to_string())
                .or_else(|| explained(&ctx, &e))
                .unwrap_or_else(|| ctx.t("form.fix_errors").to_string());
            let name = form.get("display_name").to_string();
            join_view(&state, ctx, token, |p| {
                p.errors = errors;
                p.message = message;
                p.display_name = name;
            })
            .await
        }
        Err(e) => Err(e),
    }
}
