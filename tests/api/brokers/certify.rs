//! Certification: any exchange admin, one status for all four; revoking; the list.
use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn any_exchange_admin_certifies_a_member_and_every_exchange_sees_one_status(pool: PgPool) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    let member = app.verified_member("other@broker.example", "suaee").await;
    // The certifying admin (cquaee) made the cast's broker; a Sichuan admin another.
    let r = app
        .post(
            "/api/v1/admin/brokers",
            Some(&c.admin_su),
            json!({"user_id": member.user_id, "certificate_no": " 川技经证 2026-0042 "}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text);
    assert_eq!(r.body["certificate_no"], json!("川技经证 2026-0042"));
    assert_eq!(r.body["active"], json!(true));
    assert_eq!(r.body["organization"]["id"], json!(member.org_id));
    assert_eq!(r.body["user_id"], json!(member.user_id));
    // Twice: 409; another's number: 409; an admin or an unknown user: 422.
    let again = app
        .post(
            "/api/v1/admin/brokers",
            Some(&c.admin_cq),
            json!({"user_id": member.user_id, "certificate_no": "X-1"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.body["error"]["code"], json!("broker_exists"));
    let third = app.verified_member("third@broker.example", "nttc_sw").await;
    let taken = app
        .post(
            "/api/v1/admin/brokers",
            Some(&c.admin_cq),
            json!({"user_id": third.user_id, "certificate_no": "渝技经证 2026-0001"}),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
    assert_eq!(taken.body["error"]["code"], json!("certificate_no_taken"));
    let unknown = app
        .post(
            "/api/v1/admin/brokers",
            Some(&c.admin_cq),
            json!({"user_id": Uuid::now_v7(), "certificate_no": ""}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body["error"]["fields"]["user_id"].is_string());
    assert!(unknown.body["error"]["fields"]["certificate_no"].is_string());
    // Both certifications are audited.
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_log where action = 'broker.certify'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(audited, 2);
    // Members of any exchange see both in the list.
    let list = app.get("/api/v1/brokers", Some(&third.token)).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.body["total"], json!(2));
    assert_eq!(
        app.get("/api/v1/brokers", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "./migrations")]
async fn a_revoked_broker_leaves_the_list_cannot_accept_and_may_be_certified_again(pool: PgPool) {
    let app = TestApp::new(pool);
    let c = cast(&app).await;
    let t = trade(&app, &c.seller, "suaee", &c.buyer, "cquaee", 350_000_000).await;
    let e = engage(&app, &t, &c.buyer.token, &c.broker_id, "buyer", 30_000).await;
    assert_eq!(e.status, StatusCode::CREATED, "{}", e.text);
    let uri = format!("/api/v1/admin/brokers/{}/revoke", c.broker_id);
    let r = app
        .post(&uri, Some(&c.admin_su), json!({"reason": "证书过期"}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["active"], json!(false));
    let twice = app
        .post(&uri, Some(&c.admin_su), json!({"reason": "证书过期"}))
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT);
    assert_eq!(twice.body["error"]["code"], json!("broker_not_active"));
    let list = app.get("/api/v1/brokers", Some(&c.buyer.token)).await;
    assert_eq!(list.body["total"], json!(0));
    let a = accept(&app, &e.body, &c.broker.token).await;
    assert_eq!(a.status, StatusCode::CONFLICT);
    assert_eq!(a.body["error"]["code"], json!("broker_not_active"));
    // Certified again: the same id (and ledger account), active.
    let again = app
        .post(
            "/api/v1/admin/brokers",
            Some(&c.admin_cq),
            json!({"user_id": c.broker.user_id, "certificate_no": "渝技经证 2027-0001"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED, "{}", again.text);
    assert_eq!(again.body["id"], json!(c.broker_id));
    assert_eq!(again.body["active"], json!(true));
}
