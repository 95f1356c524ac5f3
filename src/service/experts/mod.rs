//! The expert pool (专家库, one for all four exchanges) and expert evaluations of listings
//! (科技成果评价, issue 21).
//!
//! Any exchange's administrator registers a member as an expert (fields, title, short bio) and
//! may deactivate them; their past evaluations stay. The public directory shows profiles without
//! contact data (no e-mail, no phone).
//!
//! Rooms: this file (the pool and the directory), `evaluations` (opening a panel, suggestions,
//! conflicts of interest, sealed scores, declining, closing by the last answer or by the
//! due-date job, the published report).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::experts::ExpertRow;
use crate::domain::codes::Field;
use crate::domain::error::{check_text, FieldErrors};
use crate::domain::evaluation::{BIO_MAX, FIELDS_MAX, TITLE_MAX};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::{AppState, Page, PageQuery};

mod evaluations;
mod seed;

pub use evaluations::*;
pub use seed::seed_demo;

/// `POST /admin/experts`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpertInput {
    /// A member (a user of an organisation); they keep their own organisation.
    pub user_id: Uuid,
    /// 1 to 15 field codes (DOMAIN.md).
    pub fields: Vec<String>,
    /// The expert's title (职称), 2–60 characters.
    pub title: String,
    /// A short bio, 1–1000 characters.
    pub bio: String,
}

/// An organisation named on an expert's profile.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = ExpertOrg)]
pub struct OrgName {
    pub id: Uuid,
    pub name: String,
}

/// An expert's public profile: no e-mail, no phone.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExpertView {
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    /// Null for a member who has since left their organisation.
    pub organization: Option<OrgName>,
    /// The organisation's province (`sichuan` | `chongqing` | `other`).
    pub province: Option<String>,
    pub fields: Vec<String>,
    pub title: String,
    pub bio: String,
    /// The exchange whose administrator registered the expert (the pool is shared by all four).
    pub exchange: String,
    pub active: bool,
    pub since: DateTime<Utc>,
}

pub(crate) fn expert_view(r: ExpertRow) -> ExpertView {
    ExpertView {
        id: r.id,
        user_id: r.user_id,
        name: r.name,
        organization: match (r.organization_id, r.organization_name) {
            (Some(id), Some(name)) => Some(OrgName { id, name }),
            _ => None,
        },
        province: r.province,
        fields: r.fields,
        title: r.title,
        bio: r.bio,
        exchange: r.exchange,
        active: r.active,
        since: r.created_at,
    }
}

/// `?field=&q=&page=&per_page=`
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExpertQuery {
    /// A field code: experts who work in it.
    pub field: Option<String>,
    /// Free text in the name, title, bio or organisation.
    pub q: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

fn check_profile(input: &ExpertInput, errs: &mut FieldErrors) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for (i, f) in input.fields.iter().enumerate() {
        match Field::parse(f.trim()) {
            Some(code) if !fields.iter().any(|x| x == code.code()) => {
                fields.push(code.code().to_string())
            }
            Some(_) => {}
            None => errs.push(
                format!("fields[{i}]"),
                "err.code.unknown",
                vec![("value", f.chars().take(40).collect())],
            ),
        }
    }
    if input.fields.is_empty() || fields.len() > FIELDS_MAX {
        errs.push(
            "fields",
            "err.expert.fields",
            vec![("max", FIELDS_MAX.to_string())],
        );
    }
    check_text(&input.title, "title", 2, TITLE_MAX, errs);
    check_text(&input.bio, "bio", 1, BIO_MAX, errs);
    fields
}

/// Any exchange's administrator registers a member as an expert (or re-activates a deactivated
/// one with a new profile). Audited.
#[tracing::instrument(skip(state, admin, input))]
pub async fn register(
    state: &AppState,
    admin: &CurrentUser,
    input: ExpertInput,
) -> Result<ExpertView> {
    let exchange = admin.require_admin()?;
    let mut errs = FieldErrors::new();
    let fields = check_profile(&input, &mut errs);
    let mut tx = state.pool.begin().await?;
    let user = db::users::get(&mut tx, input.user_id).await?;
    match &user {
        Some(u) if u.role == "member" && u.organization_id.is_some() => {}
        _ => errs.push("user_id", "err.expert.user", vec![]),
    }
    errs.into_result()?;
    let id = db::experts::register(
        &mut tx,
        &db::experts::NewExpert {
            id: Uuid::now_v7(),
            user_id: input.user_id,
            fields: &fields,
            title: input.title.trim(),
            bio: input.bio.trim(),
            exchange: exchange.code(),
            registered_by: admin.person_id(),
            now: state.clock.now(),
        },
    )
    .await?;
    let Some(id) = id else {
        let mut errs = FieldErrors::new();
        errs.push("user_id", "err.expert.already", vec![]);
        return Err(Error::Validation(errs));
    };
    let row = db::experts::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let view = expert_view(row);
    let after = serde_json::to_value(&view).map_err(|e| Error::Internal(e.into()))?;
    audit(
        &mut tx,
        admin,
        "expert.register",
        "expert",
        id,
        None,
        Some(after),
    )
    .await?;
    tx.commit().await?;
    Ok(view)
}

/// Any exchange's administrator deactivates an expert: no new panels; past evaluations keep
/// their name. Audited. 409 `expert_inactive` if already inactive.
#[tracing::instrument(skip(state, admin))]
pub async fn deactivate(state: &AppState, admin: &CurrentUser, id: Uuid) -> Result<ExpertView> {
    admin.require_admin()?;
    let mut tx = state.pool.begin().await?;
    if db::experts::get(&mut tx, id).await?.is_none() {
        return Err(Error::NotFound);
    }
    if !db::experts::deactivate(&mut tx, id, state.clock.now()).await? {
        return Err(Error::conflict("expert_inactive"));
    }
    let row = db::experts::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    audit(
        &mut tx,
        admin,
        "expert.deactivate",
        "expert",
        id,
        Some(serde_json::json!({"active": true})),
        Some(serde_json::json!({"active": false})),
    )
    .await?;
    tx.commit().await?;
    Ok(expert_view(row))
}

/// The public directory: active experts, by field and free text, newest first.
pub async fn directory(pool: &PgPool, q: &ExpertQuery) -> Result<Page<ExpertView>> {
    let (page, per_page) = PageQuery {
        page: q.page,
        per_page: q.per_page,
    }
    .resolve_or_400()?;
    let field = match q.field.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
        None => None,
        Some(f) => match Field::parse(f) {
            Some(code) => Some(code.code()),
            None => {
                let mut errs = FieldErrors::new();
                errs.push(
                    "field",
                    "err.code.unknown",
                    vec![("value", f.chars().take(40).collect())],
                );
                return Err(Error::BadRequest {
                    code: "invalid_query",
                    fields: Some(errs),
                });
            }
        },
    };
    let text =
        q.q.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(100).collect::<String>());
    let mut conn = pool.acquire().await?;
    let (rows, total) = db::experts::directory(
        &mut conn,
        field,
        text.as_deref(),
        per_page,
        (page - 1) * per_page,
    )
    .await?;
    Ok(Page {
        items: rows.into_iter().map(expert_view).collect(),
        total,
        page,
        per_page,
    })
}

/// One expert's public profile (active or not).
pub async fn expert(pool: &PgPool, id: Uuid) -> Result<ExpertView> {
    let mut conn = pool.acquire().await?;
    db::experts::get(&mut conn, id)
        .await?
        .map(expert_view)
        .ok_or(Error::NotFound)
}

/// The user id of a member by e-mail (the admin's registration form names the member by it).
pub async fn member_by_email(
    pool: &PgPool,
    admin: &CurrentUser,
    email: &str,
) -> Result<Option<Uuid>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    Ok(db::experts::member_id_by_email(&mut conn, email.trim()).await?)
}

#[cfg(test)]
mod tests {
    use crate::i18n::{self, Lang};

    #[test]
    fn every_error_of_this_area_is_translated() {
        for key in [
            "error.expert_conflict",
            "error.expert_inactive",
            "error.evaluation_in_progress",
            "error.evaluation_closed",
            "error.already_answered",
            "error.not_on_panel",
            "error.listing_not_evaluable",
            "err.expert.fields",
            "err.expert.user",
            "err.expert.already",
            "err.expert.unknown",
            "err.expert.conflict",
            "err.expert.duplicate",
            "err.evaluation.panel",
            "err.evaluation.due",
            "err.evaluation.score",
        ] {
            for lang in [Lang::Zh, Lang::En] {
                assert!(
                    i18n::catalog(lang).contains_key(key),
                    "{key} ({})",
                    lang.code()
                );
            }
        }
    }
}
