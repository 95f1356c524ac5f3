//! The listing form: new and edit, its fields read back into a `ListingInput`.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};

use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Form, WebUser};
use crate::http::state::AppState;
use crate::http::web::{render, FormErrors};
use crate::service::listings::{
    self, AuctionInput, ListingInput, ListingPatch, ListingView, PricingInput,
};

use super::{fen_to_wan, trl_label, wan_to_fen};

#[derive(Template)]
#[template(path = "listings/form.html")]
struct FormPage {
    ctx: PageCtx,
    action: String,
    editing: bool,
    form: Vec<(String, String)>,
    errors: FormErrors,
    message: String,
}

impl FormPage {
    fn value(&self, name: &str) -> &str {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    fn selected(&self, name: &str, value: &str) -> bool {
        self.value(name) == value
    }
    fn checked(&self, name: &str, value: &str) -> bool {
        self.form.iter().any(|(k, v)| k == name && v == value)
    }
    fn trls(&self) -> Vec<(String, String)> {
        (1..=9i16)
            .map(|n| (n.to_string(), trl_label(&self.ctx, n)))
            .collect()
    }
}

fn split_list(s: &str, seps: &[char]) -> Vec<String> {
    s.split(|c: char| seps.contains(&c))
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

/// Form fields → the API input. Money boxes are in 万元; times are Asia/Shanghai.
fn input_from_form(form: &Form) -> std::result::Result<ListingInput, FieldErrors> {
    let mut errs = FieldErrors::new();
    let money = |name: &str, required: bool, errs: &mut FieldErrors| -> Option<i64> {
        let v = form.get(name).trim();
        if v.is_empty() {
            if required {
                errs.push(name, "err.amount.empty", vec![]);
            }
            return None;
        }
        match wan_to_fen(v) {
            Ok(f) => Some(f),
            Err(e) => {
                errs.push_err(name, &e);
                None
            }
        }
    };
    let mode = form.get("pricing.mode").to_string();
    let price_fen = money("pricing.price_fen", false, &mut errs);
    let auction = if mode == "auction" {
        let start = money("pricing.auction.start_price_fen", true, &mut errs);
        let inc = money("pricing.auction.increment_fen", true, &mut errs);
        let reserve = money("pricing.auction.reserve_fen", false, &mut errs);
        let deposit = money("pricing.auction.deposit_fen", false, &mut errs);
        let ends = form.get("pricing.auction.ends_at").trim();
        let ends_at = match NaiveDateTime::parse_from_str(ends, "%Y-%m-%dT%H:%M") {
            Ok(n) => chrono::FixedOffset::east_opt(8 * 3600)
                .and_then(|off| off.from_local_datetime(&n).single())
                .map(|t| t.with_timezone(&Utc)),
            Err(_) => None,
        };
        if ends_at.is_none() {
            errs.push(
                "pricing.auction.ends_at",
                "err.listing.ends_at_format",
                vec![],
            );
        }
        // Optional: empty means bidding opens at the approval.
        let starts = form.get("pricing.auction.starts_at").trim();
        let starts_at = if starts.is_empty() {
            None
        } else {
            let at = NaiveDateTime::parse_from_str(starts, "%Y-%m-%dT%H:%M")
                .ok()
                .and_then(|n| {
                    chrono::FixedOffset::east_opt(8 * 3600)
                        .and_then(|off| off.from_local_datetime(&n).single())
                })
                .map(|t| t.with_timezone(&Utc));
            if at.is_none() {
                errs.push(
                    "pricing.auction.starts_at",
                    "err.listing.starts_at_format",
                    vec![],
                );
            }
            at
        };
        let ext = form.get("pricing.auction.extension_seconds").trim();
        let extension_seconds = if ext.is_empty() {
            None
        } else {
            match ext.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errs.push(
                        "pricing.auction.extension_seconds",
                        "err.auction.extension_range",
                        vec![("min", "0".into()), ("max", "3600".into())],
                    );
                    None
                }
            }
        };
        // A box that could not be read still leaves the others to check: it stands in with a
        // value that passes its own rules and makes no comparison fail (start 1, increment 1,
        // ends tomorrow), and its own error is already recorded.
        Some(AuctionInput {
            start_price_fen: start.unwrap_or(1),
            increment_fen: inc.unwrap_or(1),
            reserve_fen: reserve,
            deposit_fen: deposit,
            ends_at: ends_at.unwrap_or_else(|| Utc::now() + chrono::Duration::days(1)),
            extension_seconds,
            starts_at,
        })
    } else {
        None
    };
    let trl = form.get("trl").trim().parse::<i64>().unwrap_or(0);
    let input = ListingInput {
        title: form.get("title").to_string(),
        summary: form.get("summary").to_string(),
        description: form.get("description").to_string(),
        field: form.get("field").to_string(),
        ip_type: form.get("ip_type").to_string(),
        ip_numbers: split_list(form.get("ip_numbers"), &['\n', '\r']),
        trl,
        transaction_modes: form
            .all("transaction_modes")
            .into_iter()
            .map(str::to_string)
            .collect(),
        keywords: split_list(form.get("keywords"), &[',', '，', '、', ';', '；']),
        pricing: PricingInput {
            mode: mode.clone(),
            price_fen: if mode == "auction" { None } else { price_fen },
            auction,
        },
        // Blank is none (the service says so too).
        title_en: Some(form.get("title_en").to_string()),
        summary_en: Some(form.get("summary_en").to_string()),
    };
    if errs.is_empty() {
        Ok(input)
    } else {
        // Report the service's findings too, so the form shows every problem at once.
        if let Err(more) = listings::validate(&input, Utc::now()) {
            for e in more {
                if errs.get(&e.path).is_none() {
                    errs.0.push(e);
                }
            }
        }
        Err(errs)
    }
}

fn form_values(form: &Form) -> Vec<(String, String)> {
    form.0
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .cloned()
        .collect()
}

fn values_of(l: &ListingView) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = vec![
        ("title".into(), l.title.clone()),
        ("summary".into(), l.summary.clone()),
        ("title_en".into(), l.title_en.clone().unwrap_or_default()),
        (
            "summary_en".into(),
            l.summary_en.clone().unwrap_or_default(),
        ),
        ("description".into(), l.description.clone()),
        ("field".into(), l.field.clone()),
        ("ip_type".into(), l.ip_type.clone()),
        ("ip_numbers".into(), l.ip_numbers.join("\n")),
        ("trl".into(), l.trl.to_string()),
        ("keywords".into(), l.keywords.join("、")),
        ("pricing.mode".into(), l.pricing.mode.clone()),
    ];
    for m in &l.transaction_modes {
        v.push(("transaction_modes".into(), m.clone()));
    }
    if let Some(p) = l.pricing.price_fen {
        v.push(("pricing.price_fen".into(), fen_to_wan(p)));
    }
    if let Some(a) = &l.pricing.auction {
        v.push((
            "pricing.auction.start_price_fen".into(),
            fen_to_wan(a.start_price_fen),
        ));
        v.push((
            "pricing.auction.increment_fen".into(),
            fen_to_wan(a.increment_fen),
        ));
        if let Some(r) = a.reserve_fen {
            v.push(("pricing.auction.reserve_fen".into(), fen_to_wan(r)));
        }
        if let Some(d) = a.deposit_fen {
            v.push(("pricing.auction.deposit_fen".into(), fen_to_wan(d)));
        }
        if let Some(s) = a.starts_at {
            v.push(("pricing.auction.starts_at".into(), shanghai_input(&s)));
        }
        v.push(("pricing.auction.ends_at".into(), shanghai_input(&a.ends_at)));
        v.push((
            "pricing.auction.extension_seconds".into(),
            a.extension_seconds.to_string(),
        ));
    }
    v
}

fn shanghai_input(at: &DateTime<Utc>) -> String {
    chrono::FixedOffset::east_opt(8 * 3600)
        .map(|off| at.with_timezone(&off).format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

pub(super) async fn new_page(WebUser(_, ctx): WebUser) -> Result<Response> {
    render(&FormPage {
        ctx,
        action: "/listings/new".into(),
        editing: false,
        form: vec![
            // Field, TRL and IP type start unchosen: a default would classify a listing wrongly
            // for every seller who skips the box.
            ("pricing.mode".into(), "negotiable".into()),
        ],
        errors: FormErrors::default(),
        message: String::new(),
    })
}

fn form_error_page(
    ctx: PageCtx,
    action: String,
    editing: bool,
    form: &Form,
    e: Error,
) -> Result<Response> {
    let message = match &e {
        Error::Validation(_) => ctx.t("form.fix_errors").to_string(),
        Error::Conflict { .. } | Error::Forbidden(_) => {
            crate::i18n::t(ctx.lang, &format!("error.{}", e.code())).to_string()
        }
        _ => return Err(e),
    };
    let errors = FormErrors::from_error(ctx.lang, &e);
    let mut resp = render(&FormPage {
        ctx,
        action,
        editing,
        form: form_values(form),
        errors,
        message,
    })?;
    *resp.status_mut() = e.status();
    Ok(resp)
}

pub(super) async fn new_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    form: Form,
) -> Result<Response> {
    let result = match input_from_form(&form) {
        Ok(input) => listings::create(&state.pool, &user, input).await,
        Err(f) => Err(Error::Validation(f)),
    };
    match result {
        Ok(l) => Ok(Redirect::to(&format!("/listings/{}?done=created", l.id)).into_response()),
        Err(e) => form_error_page(ctx, "/listings/new".into(), false, &form, e),
    }
}

pub(super) async fn edit_page(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let l = listings::get(&state.pool, Some(&user), id).await?;
    if user.organization_id != Some(l.organization.id) {
        return Err(Error::Forbidden("not_listing_owner"));
    }
    render(&FormPage {
        ctx,
        action: format!("/listings/{id}/edit"),
        editing: true,
        form: values_of(&l),
        errors: FormErrors::default(),
        message: String::new(),
    })
}

pub(super) async fn edit_submit(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    form: Form,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let result = match input_from_form(&form) {
        Ok(input) => {
            let patch = ListingPatch {
                title: Some(input.title),
                summary: Some(input.summary),
                description: Some(input.description),
                field: Some(input.field),
                ip_type: Some(input.ip_type),
                ip_numbers: Some(input.ip_numbers),
                trl: Some(input.trl),
                transaction_modes: Some(input.transaction_modes),
                keywords: Some(input.keywords),
                pricing: Some(input.pricing),
                title_en: input.title_en,
                summary_en: input.summary_en,
            };
            listings::update(&state.pool, &user, id, patch).await
        }
        Err(f) => Err(Error::Validation(f)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/listings/{id}?done=saved")).into_response()),
        Err(e) => form_error_page(ctx, format!("/listings/{id}/edit"), true, &form, e),
    }
}
