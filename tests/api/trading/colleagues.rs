//! Offers belong to organisations: a colleague answers the organisation's offer, the other side's
//! colleague accepts, both see the trade, the audit log names each person; a colleague removed
//! meanwhile is refused.
use axum::http::{Method, StatusCode};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::*;

use super::*;

#[sqlx::test(migrations = "./migrations")]
async fn colleagues_act_on_their_organisations_offers(pool: PgPool) {
    let app = TestApp::new(pool);
    let seller = app.verified_member("owner@chip.cn", "suaee").await;
    let seller_li = app.colleague(&seller, "li@chip.cn", "member").await;
    let buyer = app.verified_member("owner@car.cn", "cquaee").await;
    let buyer_zhao = app.colleague(&buyer, "zhao@car.cn", "member").await;
    let id = listing(&app, &seller, "negotiable", &["transfer"], Some(40_000_000)).await;

    // The buyer's owner offers; the seller's colleague sees it and counters.
    let o = offer(&app, &id, &buyer, 30_000_000).await;
    let oid = o["id"].as_str().unwrap();
    let seen = app
        .get(
            &format!("/api/v1/listings/{id}/offers"),
            Some(&seller_li.token),
        )
        .await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.text);
    assert_eq!(seen.body["total"], json!(1));
    let c = app
        .post(
            &format!("/api/v1/offers/{oid}/counter"),
            Some(&seller_li.token),
            json!({"amount_fen": 36_000_000}),
        )
        .await;
    assert_eq!(c.status, StatusCode::CREATED, "{}", c.text);
    assert_eq!(c.body["made_by"], json!("seller"));
    let cid = c.body["id"].as_str().unwrap();
    let maker: String =
        sqlx::query_scalar("select made_by_user::text from offers where id = $1::uuid")
            .bind(cid)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        maker, seller_li.user_id,
        "the offer names the colleague who made it"
    );
    // The seller's own owner may not accept the seller's counter-offer (same party).
    let r = app
        .post(
            &format!("/api/v1/offers/{cid}/accept"),
            Some(&seller.token),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // The buyer's colleague accepts the counter-offer made to the organisation.
    let t = app
        .post(
            &format!("/api/v1/offers/{cid}/accept"),
            Some(&buyer_zhao.token),
            json!({}),
        )
        .await;
    assert_eq!(t.status, StatusCode::CREATED, "{}", t.text);
    assert_eq!(
        t.body["trade"]["buyer_organization_id"],
        json!(buyer.org_id)
    );
    assert_eq!(t.body["trade"]["price_fen"], json!(36_000_000));
    let trade = format!("/api/v1/trades/{}", t.body["trade"]["id"].as_str().unwrap());
    for m in [&seller, &seller_li, &buyer, &buyer_zhao] {
        let r = app.get(&trade, Some(&m.token)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{} sees the trade: {}",
            m.email,
            r.text
        );
    }
    let accepted: Vec<(String, String)> =
        sqlx::query_as("select actor, target_id from audit_log where action = 'offer.accept'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(accepted, [("zhao@car.cn".to_string(), cid.to_string())]);
    // The inbox is the organisation's: the seller's colleague hears of the sale.
    let cookies = web_login(&app, &seller_li.email).await;
    let inbox = app.page("/inbox", &cookies).await;
    assert!(inbox.text.contains("/trades/"), "{}", inbox.text);

    // Once removed, the colleague no longer acts for (or sees) the organisation's trades.
    let r = app
        .call(
            Method::DELETE,
            &format!("/api/v1/organization/members/{}", seller_li.user_id),
            Some(&seller.token),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
    let r = app.get(&trade, Some(&seller_li.token)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let again = app.login(&seller_li.email, PASSWORD).await;
    let token = again.body["token"].as_str().unwrap();
    assert_eq!(
        app.get(&trade, Some(token)).await.status,
        StatusCode::NOT_FOUND
    );
    let other = listing(&app, &seller, "negotiable", &["transfer"], Some(40_000_000)).await;
    let o2 = offer(&app, &other, &buyer_zhao, 31_000_000).await;
    let r = app
        .post(
            &format!("/api/v1/offers/{}/reject", o2["id"].as_str().unwrap()),
            Some(token),
            json!({}),
        )
        .await;
    assert!(
        matches!(r.status.as_u16(), 403 | 404),
        "a former colleague cannot answer the organisation's offers: {} {}",
        r.status,
        r.text
    );
}
