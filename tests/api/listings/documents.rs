//! Listing documents: PDFs and images checked by content, size and count limits, downloads that a
//! browser saves and never runs, shown after approval; stored in PostgreSQL or a directory.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use super::*;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn upload(app: &TestApp, token: &str, listing: &str, name: &str, data: &[u8]) -> Resp {
    let boundary = "techmarket-test-boundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/listings/{listing}/documents"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from listing_documents")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn an_owner_attaches_a_pdf_that_everyone_downloads_after_approval(pool: PgPool) {
    let mk = Market::new(pool).await;
    let owner = mk.app.verified_member("owner@uni.example", "cdipex").await;
    let other = mk.app.verified_member("other@uni.example", "cdipex").await;
    let id = mk.create(&owner, body("带附件的成果")).await;

    let r = upload(&mk.app, &owner.token, &id, "专利证书.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["name"], json!("专利证书.pdf"));
    assert_eq!(r.body["content_type"], json!("application/pdf"));
    assert_eq!(r.body["size"], json!(PDF.len()));
    use sha2::Digest;
    assert_eq!(
        r.body["sha256"],
        json!(hex::encode(sha2::Sha256::digest(PDF)))
    );
    let doc = r.body["id"].as_str().unwrap().to_string();
    // Only the owner's organisation may attach.
    let r = upload(&mk.app, &other.token, &id, "x.pdf", PDF).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "a draft is not visible to others"
    );

    // Before approval: the owner and reviewers see it, the public does not.
    let uri = format!("/api/v1/listings/{id}/documents/{doc}");
    assert_eq!(mk.app.get(&uri, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        mk.app.get(&uri, Some(&owner.token)).await.status,
        StatusCode::OK
    );
    mk.submit(&owner, &id).await;
    let reviewer = browser_login(&mk.app, "admin-cdipex@test.example").await;
    let review = mk
        .app
        .page(&format!("/admin/listings/{id}"), &reviewer)
        .await;
    assert!(review.text.contains("专利证书.pdf"), "{}", review.text);
    let public_page = mk.app.page(&format!("/listings/{id}"), "").await;
    assert!(!public_page.text.contains("专利证书.pdf"));
    // Attaching is for drafts and rejected listings only.
    let r = upload(&mk.app, &owner.token, &id, "late.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);

    let r = mk.approve("cdipex", &id).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let public_page = mk.app.page(&format!("/listings/{id}"), "").await;
    assert!(public_page
        .text
        .contains(&format!("/listings/{id}/documents/{doc}")));
    for uri in [uri.clone(), format!("/listings/{id}/documents/{doc}")] {
        let d = mk.app.get(&uri, None).await;
        assert_eq!(d.status, StatusCode::OK, "{uri}");
        assert_eq!(d.headers[header::CONTENT_TYPE], "application/pdf");
        assert_eq!(d.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        let disposition = d.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
        assert!(disposition.starts_with("attachment;"), "{disposition}");
        assert!(
            disposition.contains("filename*=UTF-8''%E4%B8%93%E5%88%A9%E8%AF%81%E4%B9%A6%2Epdf"),
            "{disposition}"
        );
        assert_eq!(d.text.as_bytes(), PDF);
    }
}

#[sqlx::test(migrations = "./migrations")]
async fn content_decides_and_limits_hold(pool: PgPool) {
    let mk = Market::new(pool).await;
    let owner = mk.app.verified_member("owner@uni.example", "suaee").await;
    let id = mk.create(&owner, body("限制测试成果")).await;

    // Named .pdf, but HTML inside: refused, nothing stored.
    let r = upload(
        &mk.app,
        &owner.token,
        &id,
        "report.pdf",
        b"<html><script>alert(1)</script></html>",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["file"].is_string(), "{}", r.text);
    assert_eq!(count(&mk.app).await, 0);

    // Over 10 MiB: 413, nothing stored.
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let r = upload(&mk.app, &owner.token, &id, "big.pdf", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(count(&mk.app).await, 0);

    // A PNG named .pdf is kept as what it is.
    let r = upload(&mk.app, &owner.token, &id, "scan.pdf", PNG).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["content_type"], json!("image/png"));
    assert_eq!(r.body["name"], json!("scan.png"));
    for i in 1..10 {
        let r = upload(&mk.app, &owner.token, &id, &format!("{i}.pdf"), PDF).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = upload(&mk.app, &owner.token, &id, "eleven.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("too_many_documents"));
    assert_eq!(count(&mk.app).await, 10);
}

#[sqlx::test(migrations = "./migrations")]
async fn documents_can_be_kept_in_a_directory(pool: PgPool) {
    let dir = std::env::temp_dir().join(format!("techmarket-docs-{}", uuid::Uuid::now_v7()));
    let mut config = techmarket::config::Config::for_tests("");
    config.documents_dir = Some(dir.to_string_lossy().to_string());
    let state = techmarket::startup::state(pool.clone(), config);
    let app = TestApp {
        app: techmarket::http::app(state.clone()),
        pool,
        state,
    };
    let owner = app.verified_member("dir@uni.example", "nttc_sw").await;
    let r = app
        .post("/api/v1/listings", Some(&owner.token), body("目录存储成果"))
        .await;
    let id = r.body["id"].as_str().unwrap().to_string();
    let r = upload(&app, &owner.token, &id, "证书.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    let doc = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(std::fs::read(dir.join(&doc)).unwrap(), PDF);
    let blobs: i64 = sqlx::query_scalar("select count(*) from listing_document_blobs")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(blobs, 0, "not in PostgreSQL");
    let d = app
        .get(
            &format!("/api/v1/listings/{id}/documents/{doc}"),
            Some(&owner.token),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.text.as_bytes(), PDF);
    // Removed on the listing's page: the row and the file both go.
    let cookies = web_login(&app, &owner.email).await;
    let page = app.page(&format!("/listings/{id}"), &cookies).await;
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let r = app
        .form(
            &format!("/listings/{id}/documents/{doc}/remove"),
            &cookies,
            &[("_csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(count(&app).await, 0);
    assert!(!dir.join(&doc).exists(), "its file was removed");
    std::fs::remove_dir_all(&dir).ok();
}
