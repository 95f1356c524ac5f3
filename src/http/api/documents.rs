//! Listing documents and delivery attachments: upload (multipart, one file in the field `file`)
//! and download.
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::domain::documents::MAX_BYTES;
use crate::domain::error::FieldErrors;
use crate::error::{Error, Result};
use crate::http::api::{created, ErrorBody};
use crate::http::extract::{parse_id, ApiUser, MaybeApiUser};
use crate::http::respond::document_response;
use crate::http::state::AppState;
use crate::service::documents::{self, DocumentView};
use crate::service::settlement::{self, AttachmentView};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload))
        .routes(routes!(attach))
        // Documents may be up to 10 MiB: this route's body limit only (the multipart framing on top).
        .layer(DefaultBodyLimit::max(MAX_BYTES + 64 * 1024))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(download))
                .routes(routes!(download_attachment)),
        )
}

/// The multipart body of an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The PDF, PNG or JPEG file (≤ 10 MiB).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

fn no_file() -> Error {
    let mut f = FieldErrors::default();
    f.push("file", "err.document.missing", vec![]);
    Error::Validation(f)
}

/// A multipart error: over the limit → 413, anything else malformed → 400.
fn multipart_error(status: StatusCode) -> Error {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        Error::PayloadTooLarge
    } else {
        Error::bad_request("invalid_multipart")
    }
}

/// Attaches a PDF, PNG or JPEG (judged by its content, not its name; ≤ 10 MiB; ≤ 10 per listing) to
/// a draft or rejected listing of the caller's organisation.
#[utoipa::path(post, path = "/api/v1/listings/{id}/documents", tag = "listings", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = UploadForm, description = "one file in the field `file`"),
    responses((status = 201, body = DocumentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`not_listing_owner`"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`listing_not_editable`, `too_many_documents`"),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody, description = "not a PDF, PNG or JPEG")))]
async fn upload(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response> {
    keep_upload(&id, multipart, async |id, name: &str, data: &[u8]| {
        documents::upload(&state, &user, id, name, data).await
    })
    .await
}

/// Hands the file of an upload to `keep` with the id of what it is for (the path's `id`); 201
/// with what `keep` answers.
async fn keep_upload<T: serde::Serialize>(
    id: &str,
    mut multipart: Multipart,
    keep: impl AsyncFnOnce(uuid::Uuid, &str, &[u8]) -> Result<T>,
) -> Result<Response> {
    let id = parse_id(id)?;
    let (name, data) = read_file(&mut multipart).await?;
    Ok(created(keep(id, &name, &data).await?).into_response())
}

/// The name and bytes of the field `file`.
async fn read_file(multipart: &mut Multipart) -> Result<(String, axum::body::Bytes)> {
    loop {
        let field = multipart
            .next_field()
            .await
            .map_err(|e| multipart_error(e.status()))?;
        let Some(field) = field else {
            return Err(no_file());
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("document").to_string();
        let data = field
            .bytes()
            .await
            .map_err(|e| multipart_error(e.status()))?;
        return Ok((name, data));
    }
}

/// The seller attaches a PDF, PNG or JPEG (by content; ≤ 10 MiB; ≤ 10 per trade) to its delivery
/// while the trade is paid or delivered.
#[utoipa::path(post, path = "/api/v1/trades/{id}/delivery/attachments", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = UploadForm, description = "one file in the field `file`"),
    responses((status = 201, body = AttachmentView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "`seller_only`"), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`invalid_trade_state`, `too_many_attachments`"),
        (status = 413, body = ErrorBody), (status = 422, body = ErrorBody, description = "not a PDF, PNG or JPEG")))]
async fn attach(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path(id): Path<String>,
    multipart: Multipart,
) -> Result<Response> {
    keep_upload(&id, multipart, async |id, name: &str, data: &[u8]| {
        settlement::attach(&state, &user, id, name, data).await
    })
    .await
}

/// Downloads a delivery attachment: the parties and the admins of their exchanges (404 to others).
#[utoipa::path(get, path = "/api/v1/trades/{id}/delivery/attachments/{aid}", tag = "trades", security(("bearer" = [])),
    params(("id" = String, Path), ("aid" = String, Path)),
    responses((status = 200, description = "the file, as an attachment"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn download_attachment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response> {
    let (id, aid) = (parse_id(&id)?, parse_id(&aid)?);
    let (d, data) = settlement::download_attachment(&state, &user, id, aid).await?;
    Ok(document_response(&d, data))
}

/// Downloads a document: to anyone once the listing is approved, before that to its owner and admins.
#[utoipa::path(get, path = "/api/v1/listings/{id}/documents/{doc}", tag = "listings", security((), ("bearer" = [])),
    params(("id" = String, Path), ("doc" = String, Path)),
    responses((status = 200, description = "the file, as an attachment"), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn download(
    State(state): State<AppState>,
    MaybeApiUser(user): MaybeApiUser,
    Path((id, doc)): Path<(String, String)>,
) -> Result<Response> {
    let (id, doc) = (parse_id(&id)?, parse_id(&doc)?);
    let (d, data) = documents::download(&state, user.as_ref(), id, doc).await?;
    Ok(document_response(&d, data))
}
