//! How errors leave the service: JSON under `/api`, an HTML page in the user's language elsewhere.
//!
//! Handlers return `crate::error::Error`; its `IntoResponse` only records the error in the response
//! extensions. The `render` step of the context middleware then writes the body, knowing the
//! route kind and the language, and logs internal errors once, inside the request span. Responses
//! that axum or tower produce themselves (404 fallback, 405, 413) are rewritten the same way.
use std::sync::Arc;

use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::Error;
use crate::http::context::{PageCtx, RequestCtx};
use crate::i18n::{self, Lang};

/// The error, carried from the handler to the renderer.
#[derive(Clone)]
pub struct ErrorMarker(pub Arc<Error>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let this = self.reclassify();
        let status = this.status();
        let mut resp = status.into_response();
        resp.extensions_mut().insert(ErrorMarker(Arc::new(this)));
        resp
    }
}

/// The human text of an error, in `lang` (its `error.<code>` words, with a conflict's details).
/// A conflict may name more precise words than its code's with a `text` argument (`error.<text>`):
/// an auction that has not opened yet is `auction_closed`, said as "opens at …".
pub fn message(lang: Lang, e: &Error) -> String {
    let key = format!("error.{}", e.code());
    match e {
        Error::Conflict { args, .. } => {
            let key = args
                .iter()
                .find(|(name, _)| *name == "text")
                .map(|(_, text)| format!("error.{text}"))
                .unwrap_or(key);
            i18n::tf(lang, &key, args)
        }
        _ => i18n::t(lang, &key).to_string(),
    }
}

fn fields_json(lang: Lang, e: &Error) -> Option<serde_json::Value> {
    let fields = match e {
        Error::Validation(f) | Error::Unprocessable { fields: f, .. } => f,
        Error::BadRequest {
            fields: Some(f), ..
        } => f,
        _ => return None,
    };
    let mut map = serde_json::Map::new();
    for fe in &fields.0 {
        // First message per path wins; it is the most basic problem.
        map.entry(fe.path.clone())
            .or_insert_with(|| json!(i18n::tf(lang, fe.key, &fe.args)));
    }
    Some(serde_json::Value::Object(map))
}

/// The JSON body of API.md: `{"error": {"code", "message", "fields"?}}` plus any extra members.
pub fn json_body(lang: Lang, e: &Error) -> serde_json::Value {
    let mut err = serde_json::Map::new();
    err.insert("code".into(), json!(e.code()));
    err.insert("message".into(), json!(message(lang, e)));
    if let Some(f) = fields_json(lang, e) {
        err.insert("fields".into(), f);
    }
    if let Error::Conflict {
        extra: Some(serde_json::Value::Object(extra)),
        ..
    }
    | Error::Unprocessable {
        extra: Some(serde_json::Value::Object(extra)),
        ..
    } = e
    {
        for (k, v) in extra {
            err.insert(k.clone(), v.clone());
        }
    }
    json!({ "error": err })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    ctx: PageCtx,
    status: u16,
    title: String,
    message: String,
    fields: Vec<(String, String)>,
    login_link: bool,
    _p: std::marker::PhantomData<&'a ()>,
}

fn from_status(status: StatusCode) -> Error {
    match status {
        StatusCode::NOT_FOUND => Error::NotFound,
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::METHOD_NOT_ALLOWED => Error::MethodNotAllowed,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::bad_request("unsupported_media_type"),
        StatusCode::UNAUTHORIZED => Error::Unauthorized("unauthorized"),
        StatusCode::FORBIDDEN => Error::Forbidden("forbidden"),
        StatusCode::TOO_MANY_REQUESTS => Error::TooManyRequests,
        StatusCode::UNPROCESSABLE_ENTITY => Error::Validation(Default::default()),
        // The request timeout and `/readyz` without a database: unavailable, not an internal error.
        StatusCode::SERVICE_UNAVAILABLE => Error::Busy,
        s if s.is_client_error() => Error::bad_request("bad_request"),
        _ => Error::Internal(anyhow::anyhow!("upstream status {status}")),
    }
}

/// Writes the body of an error response (or leaves a good response alone).
pub fn render(ctx: &RequestCtx, mut resp: Response) -> Response {
    let status = resp.status();
    let marker = resp.extensions_mut().remove::<ErrorMarker>();
    let err: Arc<Error> = match marker {
        Some(m) => m.0,
        None => {
            if !(status.is_client_error() || status.is_server_error()) {
                return resp;
            }
            // Our own JSON error bodies and streamed pages pass; bare statuses get a body.
            let is_json = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
            if is_json {
                return resp;
            }
            Arc::new(from_status(status))
        }
    };
    match err.as_ref() {
        Error::Internal(cause) => tracing::error!(error = ?cause, "request failed"),
        // One line: a database restart under load should not print pages of backtraces.
        Error::Unavailable(cause) => {
            tracing::warn!(error = %format!("{cause:#}"), "database unavailable")
        }
        _ => {}
    }
    let status = err.status();
    let lang = ctx.lang;
    let mut out = if ctx.is_api {
        (status, axum::Json(json_body(lang, &err))).into_response()
    } else {
        let fields = match fields_json(lang, &err) {
            Some(serde_json::Value::Object(m)) => m
                .into_iter()
                .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                .collect(),
            _ => Vec::new(),
        };
        let page = ErrorPage {
            ctx: PageCtx::from_request(ctx),
            status: status.as_u16(),
            title: i18n::t(lang, &format!("error.title.{}", status.as_u16())).to_string(),
            message: message(lang, &err),
            fields,
            login_link: status == StatusCode::UNAUTHORIZED,
            _p: Default::default(),
        };
        match page.render() {
            Ok(html) => (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                html,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "error page failed to render");
                (status, message(lang, &err)).into_response()
            }
        }
    };
    // Keep headers set by layers inside (e.g. Retry-After), minus the stale length and type.
    for (name, value) in resp.headers() {
        if name != header::CONTENT_LENGTH && name != header::CONTENT_TYPE {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        out.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
    }
    if matches!(err.as_ref(), Error::Busy | Error::Unavailable(_)) {
        out.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
    }
    out
}
