//! Listing documents on the pages: the owner attaches and removes them on the listing's own page
//! (a multipart form carrying the CSRF token), the limits and the content check come back as
//! sentences in Chinese or English, and reviewers see how many each listing of their queue has.
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use sqlx::PgPool;

use super::*;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// Sends the page's upload form: `_csrf` (when given) and one file.
async fn send(
    app: &TestApp,
    cookies: &str,
    uri: &str,
    csrf: Option<&str>,
    name: &str,
    data: &[u8],
) -> Resp {
    let boundary = "techmarket-page-boundary";
    let mut body = Vec::new();
    if let Some(t) = csrf {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{t}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::COOKIE, cookies)
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from listing_documents")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

/// The text of the element `#id` (whitespace collapsed), or "".
fn text_of(html: &str, id: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let sel = scraper::Selector::parse(&format!("#{id}")).unwrap();
    doc.select(&sel)
        .next()
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[sqlx::test(migrations = "./migrations")]
async fn the_owner_attaches_and_removes_documents_on_the_listing_page(pool: PgPool) {
    let mk = Market::new(pool).await;
    let owner = mk.app.verified_member("owner@docs.example", "suaee").await;
    let other = mk.app.verified_member("other@docs.example", "suaee").await;
    let id = mk.create(&owner, body("页面上传附件的成果")).await;
    let cookies = browser_login(&mk.app, &owner.email).await;
    let page_uri = format!("/listings/{id}");
    let page = mk.app.page(&page_uri, &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    // The form is multipart and carries the page's token as its first field.
    let doc = scraper::Html::parse_document(&page.text);
    let form_sel = scraper::Selector::parse(&format!(
        "form[action=\"/listings/{id}/documents\"][enctype=\"multipart/form-data\"]"
    ))
    .unwrap();
    let form = doc.select(&form_sel).next().expect("the upload form");
    let first = scraper::Selector::parse("input").unwrap();
    let first = form.select(&first).next().unwrap();
    assert_eq!(first.value().attr("name"), Some("_csrf"));
    let csrf = first.value().attr("value").unwrap().to_string();
    assert!(
        page.text.contains("每个不超过 10 MiB"),
        "the limits are stated"
    );
    let upload = format!("/listings/{id}/documents");

    // Without the token, or with another one: 403 and nothing stored.
    for t in [None, Some("forged")] {
        let r = send(&mk.app, &cookies, &upload, t, "证书.pdf", PDF).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{t:?}");
    }
    assert_eq!(stored(&mk.app).await, 0);

    // A file named .pdf that is HTML: the page again, 422, the reason in Chinese beside the form.
    let r = send(
        &mk.app,
        &cookies,
        &upload,
        Some(&csrf),
        "报告.pdf",
        b"<html><script>alert(1)</script></html>",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(&r.text, "documents-error").contains("只接受 PDF、PNG 或 JPEG"),
        "{}",
        text_of(&r.text, "documents-error")
    );
    // In English when the page is English.
    let r = send(
        &mk.app,
        &cookies,
        &format!("{upload}?lang=en"),
        Some(&csrf),
        "report.pdf",
        b"not a pdf at all",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.text, "documents-error").contains("Only PDF, PNG or JPEG"));
    // Over 10 MiB: 413 and the limit in words.
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let r = send(&mk.app, &cookies, &upload, Some(&csrf), "big.pdf", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(text_of(&r.text, "documents-error").contains("10 MiB"));
    assert_eq!(stored(&mk.app).await, 0);
    // An empty file input (no file chosen): asked to choose one.
    let r = send(&mk.app, &cookies, &upload, Some(&csrf), "", b"").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(&r.text, "documents-error").contains("请选择"));

    // A real PDF: back to the page, which lists it with a remove button.
    let r = send(&mk.app, &cookies, &upload, Some(&csrf), "专利证书.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let page = mk
        .app
        .page(&format!("{page_uri}?done=document_added"), &cookies)
        .await;
    assert!(page.text.contains("附件已上传"));
    assert!(text_of(&page.text, "documents").contains("专利证书.pdf"));
    let doc_id: String = sqlx::query_scalar("select id::text from listing_documents")
        .fetch_one(&mk.app.pool)
        .await
        .unwrap();
    let remove = format!("/listings/{id}/documents/{doc_id}/remove");
    assert!(page.text.contains(&remove));

    // Another organisation can neither remove it nor attach (the draft is not theirs to see).
    let theirs = browser_login(&mk.app, &other.email).await;
    let their_csrf = input_value(&mk.app.page("/listings", &theirs).await.text, "_csrf");
    let their_csrf = their_csrf.unwrap_or_default();
    let r = mk
        .app
        .form(&remove, &theirs, &[("_csrf", their_csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(&mk.app, &theirs, &upload, Some(&their_csrf), "x.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(stored(&mk.app).await, 1);

    // The reviewer's queue counts it; once submitted the owner can no longer remove it.
    mk.submit(&owner, &id).await;
    let reviewer = browser_login(&mk.app, "admin-suaee@test.example").await;
    let queue = mk.app.page("/admin/listings", &reviewer).await;
    let doc = scraper::Html::parse_document(&queue.text);
    let row = scraper::Selector::parse("tr").unwrap();
    let count = scraper::Selector::parse("td.document-count").unwrap();
    let counted: Vec<String> = doc
        .select(&row)
        .filter(|tr| tr.html().contains(&id))
        .filter_map(|tr| tr.select(&count).next())
        .map(|td| td.text().collect::<String>().trim().to_string())
        .collect();
    assert_eq!(counted, ["1"], "{}", queue.text);
    let r = mk.app.form(&remove, &cookies, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.text.contains("只有草稿或被驳回的科技成果可以修改"));
    assert_eq!(stored(&mk.app).await, 1);

    // Rejected: editable again, and the owner removes it.
    let r = mk
        .app
        .post(
            &format!("/api/v1/admin/listings/{id}/review"),
            Some(&mk.admins["suaee"]),
            serde_json::json!({"decision": "reject", "reason": "请补充检测报告"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = mk.app.form(&remove, &cookies, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(stored(&mk.app).await, 0);
    let blobs: i64 = sqlx::query_scalar("select count(*) from listing_document_blobs")
        .fetch_one(&mk.app.pool)
        .await
        .unwrap();
    assert_eq!(blobs, 0, "its bytes went with it");
    let page = mk.app.page(&page_uri, &cookies).await;
    assert!(!page.text.contains("专利证书.pdf"));
}
