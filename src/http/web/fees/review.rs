//! Administrators: schedules, the approval queue and audit trail; one schedule beside the one in
//! force, with its simulation, approved or rejected.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::audit::{self, AuditLine};
use crate::http::web::{render, FormErrors};
use crate::i18n::{self, Lang};
use crate::service::admin::AuditItem;
use crate::service::fees::{self, ExchangeFees, ScheduleView, SideView, Simulation};
use crate::service::{Page, PageQuery};

use super::bands::{band_rows, BandRow};
use super::figure::{figure, public_series, Figure, Series, DRAFT};

pub struct QueueItem {
    pub view: ScheduleView,
    /// Empty when this admin may decide; else the translated reason why not.
    pub blocked: String,
}

#[derive(Template)]
#[template(path = "fees/admin_list.html")]
struct AdminListPage {
    ctx: PageCtx,
    drafts: Vec<QueueItem>,
    all: Page<ScheduleView>,
    audit: Page<AuditItem>,
    /// The audit trail in words.
    lines: Vec<AuditLine>,
}

#[derive(Debug, Deserialize)]
pub struct AdminListQuery {
    page: Option<i64>,
    audit_page: Option<i64>,
}

fn blocked_reason(lang: Lang, admin: &CurrentUser, v: &ScheduleView) -> String {
    match fees::may_decide(admin, v) {
        Ok(()) => String::new(),
        Err(e) => i18n::t(lang, &format!("error.{}", e.code())).to_string(),
    }
}

pub async fn admin_list(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Query(q): Query<AdminListQuery>,
) -> Result<Response> {
    let drafts = fees::list(
        &state.pool,
        Some("draft"),
        PageQuery {
            page: Some(1),
            per_page: Some(100),
        },
    )
    .await?
    .items
    .into_iter()
    .map(|view| QueueItem {
        blocked: blocked_reason(ctx.lang, &user, &view),
        view,
    })
    .collect();
    let all = fees::list(
        &state.pool,
        None,
        PageQuery {
            page: q.page,
            per_page: Some(20),
        },
    )
    .await?;
    let audit = fees::audit_trail(
        &state.pool,
        &user,
        PageQuery {
            page: q.audit_page,
            per_page: Some(20),
        },
    )
    .await?;
    render(&AdminListPage {
        lines: audit::lines(&ctx, &audit.items),
        ctx,
        drafts,
        all,
        audit,
    })
}
// ------------------------------------------------------------------ admin: one schedule

pub struct BandPair {
    pub this: Option<BandRow>,
    pub current: Option<BandRow>,
}

pub struct SideCompare {
    pub legend: String,
    pub pairs: Vec<BandPair>,
    pub this_min: i64,
    pub this_max: Option<i64>,
    pub current_min: i64,
    pub current_max: Option<i64>,
}

fn compare_side(ctx: &PageCtx, legend: &str, this: &SideView, current: &SideView) -> SideCompare {
    let a = band_rows(ctx, this);
    let b = band_rows(ctx, current);
    let n = a.len().max(b.len());
    let mut a = a.into_iter();
    let mut b = b.into_iter();
    SideCompare {
        legend: ctx.t(legend).to_string(),
        pairs: (0..n)
            .map(|_| BandPair {
                this: a.next(),
                current: b.next(),
            })
            .collect(),
        this_min: this.min_fee_fen,
        this_max: this.max_fee_fen,
        current_min: current.min_fee_fen,
        current_max: current.max_fee_fen,
    }
}

#[derive(Template)]
#[template(path = "fees/admin_detail.html")]
struct DetailPage {
    ctx: PageCtx,
    schedule: ScheduleView,
    current: ScheduleView,
    sides: Vec<SideCompare>,
    simulation: Simulation,
    figure: Figure,
    /// Empty when this admin may decide; else why not.
    blocked: String,
    /// The schedule's audit trail in words.
    lines: Vec<AuditLine>,
    message: String,
    /// What the decision forms were sent with (shown again when refused).
    typed: Typed,
}

/// The decision forms as sent, with their errors.
#[derive(Default)]
struct Typed {
    public_name: Option<String>,
    name_error: String,
    reason: String,
    reason_error: String,
}

impl DetailPage {
    /// The public name the approval form offers: what was typed, else the working title's suggestion.
    fn public_name(&self) -> String {
        match &self.typed.public_name {
            Some(n) => n.clone(),
            None => crate::domain::schedule_name::suggestion(&self.schedule.working_title),
        }
    }
    fn diff(&self, e: &ExchangeFees) -> String {
        let d = e.proposed_fee_fen.saturating_sub(e.current_fee_fen);
        let sign = if d > 0 { "+" } else { "" };
        format!("{sign}{}", self.ctx.money(&d))
    }
    fn total_diff(&self) -> String {
        self.diff(&ExchangeFees {
            current_fee_fen: self.simulation.current_total_fee_fen,
            proposed_fee_fen: self.simulation.proposed_total_fee_fen,
        })
    }
    fn approve_at(&self, at: &DateTime<Utc>) -> String {
        self.ctx
            .t1("fees.admin.approve_at", "at", &self.ctx.time(at))
    }
    fn sim_note(&self) -> String {
        self.ctx.t1(
            "fees.sim.note",
            "turnover",
            &self.ctx.money(&self.simulation.turnover_fen),
        )
    }
    fn max_text(&self, cap: &Option<i64>) -> String {
        match cap {
            Some(c) => self.ctx.money(c),
            None => self.ctx.t("fees.no_cap").to_string(),
        }
    }
}

async fn detail_page(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    id: Uuid,
    message: String,
    typed: Typed,
) -> Result<DetailPage> {
    let now = Utc::now();
    let schedule = fees::get(&state.pool, id).await?;
    let current = fees::in_force(&state.pool, now).await?;
    let simulation = fees::simulate(&state.pool, user, id, now).await?;
    let mut audit = fees::audit_of(&state.pool, user, id).await?;
    for a in &mut audit {
        a.target_label = Some(schedule.working_title.clone());
    }
    let mut series = vec![Series {
        label: ctx.t("fees.series.this").to_string(),
        schedule: schedule.schedule(),
        look: DRAFT,
    }];
    series.extend(public_series(ctx.lang, &current));
    let sides = vec![
        compare_side(&ctx, "fees.editor.buyer", &schedule.buyer, &current.buyer),
        compare_side(
            &ctx,
            "fees.editor.seller",
            &schedule.seller,
            &current.seller,
        ),
    ];
    Ok(DetailPage {
        blocked: blocked_reason(ctx.lang, user, &schedule),
        figure: figure(ctx.lang, &series, None),
        schedule,
        current,
        sides,
        simulation,
        lines: audit::lines(&ctx, &audit),
        ctx,
        message,
        typed,
    })
}

pub async fn admin_detail(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let page = detail_page(&state, &user, ctx, id, String::new(), Typed::default()).await?;
    render(&page)
}

/// A refused decision shows the page again with the reason (and the same status).
async fn decision_failed(
    state: &AppState,
    user: &CurrentUser,
    ctx: PageCtx,
    id: Uuid,
    e: Error,
    mut typed: Typed,
) -> Result<Response> {
    match e {
        Error::Forbidden(_) | Error::Conflict { .. } | Error::Validation(_) => {
            let errors = FormErrors::from_error(ctx.lang, &e);
            let message = match &e {
                Error::Conflict { args, .. } => {
                    i18n::tf(ctx.lang, &format!("error.{}", e.code()), args)
                }
                _ => i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string(),
            };
            typed.reason_error = errors.get("reason").to_string();
            typed.name_error = errors.get("name").to_string();
            let page = detail_page(state, user, ctx, id, message, typed).await?;
            let mut resp = render(&page)?;
            *resp.status_mut() = e.status();
            Ok(resp)
        }
        other => Err(other),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let name = form.get("name").to_string();
    let typed_name = (!name.trim().is_empty()).then_some(name.as_str());
    match fees::approve(&state.pool, &user, id, typed_name, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/fees/{id}?done=fee_decided")).into_response()),
        Err(e) => {
            let typed = Typed {
                public_name: Some(name.clone()),
                ..Typed::default()
            };
            decision_failed(&state, &user, ctx, id, e, typed).await
        }
    }
}

pub async fn reject(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let reason = form.get("reason").to_string();
    let r = (!reason.trim().is_empty()).then_some(reason.as_str());
    match fees::reject(&state.pool, &user, id, r, Utc::now()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/fees/{id}?done=fee_decided")).into_response()),
        Err(e) => {
            let typed = Typed {
                reason,
                ..Typed::default()
            };
            decision_failed(&state, &user, ctx, id, e, typed).await
        }
    }
}
