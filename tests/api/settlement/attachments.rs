//! Delivery attachments (issue 15 item 5): the seller attaches files to its delivery while the
//! trade is paid or delivered; the parties and the admins of both parties' exchanges download
//! them, everyone else gets 404; the content check and the limits of listing documents; the trade
//! page lists them and carries the seller's multipart form.
use super::*;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// A multipart body with `_csrf` (when given) and one file in the field `file`.
fn multipart(csrf: Option<&str>, name: &str, data: &[u8]) -> (String, Vec<u8>) {
    let boundary = "techmarket-attachment-boundary";
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
             Content-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn attach(app: &TestApp, id: &str, token: &str, name: &str, data: &[u8]) -> Resp {
    let (ct, body) = multipart(None, name, data);
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/trades/{id}/delivery/attachments"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, ct)
        .body(Body::from(body))
        .unwrap();
    app.send(req).await
}

async fn stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from delivery_attachments")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "./migrations")]
async fn the_seller_attaches_and_the_parties_and_their_admins_download(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let stranger = party(&app, "x@example.cn", "cdipex").await;
    let buyer_admin = app.admin("cquaee").await;
    let seller_admin = app.admin("suaee").await;
    let other_admin = app.admin("cdipex").await;
    let id = new_trade(&app, &seller, &buyer, 350_000_000).await;

    // Not before payment.
    let r = attach(&app, &id, &seller.m.token, "交付清单.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(pay(&app, &id, &buyer_admin).await.status, StatusCode::OK);

    // Only the seller: the buyer and admins are refused, a stranger does not see the trade.
    let r = attach(&app, &id, &buyer.m.token, "x.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("seller_only"));
    let r = attach(&app, &id, &stranger.m.token, "x.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    let r = attach(&app, &id, &seller_admin, "x.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    assert_eq!(stored(&app).await, 0, "nothing stored by a refusal");

    // A file named .pdf that is not one, and one over 10 MiB.
    let r = attach(
        &app,
        &id,
        &seller.m.token,
        "fake.pdf",
        b"hello, I am a PDF, trust me",
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text);
    assert!(r.body["error"]["fields"]["file"].is_string(), "{}", r.body);
    let mut big = PDF.to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    let r = attach(&app, &id, &seller.m.token, "big.pdf", &big).await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", r.text);
    assert_eq!(stored(&app).await, 0);

    // The seller attaches while paid.
    let r = attach(&app, &id, &seller.m.token, "C:\\交付\\交付清单.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["name"], json!("交付清单.pdf"));
    assert_eq!(r.body["content_type"], json!("application/pdf"));
    assert_eq!(r.body["size_bytes"], json!(PDF.len()));
    let aid = r.body["id"].as_str().unwrap().to_string();
    let url = format!("/api/v1/trades/{id}/delivery/attachments/{aid}");
    assert_eq!(r.body["url"], json!(url));

    // The trade JSON lists it to the parties and their exchanges' admins.
    for token in [&buyer.m.token, &seller.m.token, &buyer_admin, &seller_admin] {
        let t = app.get(&format!("/api/v1/trades/{id}"), Some(token)).await;
        assert_eq!(t.status, StatusCode::OK, "{}", t.text);
        let list = t.body["delivery_attachments"].as_array().unwrap();
        assert_eq!(list.len(), 1, "{}", t.body);
        assert_eq!(list[0]["id"], json!(aid));
        assert_eq!(list[0]["url"], json!(url));
    }
    // An admin of another exchange reads the trade but not its attachments.
    let t = app
        .get(&format!("/api/v1/trades/{id}"), Some(&other_admin))
        .await;
    assert_eq!(t.status, StatusCode::OK);
    assert_eq!(t.body["delivery_attachments"], json!([]));

    // Downloads: the buyer and both admins get the bytes, as a download; others 404.
    for token in [&buyer.m.token, &buyer_admin, &seller_admin, &seller.m.token] {
        let d = app.get(&url, Some(token)).await;
        assert_eq!(d.status, StatusCode::OK);
        assert_eq!(d.text.as_bytes(), PDF);
        assert_eq!(d.headers["content-type"], "application/pdf");
        assert!(d.headers["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;"));
        assert_eq!(d.headers["x-content-type-options"], "nosniff");
    }
    for token in [&stranger.m.token, &other_admin] {
        assert_eq!(
            app.get(&url, Some(token)).await.status,
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(app.get(&url, None).await.status, StatusCode::UNAUTHORIZED);
    let elsewhere = format!(
        "/api/v1/trades/{}/delivery/attachments/{aid}",
        Uuid::now_v7()
    );
    assert_eq!(
        app.get(&elsewhere, Some(&buyer.m.token)).await.status,
        StatusCode::NOT_FOUND
    );

    // After delivery still; after settlement no more.
    let r = app
        .post(
            &format!("/api/v1/trades/{id}/delivery"),
            Some(&seller.m.token),
            json!({ "note": "源代码与技术资料已交付" }),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = attach(&app, &id, &seller.m.token, "补充.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(
        confirm(&app, &id, &buyer.m.token).await.status,
        StatusCode::OK
    );
    let r = attach(&app, &id, &seller.m.token, "迟到.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("invalid_trade_state"));
    assert_eq!(stored(&app).await, 2);
    // Still downloadable after settlement.
    assert_eq!(
        app.get(&url, Some(&buyer.m.token)).await.status,
        StatusCode::OK
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn at_most_ten_per_trade(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "suaee").await;
    let admin = app.admin("suaee").await;
    let id = new_trade(&app, &seller, &buyer, 3_000_000).await;
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);
    for i in 0..10 {
        let r = attach(&app, &id, &seller.m.token, &format!("第{i}份.pdf"), PDF).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    }
    let r = attach(&app, &id, &seller.m.token, "第11份.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    assert_eq!(r.body["error"]["code"], json!("too_many_attachments"));
    assert_eq!(stored(&app).await, 10);
}

#[sqlx::test(migrations = "./migrations")]
async fn the_trade_page_lists_them_and_the_seller_uploads_with_its_token(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = party(&app, "s@example.cn", "suaee").await;
    let buyer = party(&app, "b@example.cn", "cquaee").await;
    let admin = app.admin("cquaee").await;
    let id = new_trade(&app, &seller, &buyer, 3_000_000).await;
    assert_eq!(pay(&app, &id, &admin).await.status, StatusCode::OK);

    let cookies = web_login(&app, "s@example.cn").await;
    let page = app.page(&format!("/trades/{id}"), &cookies).await;
    assert_eq!(page.status, StatusCode::OK);
    let action = format!("/trades/{id}/delivery/attachments");
    assert!(
        page.text.contains(&format!(
            "action=\"{action}\" enctype=\"multipart/form-data\""
        )),
        "{}",
        page.text
    );
    let csrf = input_value(&page.text, "_csrf").unwrap();
    let send = |csrf: Option<String>, name: &'static str, data: &'static [u8]| {
        let (ct, body) = multipart(csrf.as_deref(), name, data);
        let req = Request::builder()
            .method(Method::POST)
            .uri(&action)
            .header(header::COOKIE, &cookies)
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap();
        app.send(req)
    };

    // Without the token: 403, nothing stored.
    let r = send(None, "交付清单.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(stored(&app).await, 0);
    // Not a PDF: back to the page with a sentence, in Chinese and in English.
    let r = send(Some(csrf.clone()), "fake.pdf", b"not a pdf at all").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let back = r.headers["location"].to_str().unwrap().to_string();
    let zh = app.page(&back, &cookies).await;
    assert!(
        zh.text.contains("只能上传 PDF、PNG 或 JPEG 文件"),
        "{}",
        zh.text
    );
    let en = app.page(&back.replace('#', "&lang=en#"), &cookies).await;
    assert!(
        en.text.contains("Only PDF, PNG or JPEG files are accepted"),
        "{}",
        en.text
    );
    assert_eq!(stored(&app).await, 0);

    let r = send(Some(csrf), "交付清单.pdf", PDF).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(stored(&app).await, 1);

    // The buyer's page lists it with a download link that works with the session.
    let buyer_cookies = web_login(&app, "b@example.cn").await;
    let page = app.page(&format!("/trades/{id}"), &buyer_cookies).await;
    assert!(page.text.contains("交付清单.pdf"), "{}", page.text);
    assert!(
        !page.text.contains(&format!("action=\"{action}\"")),
        "no form for the buyer"
    );
    let aid: Uuid = sqlx::query_scalar("select id from delivery_attachments")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let link = format!("/trades/{id}/delivery/attachments/{aid}");
    assert!(page.text.contains(&link));
    let d = app.page(&link, &buyer_cookies).await;
    assert_eq!(d.status, StatusCode::OK);
    assert_eq!(d.text.as_bytes(), PDF);
}
