//! Pages: a trade's transaction certificate (交易鉴证书, printable, with the QR code of its
//! verification page) and the public verification page.
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::error::{Error, Result};
use crate::http::context::PageCtx;
use crate::http::extract::{parse_id, Ctx, WebUser};
use crate::http::state::AppState;
use crate::http::web::qr::QrSvg;
use crate::http::web::render;
use crate::service::settlement::{self, CertificateView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trades/{id}/certificate", get(certificate))
        .route("/certificates/{number}", get(verification))
}

#[derive(Template)]
#[template(path = "settlement/certificate.html")]
struct CertificatePage {
    ctx: PageCtx,
    c: CertificateView,
    /// The QR code of `c.verify_url`.
    qr: QrSvg,
}

impl CertificatePage {
    fn schedule(&self) -> String {
        self.ctx.in_lang(&self.c.fee_schedule.name)
    }
}

async fn certificate(
    State(state): State<AppState>,
    WebUser(user, ctx): WebUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let id = parse_id(&id)?;
    let c = settlement::for_trade(&state, &user, id).await?;
    let qr = QrSvg::new(&c.verify_url, 160)
        .ok_or_else(|| Error::Internal(anyhow::anyhow!("verify URL too long for a QR code")))?;
    render(&CertificatePage { ctx, c, qr })
}

#[derive(Template)]
#[template(path = "settlement/verification.html")]
struct VerificationPage {
    ctx: PageCtx,
    number: String,
    genuine: bool,
    c: Option<CertificateView>,
}

impl VerificationPage {
    fn schedule(&self, c: &CertificateView) -> String {
        self.ctx.in_lang(&c.fee_schedule.name)
    }
}

/// Public: whether a certificate is genuine, and what it shows if it is.
async fn verification(
    State(state): State<AppState>,
    Ctx(ctx, _): Ctx,
    Path(number): Path<String>,
) -> Result<Response> {
    let v = settlement::verify(&state, &number).await?;
    render(&VerificationPage {
        ctx,
        number: v.number,
        genuine: v.genuine,
        c: v.certificate,
    })
}
