use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{NaiveDateTime, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::demands::{
    self, DemandInput, DemandMatch, DemandQuery, DemandView, ListingMatch,
};
use crate::service::Page;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/demands", get(list))
        .route("/demands/new", get(new_page).post(create))
        .route("/demands/{id}", get(show))
        .route("/demands/{id}/close", post(close))
        .route("/my/demands", get(mine))
        .route("/listings/{id}/matches", get(listing_matches))
}

#[derive(Template)]
#[template(path = "demands/list.html")]
struct ListPage {
    ctx: PageCtx,
    q: DemandQuery,
    page: Page<DemandView>,
    error: String,
    /// The names of the wrong filters, marked `aria-invalid` (the list is not shown then).
    bad_fields: Vec<String>,
}

impl ListPage {
    fn q_text(&self) -> &str {
        self.q.q.as_deref().unwrap_or("")
    }
    fn is_field(&self, code: &str) -> bool {
        self.q.field.as_deref() == Some(code)
    }
    fn is_province(&self, code: &str) -> bool {
        self.q.province.as_deref() == Some(code)
    }
    fn bad(&self, name: &str) -> bool {
        self.bad_fields.iter().any(|f| f == name)
    }
    fn page_url(&self, page: i64) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q.q),
            ("field", &self.q.field),
            ("province", &self.q.province),
        ] {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                s.append_pair(k, v);
            }
        }
        s.append_pair("page", &page.to_string());
        format!("/demands?{}", s.finish())
    }
}

async fn list(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Query(mut q): Query<DemandQuery>,
) -> Result<Response> {
    for v in [&mut q.q, &mut q.field, &mut q.province] {
        if v.as_deref().is_some_and(|s| s.trim().is_empty()) {
            *v = None;
        }
    }
    let (page, error, bad_fields) = match demands::list(&state.read_pool, &q).await {
        Ok(p) => (p, String::new(), Vec::new()),
        Err(e @ Error::BadRequest { .. }) => (
            Page {
                items: vec![],
                total: 0,
                page: 1,
                per_page: 20,
            },
            crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
            FormErrors::from_error(ctx.lang, &e)
                .0
                .into_iter()
                .map(|(k, _)| k)
                .collect(),
        ),
        Err(e) => return Err(e),
    };
    let failed = !error.is_empty();
    let mut resp = render(&ListPage {
        ctx,
        q,
        page,
        error,
        bad_fields,
    })?;
    if failed {
        *resp.status_mut() = axum::http::StatusCode::BAD_REQUEST;
    }
    Ok(resp)
}

#[derive(Template)]
#[template(path = "demands/form.html")]
struct FormPage {
    ctx: PageCtx,
    form: Vec<(String, String)>,
    errors: FormErrors,
}

impl FormPage {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

async fn new_page(WebUser(_, ctx): WebUser) -> Result<Response> {
    render(&FormPage {
        ctx,
        form: vec![],
        errors: FormErrors::default(),
    })
}

/// 万元 typed in a form (`350`, `1,200.5`) to fen; empty → None.
fn wan_to_fen(text: &str, path: &str, errs: &mut crate::domain::error::FieldErrors) -> Option<i64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let with_unit = if t.ends_with('万') || t.ends_with('亿') || t.ends_with("万元") {
        t.to_string()
    } else {
        format!("{t}万")
    };
    match crate::domain::money::parse_yuan(&with_unit) {
        Ok(f) => Some(f),
        Err(e) => {
            use crate::domain::error::ErrorKey;
            errs.push(path, e.key(), e.args());
            None
        }
    }
}

async fn create(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    form: Form,
) -> Result<Response> {
    let mut errs = crate::domain::error::FieldErrors::default();
    let budget_min_fen = wan_to_fen(form.get("budget_min"), "budget_min_fen", &mut errs);
    let budget_max_fen = wan_to_fen(form.get("budget_max"), "budget_max_fen", &mut errs);
    let deadline = match form.get("deadline").trim() {
        "" => None,
        s => match NaiveDateTime::parse_from_str(&format!("{s}T23:59"), "%Y-%m-%dT%H:%M") {
            Ok(n) => chrono::FixedOffset::east_opt(8 * 3600)
                .and_then(|o| o.from_local_datetime(&n).single())
                .map(|d| d.with_timezone(&Utc)),
            Err(_) => {
                errs.push("deadline", "err.demands.deadline_format", vec![]);
                None
            }
        },
    };
    let keywords = form
        .get("keywords")
        .split([',', '，', '、', ';', '；', '\n'])
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    let input = DemandInput {
        title: form.get("title").to_string(),
        description: form.get("description").to_string(),
        field: form.get("field").to_string(),
        keywords,
        budget_min_fen,
        budget_max_fen,
        deadline,
        title_en: Some(form.get("title_en").to_string()),
        summary_en: Some(form.get("summary_en").to_string()),
    };
    let result = if errs.is_empty() {
        demands::create(&state.pool, &user, input, ctx.lang).await
    } else {
        // Every problem at once: the rest of the form is checked too, not after the next submit.
        for e in demands::field_errors(&input, Utc::now()).0 {
            if !errs.0.iter().any(|x| x.path == e.path) {
                errs.0.push(e);
            }
        }
        Err(Error::Validation(errs))
    };
    match result {
        Ok(d) => Ok(Redirect::to(&format!("/demands/{}", d.id)).into_response()),
        Err(e @ (Error::Validation(_) | Error::Forbidden(_))) => {
            let mut errors = FormErrors::from_error(ctx.lang, &e);
            if let Error::Forbidden(code) = &e {
                errors.0.push((
                    "form".into(),
                    crate::i18n::t(ctx.lang, &format!("error.{code}")).to_string(),
                ));
            }
            for (from, to) in [
                ("budget_min_fen", "budget_min"),
                ("budget_max_fen", "budget_max"),
            ] {
                for (k, _) in errors.0.iter_mut() {
                    if k == from {
                        *k = to.to_string();
                    }
                }
            }
            let status = e.status();
            let form_values = form.0.into_iter().filter(|(k, _)| k != "_csrf").collect();
            let mut resp = render(&FormPage {
                ctx,
                form: form_values,
                errors,
            })?;
            *resp.status_mut() = status;
            Ok(resp)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "demands/show.html")]
struct ShowPage {
    ctx: PageCtx,
    d: DemandView,
    owner: bool,
    matches: Vec<ListingMatch>,
    /// Whether the listings considered that are not a match are shown too (`?all=1`).
    all: bool,
}

/// `?all=1` on a demand's page: the listings considered that are not a match, after the matches.
#[derive(Debug, Default, serde::Deserialize)]
struct ShowQuery {
    all: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Ctx(ctx, r): Ctx,
    Path(id): Path<String>,
    Query(sq): Query<ShowQuery>,
) -> Result<Response> {
    let all = sq.all.as_deref() == Some("1");
    let id = parse_id(&id)?;
    let d = demands::get(&state.pool, r.user.as_ref(), id).await?;
    let owner = r
        .user
        .as_ref()
        .is_some_and(|u| u.organization_id == Some(d.organization.id) || u.is_admin());
    let matches = match (&r.user, owner) {
        (Some(u), true) => {
            demands::matches_for_demand_read(&state, u, id, ctx.lang, all)
                .await?
                .items
        }
        _ => vec![],
    };
    render(&ShowPage {
        ctx,
        d,
        owner,
        matches,
        all,
    })
}

async fn close(
    State(state): State<AppState>,
    WebUser(user, _): WebUser,
    Path(id): Path<String>,
    _form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    demands::close(&state.pool, &user, id).await?;
    Ok(Redirect::to(&format!("/demands/{id}?done=demand_closed")).into_response())
}

#[derive(Template)]
#[template(path = "demands/mine.html")]
struct MinePage {
    ctx: PageCtx,
    items: Vec<DemandView>,
}

async fn mine(State(state): State<AppState>, WebUser(user, ctx): WebUser) -> Result<Response> {
    let items = demands::mine(&state.pool, &user).await?;
    render(&MinePage { ctx, items })
}

#[derive(Template)]
#[template(path = "demands/listing_matches.html")]
struct ListingMatchesPage {
    ctx: PageCtx,
    listing_id: String,
    matches: Vec<DemandMatch>,
}

async fn listing_matches(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let matches = demands::matches_for_listing_read(&state, &user, id, ctx.lang)
        .await?
        .items;
    render(&ListingMatchesPage {
        ctx,
        listing_id: id.to_string(),
        matches,
    })
}
