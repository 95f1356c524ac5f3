//! The schedule editor: add and remove bands, preview against the schedules in force, save a draft.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::error::FieldErrors;
use crate::domain::fees::FeeSchedule;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebAdmin};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::fees::{self, NewScheduleInput};

use super::figure::{figure, public_series, Figure, Series, DRAFT};
use super::form::{parse_action, parse_local_time, EditorAction, EditorSide, EditorSideView};

#[derive(Template)]
#[template(path = "fees/admin_editor.html")]
struct EditorPage {
    ctx: PageCtx,
    name: String,
    effective_from: String,
    name_error: String,
    effective_from_error: String,
    sides: Vec<EditorSideView>,
    message: String,
    /// Shown after "preview" when the draft parses and validates.
    preview: Option<Figure>,
}

#[derive(Debug, Deserialize)]
pub struct EditorQuery {
    from: Option<String>,
}

/// What the editor form holds, as typed.
struct Typed<'a> {
    name: String,
    effective_from: String,
    buyer: &'a EditorSide,
    seller: &'a EditorSide,
}

fn editor_page(
    ctx: PageCtx,
    typed: Typed<'_>,
    errors: &FormErrors,
    message: String,
    preview: Option<Figure>,
) -> EditorPage {
    let Typed {
        name,
        effective_from,
        buyer,
        seller,
    } = typed;
    let sides = vec![
        buyer.view(&ctx, "buyer", errors),
        seller.view(&ctx, "seller", errors),
    ];
    EditorPage {
        name_error: errors.get("name").to_string(),
        effective_from_error: errors.get("effective_from").to_string(),
        ctx,
        name,
        effective_from,
        sides,
        message,
        preview,
    }
}

pub async fn editor_new(
    State(state): State<AppState>,
    WebAdmin(_user, ctx): WebAdmin,
    Query(q): Query<EditorQuery>,
) -> Result<Response> {
    let base = match q.from.as_deref().map(parse_id) {
        Some(Ok(id)) => fees::get(&state.pool, id).await?,
        Some(Err(e)) => return Err(e),
        None => fees::in_force(&state.pool, Utc::now()).await?,
    };
    let page = editor_page(
        ctx,
        Typed {
            name: String::new(),
            effective_from: String::new(),
            buyer: &EditorSide::from_view(&base.buyer),
            seller: &EditorSide::from_view(&base.seller),
        },
        &FormErrors::default(),
        String::new(),
        None,
    );
    render(&page)
}

pub async fn editor_submit(
    State(state): State<AppState>,
    WebAdmin(user, ctx): WebAdmin,
    form: Form,
) -> Result<Response> {
    user.require_admin()?;
    let name = form.get("name").to_string();
    let effective_from = form.get("effective_from").to_string();
    let mut buyer = EditorSide::from_form(&form, "buyer");
    let mut seller = EditorSide::from_form(&form, "seller");
    let action = parse_action(form.get("action"));
    match action {
        EditorAction::Add(side) | EditorAction::Remove(side, _) => {
            let s = if side == "buyer" {
                &mut buyer
            } else {
                &mut seller
            };
            match action {
                EditorAction::Add(_) => s.add_band(),
                EditorAction::Remove(_, i) => s.remove_band(i),
                _ => {}
            }
            let page = editor_page(
                ctx,
                Typed {
                    name,
                    effective_from,
                    buyer: &buyer,
                    seller: &seller,
                },
                &FormErrors::default(),
                String::new(),
                None,
            );
            return render(&page);
        }
        EditorAction::Preview | EditorAction::Save => {}
    }
    // Parse what was typed, then let the service's validation speak (same paths as the API).
    let now = Utc::now();
    let mut errs = FieldErrors::new();
    let buyer_view = buyer.parse("buyer", &mut errs);
    let seller_view = seller.parse("seller", &mut errs);
    let effective = if effective_from.trim().is_empty() {
        None
    } else {
        match parse_local_time(&effective_from) {
            Some(at) => Some(at),
            None => {
                errs.push("effective_from", "err.fees.effective_from_format", vec![]);
                None
            }
        }
    };
    let input = NewScheduleInput {
        name: name.clone(),
        effective_from: effective,
        buyer: buyer_view,
        seller: seller_view,
    };
    let parse_failed = !errs.is_empty();
    if action == EditorAction::Preview || parse_failed {
        // Domain validation too, so everything wrong shows at once; paths already reported win.
        for e in fees::validate_input(&input, now) {
            if errs.get(&e.path).is_none() && !(action == EditorAction::Preview && e.path == "name")
            {
                errs.0.push(e);
            }
        }
    }
    if action == EditorAction::Save && errs.is_empty() {
        match fees::create(&state.pool, &user, input, now).await {
            Ok(v) => {
                return Ok(
                    Redirect::to(&format!("/admin/fees/{}?done=fee_drafted", v.id)).into_response(),
                )
            }
            Err(e @ Error::Validation(_)) => {
                let errors = FormErrors::from_error(ctx.lang, &e);
                let message = ctx.t("form.fix_errors").to_string();
                let page = editor_page(
                    ctx,
                    Typed {
                        name,
                        effective_from,
                        buyer: &buyer,
                        seller: &seller,
                    },
                    &errors,
                    message,
                    None,
                );
                let mut resp = render(&page)?;
                *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                return Ok(resp);
            }
            Err(e) => return Err(e),
        }
    }
    let err = Error::Validation(errs);
    let errors = FormErrors::from_error(ctx.lang, &err);
    let preview = if errors.is_empty() {
        let current = fees::in_force(&state.pool, now).await?;
        let mut series = vec![Series {
            label: ctx.t("fees.series.draft").to_string(),
            schedule: FeeSchedule {
                buyer: (&input.buyer).into(),
                seller: (&input.seller).into(),
            },
            look: DRAFT,
        }];
        series.extend(public_series(ctx.lang, &current));
        Some(figure(ctx.lang, &series, None))
    } else {
        None
    };
    let message = if errors.is_empty() {
        String::new()
    } else {
        ctx.t("form.fix_errors").to_string()
    };
    let failed = !errors.is_empty();
    let page = editor_page(
        ctx,
        Typed {
            name,
            effective_from,
            buyer: &buyer,
            seller: &seller,
        },
        &errors,
        message,
        preview,
    );
    let mut resp = render(&page)?;
    if failed {
        *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}
