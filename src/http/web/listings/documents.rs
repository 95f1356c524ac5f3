//! A listing's documents on its own page: the owner attaches a PDF or image (a multipart form
//! carrying the CSRF token) and removes one; a download as the page's session may see it.
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, Form, WebUser};
use crate::http::state::AppState;
use crate::service::documents;

/// What an upload form sent: its CSRF token and the file (name and bytes), if any.
#[derive(Default)]
pub(crate) struct Upload {
    pub(crate) csrf: String,
    pub(crate) file: Option<(String, Vec<u8>)>,
}

/// Reads the multipart body: the `_csrf` field and the first non-empty `file` (a form sent with
/// no file chosen has an empty one). The body limit (10 MiB and the framing) is the route's.
pub(crate) async fn read_upload(mut multipart: Multipart) -> Result<Upload> {
    let mut out = Upload::default();
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge
        } else {
            Error::bad_request("invalid_multipart")
        }
    };
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        match field.name() {
            Some("_csrf") => out.csrf = field.text().await.map_err(bad)?,
            Some("file") if out.file.is_none() => {
                let name = field.file_name().unwrap_or("document").to_string();
                let data = field.bytes().await.map_err(bad)?;
                if !(data.is_empty() && name.is_empty()) {
                    out.file = Some((name, data.to_vec()));
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The owner attaches a document. The token is checked before anything else is looked at; a
/// body that is not multipart is read as an ordinary form (so a missing token is still 403).
pub(super) async fn upload(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
    req: Request,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !multipart {
        Form::from_request(req, &state).await?;
        return refused(&state, ctx, id, Error::bad_request("invalid_multipart")).await;
    }
    let sent = match Multipart::from_request(req, &state).await {
        Ok(m) => read_upload(m).await,
        Err(_) => Err(Error::bad_request("invalid_multipart")),
    };
    let sent = match sent {
        Ok(s) => s,
        // Too large or malformed: nothing was stored, say why on the page (a form token cannot be
        // read from a body that was not read to its end, so none is needed to say so).
        Err(e) => return refused(&state, ctx, id, e).await,
    };
    if ctx.csrf.is_empty() || !crate::auth::token::same(&sent.csrf, &ctx.csrf) {
        return Err(Error::Forbidden("csrf_failed"));
    }
    let Some((name, data)) = sent.file else {
        return refused(&state, ctx, id, choose_a_file()).await;
    };
    match documents::upload(&state, &user, id, &name, &data).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/listings/{id}?done=document_added#documents")).into_response(),
        ),
        Err(e) => refused(&state, ctx, id, e).await,
    }
}

fn choose_a_file() -> Error {
    let mut f = crate::domain::error::FieldErrors::default();
    f.push("file", "documents.choose_file", vec![]);
    Error::Validation(f)
}

/// The owner removes a document.
pub(super) async fn remove(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path((id, doc)): Path<(String, String)>,
    _form: Form,
) -> Result<Response> {
    let (id, doc) = (parse_id(&id)?, parse_id(&doc)?);
    match documents::remove(&state, &user, id, doc).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/listings/{id}?done=document_removed#documents"))
                .into_response(),
        ),
        Err(e) => refused(&state, ctx, id, e).await,
    }
}

/// A listing document as a download (the page's session decides who may see it).
pub(super) async fn download(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response> {
    let (id, doc) = (parse_id(&id)?, parse_id(&doc)?);
    let (d, data) = documents::download(&state, ctx.user.as_ref(), id, doc).await?;
    Ok(crate::http::respond::document_response(&d, data))
}

/// Why an upload or removal was refused, in the page's language: the limits in words a person
/// reads (10 MiB, 10 per listing, PDF/PNG/JPEG by content), not the API's codes.
fn reason(ctx: &PageCtx, e: &Error) -> Option<String> {
    let key = match e {
        Error::PayloadTooLarge => "documents.too_large".to_string(),
        Error::Validation(f) => {
            return Some(
                f.iter()
                    .map(|fe| crate::i18n::tf(ctx.lang, fe.key, &fe.args))
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        }
        Error::BadRequest { code, .. } => format!("error.{code}"),
        Error::Conflict { code, .. } | Error::Forbidden(code) => format!("error.{code}"),
        _ => return None,
    };
    Some(ctx.t(&key).to_string())
}

/// The listing page again, the reason beside the documents' form, with the error's status.
async fn refused(state: &AppState, ctx: PageCtx, id: uuid::Uuid, e: Error) -> Result<Response> {
    let Some(message) = reason(&ctx, &e) else {
        return Err(e);
    };
    super::detail::page_with(state, ctx, id, String::new(), message, e.status()).await
}
