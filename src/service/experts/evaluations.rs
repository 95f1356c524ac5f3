//! Evaluations (科技成果评价): an administrator of the listing's exchange opens one with 3–7
//! experts free of conflicts of interest and a due date; each invited expert scores once or
//! declines; the scores stay sealed (nobody — owner, another expert, an administrator — sees one
//! before the close); the panel closes when nobody is left to answer or at its due date (the job,
//! `FOR UPDATE SKIP LOCKED`), published with medians, spread and every comment with its
//! expert's name, or failed with fewer than 3 scores.
//!
//! Locking: the listing's row (opening), then the evaluation's row: every answer and the close
//! take it first, so a close sees every committed answer and an answer never lands after it.
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::auth::CurrentUser;
use crate::db;
use crate::db::evaluations::{EvaluationRow, MemberRow};
use crate::domain::error::FieldErrors;
use crate::domain::evaluation::{
    self, check_scores, Closing, Report, Scores, Spread, DUE_MAX_DAYS, PANEL_MAX, PANEL_MIN,
};
use crate::error::{Error, Result};
use crate::service::admin::audit;
use crate::service::events::{self, EvaluationFacts, EvaluationStep, Event};
use crate::service::AppState;

use super::{expert_view, ExpertView};

/// `POST /admin/listings/{id}/evaluations`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvaluationInput {
    /// 3 to 7 active experts, none in a conflict of interest with the listing's owner.
    pub expert_ids: Vec<Uuid>,
    /// When the panel closes at the latest (in the future, at most a year ahead).
    pub due_at: DateTime<Utc>,
}

/// `POST /evaluations/{id}/scores`.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ScoreInput {
    /// Technology readiness as the expert judges it, 1–9.
    pub maturity_trl: i64,
    /// 1–5.
    pub innovation: i64,
    /// 1–5.
    pub advancement: i64,
    /// Market prospects, 1–5.
    pub market: i64,
    /// 1–2000 characters, published with the expert's name.
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PanelMember {
    pub expert_id: Uuid,
    pub name: String,
    pub title: String,
    /// `invited` | `declined` | `scored`
    pub status: String,
}

/// A published evaluation's report: each the median of the scores given (half up), with the
/// spread (lowest, highest) and how many experts scored.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReportView {
    pub maturity_trl: i64,
    pub innovation: i64,
    pub advancement: i64,
    pub market: i64,
    pub spread: Spread,
    pub scores: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CommentView {
    pub expert_id: Uuid,
    pub name: String,
    pub comment: String,
}

/// The caller's own scores (the expert who gave them only).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OwnScores {
    pub maturity_trl: i64,
    pub innovation: i64,
    pub advancement: i64,
    pub market: i64,
    pub comment: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvaluationView {
    pub id: Uuid,
    pub listing_id: Uuid,
    pub listing_title: String,
    /// `in_progress` | `published` | `failed`
    pub status: String,
    pub due_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub panel: Vec<PanelMember>,
    /// Once published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<ReportView>,
    /// Once published: every comment with its expert's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<Vec<CommentView>>,
    /// The caller's own answer, when the caller sits on the panel and has scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub my_scores: Option<OwnScores>,
}

/// What a listing shows of its latest published evaluation (`evaluation` in the listing's JSON).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EvaluationSummary {
    pub id: Uuid,
    /// Always `published`.
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    pub report: ReportView,
}

/// A suggested expert for a listing's panel.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub expert: ExpertView,
    /// The listing's field is one of the expert's.
    pub field_fit: bool,
    /// Open panels awaiting the expert's answer.
    pub workload: i64,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestQuery {
    pub listing_id: Uuid,
}

fn report_of(r: &EvaluationRow) -> Option<ReportView> {
    let rep: Report = serde_json::from_value(r.report.clone()?).ok()?;
    Some(ReportView {
        maturity_trl: rep.medians.maturity_trl,
        innovation: rep.medians.innovation,
        advancement: rep.medians.advancement,
        market: rep.medians.market,
        spread: rep.spread,
        scores: rep.scores,
    })
}

fn scores_of(m: &MemberRow) -> Option<Scores> {
    Some(Scores {
        maturity_trl: i64::from(m.maturity_trl?),
        innovation: i64::from(m.innovation?),
        advancement: i64::from(m.advancement?),
        market: i64::from(m.market?),
    })
}

/// The view of an evaluation for `viewer` (a person id or none): scores stay out of it until
/// it is published, except the viewer's own.
fn view(r: &EvaluationRow, members: &[MemberRow], viewer: Option<Uuid>) -> EvaluationView {
    let published = r.status == "published";
    let my_scores = members
        .iter()
        .find(|m| Some(m.user_id) == viewer)
        .and_then(|m| {
            let s = scores_of(m)?;
            Some(OwnScores {
                maturity_trl: s.maturity_trl,
                innovation: s.innovation,
                advancement: s.advancement,
                market: s.market,
                comment: m.comment.clone().unwrap_or_default(),
            })
        });
    EvaluationView {
        id: r.id,
        listing_id: r.listing_id,
        listing_title: r.listing_title.clone(),
        status: r.status.clone(),
        due_at: r.due_at,
        created_at: r.created_at,
        closed_at: r.closed_at,
        panel: members
            .iter()
            .map(|m| PanelMember {
                expert_id: m.expert_id,
                name: m.name.clone(),
                title: m.title.clone(),
                status: m.status.clone(),
            })
            .collect(),
        report: if published { report_of(r) } else { None },
        comments: published.then(|| {
            members
                .iter()
                .filter(|m| m.status == "scored")
                .map(|m| CommentView {
                    expert_id: m.expert_id,
                    name: m.name.clone(),
                    comment: m.comment.clone().unwrap_or_default(),
                })
                .collect()
        }),
        my_scores,
    }
}

fn facts(r: &EvaluationRow, members: &[MemberRow], step: EvaluationStep) -> Event {
    Event::Evaluation(EvaluationFacts {
        evaluation_id: r.id,
        listing_id: r.listing_id,
        listing_title: r.listing_title.clone(),
        owner_organization_id: r.owner_organization_id,
        due_at: r.due_at,
        experts: members
            .iter()
            .map(|m| (m.user_id, m.organization_id))
            .collect(),
        step,
    })
}

/// An administrator of the listing's exchange opens an evaluation with 3–7 experts and a due
/// date. 422 `validation_failed` for a wrong panel or date, 422 `expert_conflict` (field
/// `expert_ids[i]`) for an expert of the owner's organisation or of one that has traded with it,
/// 409 `evaluation_in_progress` while another is open. Audited; the experts are told.
#[tracing::instrument(skip(state, admin, input))]
pub async fn open(
    state: &AppState,
    admin: &CurrentUser,
    listing_id: Uuid,
    input: EvaluationInput,
) -> Result<EvaluationView> {
    let exchange = admin.require_admin()?;
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let listing = db::listings::get_for_update(&mut tx, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    if listing.exchange != exchange.code() {
        return Err(Error::Forbidden("other_exchange"));
    }
    let mut errs = FieldErrors::new();
    let ids = &input.expert_ids;
    if !(PANEL_MIN..=PANEL_MAX).contains(&ids.len()) {
        errs.push(
            "expert_ids",
            "err.evaluation.panel",
            vec![
                ("min", PANEL_MIN.to_string()),
                ("max", PANEL_MAX.to_string()),
            ],
        );
    }
    if input.due_at <= now || input.due_at > now + Duration::days(DUE_MAX_DAYS) {
        errs.push("due_at", "err.evaluation.due", vec![]);
    }
    let experts = db::experts::many_for_share(&mut tx, ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            errs.push(format!("expert_ids[{i}]"), "err.expert.duplicate", vec![]);
        } else if !experts.iter().any(|e| e.id == *id && e.active) {
            errs.push(format!("expert_ids[{i}]"), "err.expert.unknown", vec![]);
        }
    }
    errs.into_result()?;
    let conflicted = db::experts::conflicted(&mut tx, listing.organization_id, ids).await?;
    if !conflicted.is_empty() {
        let mut fields = FieldErrors::new();
        for (i, id) in ids.iter().enumerate() {
            if conflicted.contains(id) {
                fields.push(format!("expert_ids[{i}]"), "err.expert.conflict", vec![]);
            }
        }
        return Err(Error::Unprocessable {
            code: "expert_conflict",
            fields,
            extra: None,
        });
    }
    if listing.status != "listed" {
        return Err(Error::conflict("listing_not_evaluable"));
    }
    let id = Uuid::now_v7();
    let opened = db::evaluations::insert(
        &mut tx,
        &db::evaluations::NewEvaluation {
            id,
            listing_id,
            due_at: input.due_at,
            exchange: exchange.code().to_string(),
            opened_by: admin.person_id(),
            now,
        },
        ids,
    )
    .await?;
    if !opened {
        return Err(Error::conflict("evaluation_in_progress"));
    }
    let row = db::evaluations::get(&mut tx, id)
        .await?
        .ok_or(Error::NotFound)?;
    let members = db::evaluations::members(&mut tx, id).await?;
    audit(
        &mut tx,
        admin,
        "evaluation.open",
        "evaluation",
        id,
        None,
        Some(serde_json::json!({"listing_id": listing_id, "expert_ids": ids, "due_at": input.due_at})),
    )
    .await?;
    events::emit(&mut tx, &facts(&row, &members, EvaluationStep::Opened)).await?;
    tx.commit().await?;
    Ok(view(&row, &members, admin.person_id()))
}

/// Active experts free of conflicts with the listing's owner, those of its field first, then
/// the least busy (any exchange's administrator).
pub async fn suggest(
    pool: &PgPool,
    admin: &CurrentUser,
    listing_id: Uuid,
) -> Result<Vec<Suggestion>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    let listing = db::listings::get(&mut conn, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let rows =
        db::experts::suggestions(&mut conn, listing.organization_id, &listing.field, 50).await?;
    Ok(rows
        .into_iter()
        .map(|r| Suggestion {
            expert: expert_view(r.expert),
            field_fit: r.field_fit,
            workload: r.workload,
        })
        .collect())
}

/// The evaluation locked, and the caller's place on its panel (403 `not_on_panel` otherwise):
/// the expert's id and whether they may still answer.
async fn my_place(
    conn: &mut PgConnection,
    user: &CurrentUser,
    id: Uuid,
) -> Result<(EvaluationRow, Uuid, String)> {
    let row = db::evaluations::get_for_update(conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let members = db::evaluations::members(conn, id).await?;
    members
        .iter()
        .find(|m| Some(m.user_id) == user.person_id())
        .map(|m| (row.clone(), m.expert_id, m.status.clone()))
        .ok_or(Error::Forbidden("not_on_panel"))
}

/// 409 `evaluation_closed` once the panel closed or its due date passed, `already_answered`
/// for a second answer.
fn check_may_answer(row: &EvaluationRow, my_status: &str, now: DateTime<Utc>) -> Result<()> {
    if row.status != "in_progress" || now >= row.due_at {
        return Err(Error::conflict("evaluation_closed"));
    }
    if my_status != "invited" {
        return Err(Error::conflict("already_answered"));
    }
    Ok(())
}

/// An invited expert scores, once. 422 before 409; 409 `evaluation_closed` once the panel has
/// closed or its due date has passed, `already_answered` for a second answer. The last answer
/// closes the panel.
#[tracing::instrument(skip(state, user, input))]
pub async fn score(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    input: ScoreInput,
) -> Result<EvaluationView> {
    let scores = Scores {
        maturity_trl: input.maturity_trl,
        innovation: input.innovation,
        advancement: input.advancement,
        market: input.market,
    };
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let (row, expert_id, my_status) = my_place(&mut tx, user, id).await?;
    let mut errs = FieldErrors::new();
    check_scores(&scores, &input.comment, &mut errs);
    errs.into_result()?;
    check_may_answer(&row, &my_status, now)?;
    // Checked above: 1..=9 and 1..=5.
    let small = |v: i64| i16::try_from(v).unwrap_or(1);
    let s = [
        small(scores.maturity_trl),
        small(scores.innovation),
        small(scores.advancement),
        small(scores.market),
    ];
    if !db::evaluations::set_scores(&mut tx, id, expert_id, s, input.comment.trim(), now).await? {
        return Err(Error::conflict("already_answered"));
    }
    let (row, members) = close_if_done(&mut tx, row, false, now).await?;
    tx.commit().await?;
    Ok(view(&row, &members, user.person_id()))
}

/// An invited expert declines; the panel closes if nobody else is left to answer.
#[tracing::instrument(skip(state, user))]
pub async fn decline(state: &AppState, user: &CurrentUser, id: Uuid) -> Result<EvaluationView> {
    let now = state.clock.now();
    let mut tx = state.pool.begin().await?;
    let (row, expert_id, my_status) = my_place(&mut tx, user, id).await?;
    check_may_answer(&row, &my_status, now)?;
    if !db::evaluations::set_declined(&mut tx, id, expert_id, now).await? {
        return Err(Error::conflict("already_answered"));
    }
    let (row, members) = close_if_done(&mut tx, row, false, now).await?;
    tx.commit().await?;
    Ok(view(&row, &members, user.person_id()))
}

/// Closes the locked evaluation `row` if its panel is done (or `due_passed`): published with
/// its report, or failed. Returns the evaluation and its panel as they are now.
async fn close_if_done(
    conn: &mut PgConnection,
    row: EvaluationRow,
    due_passed: bool,
    now: DateTime<Utc>,
) -> Result<(EvaluationRow, Vec<MemberRow>)> {
    let members = db::evaluations::members(conn, row.id).await?;
    if row.status != "in_progress" {
        return Ok((row, members));
    }
    let invited = members.iter().filter(|m| m.status == "invited").count();
    let given: Vec<Scores> = members.iter().filter_map(scores_of).collect();
    let (status, report, step) = match evaluation::closing(invited, given.len(), due_passed) {
        Closing::Open => return Ok((row, members)),
        Closing::Publish => {
            let report = evaluation::report(&given)
                .ok_or_else(|| Error::Internal(anyhow::anyhow!("report of {}", row.id)))?;
            let json = serde_json::to_value(report).map_err(|e| Error::Internal(e.into()))?;
            ("published", Some(json), EvaluationStep::Published)
        }
        Closing::Fail => ("failed", None, EvaluationStep::Failed),
    };
    if !db::evaluations::close(conn, row.id, status, report.as_ref(), now).await? {
        return Ok((row, members));
    }
    let row = db::evaluations::get(conn, row.id)
        .await?
        .ok_or(Error::NotFound)?;
    events::emit(conn, &facts(&row, &members, step)).await?;
    Ok((row, members))
}

/// Closes the evaluations whose due date has passed: safe with several processes (each takes
/// its rows `FOR UPDATE SKIP LOCKED` and closes only what is still in progress). Returns how
/// many it closed.
pub async fn run_jobs(state: &AppState) -> Result<usize> {
    let now = state.clock.now();
    let mut closed = 0;
    loop {
        let mut tx = state.pool.begin().await?;
        let ids = db::evaluations::due_for_update(&mut tx, now, 20).await?;
        if ids.is_empty() {
            return Ok(closed);
        }
        for id in &ids {
            if let Some(row) = db::evaluations::get(&mut tx, *id).await? {
                let (after, _) = close_if_done(&mut tx, row, true, now).await?;
                if after.status != "in_progress" {
                    closed += 1;
                }
            }
        }
        tx.commit().await?;
        if ids.len() < 20 {
            return Ok(closed);
        }
    }
}

/// Whether `viewer` may see the evaluation before it is published: its panel, the listing
/// owner's members, administrators.
fn may_see(viewer: &CurrentUser, r: &EvaluationRow, members: &[MemberRow]) -> bool {
    viewer.is_admin()
        || viewer.organization_id == Some(r.owner_organization_id)
        || members
            .iter()
            .any(|m| Some(m.user_id) == viewer.person_id())
}

/// One evaluation (its panel, the listing's owner, administrators; anyone once published).
pub async fn evaluation(
    pool: &PgPool,
    viewer: Option<&CurrentUser>,
    id: Uuid,
) -> Result<EvaluationView> {
    let mut conn = pool.acquire().await?;
    let row = db::evaluations::get(&mut conn, id)
        .await?
        .ok_or(Error::NotFound)?;
    let members = db::evaluations::members(&mut conn, id).await?;
    let visible = row.status == "published" || viewer.is_some_and(|v| may_see(v, &row, &members));
    if !visible {
        return Err(Error::NotFound);
    }
    Ok(view(&row, &members, viewer.and_then(|v| v.person_id())))
}

/// The listing's latest published evaluation (public; 404 when there is none).
pub async fn published_for_listing(pool: &PgPool, listing_id: Uuid) -> Result<EvaluationView> {
    let mut conn = pool.acquire().await?;
    let row = db::evaluations::latest_published(&mut conn, listing_id)
        .await?
        .ok_or(Error::NotFound)?;
    let members = db::evaluations::members(&mut conn, row.id).await?;
    Ok(view(&row, &members, None))
}

/// [`published_for_listing`] given the evaluation's row (read with the listing, `listings::detail`).
pub async fn published_view(pool: &PgPool, row: &EvaluationRow) -> Result<EvaluationView> {
    let mut conn = pool.acquire().await?;
    let members = db::evaluations::members(&mut conn, row.id).await?;
    Ok(view(row, &members, None))
}

/// The `evaluation` summary of a listing's JSON: its latest published evaluation.
pub async fn listing_summary(
    conn: &mut PgConnection,
    listing_id: Uuid,
) -> Result<Option<EvaluationSummary>> {
    let Some(row) = db::evaluations::latest_published(conn, listing_id).await? else {
        return Ok(None);
    };
    Ok(summary_of(&row))
}

/// The `evaluation` summary of a published evaluation (none if its report cannot be read).
pub fn summary_of(row: &EvaluationRow) -> Option<EvaluationSummary> {
    report_of(row).map(|report| EvaluationSummary {
        id: row.id,
        status: row.status.clone(),
        published_at: row.closed_at,
        report,
    })
}

/// A listing's evaluations for an administrator's panel page, newest first.
pub async fn for_listing(
    pool: &PgPool,
    admin: &CurrentUser,
    listing_id: Uuid,
) -> Result<Vec<EvaluationView>> {
    admin.require_admin()?;
    let mut conn = pool.acquire().await?;
    let mut out = Vec::new();
    for row in db::evaluations::for_listing(&mut conn, listing_id).await? {
        let members = db::evaluations::members(&mut conn, row.id).await?;
        out.push(view(&row, &members, admin.person_id()));
    }
    Ok(out)
}

/// The evaluations whose panel the caller sits on, newest first.
pub async fn mine(pool: &PgPool, user: &CurrentUser) -> Result<Vec<EvaluationView>> {
    let Some(me) = user.person_id() else {
        return Ok(Vec::new());
    };
    let mut conn = pool.acquire().await?;
    let mut out = Vec::new();
    for row in db::evaluations::for_expert_user(&mut conn, me).await? {
        let members = db::evaluations::members(&mut conn, row.id).await?;
        out.push(view(&row, &members, Some(me)));
    }
    Ok(out)
}

/// The caller's answer on the panel (`invited` | `declined` | `scored`), none when not on it.
pub async fn panel_status(pool: &PgPool, id: Uuid, user_id: Uuid) -> Result<Option<String>> {
    let mut conn = pool.acquire().await?;
    Ok(db::evaluations::members(&mut conn, id)
        .await?
        .into_iter()
        .find(|m| m.user_id == user_id)
        .map(|m| m.status))
}
