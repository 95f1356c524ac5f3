//! The expert pool and evaluations (issue 21 items 1, 2 and 4): registering and deactivating
//! experts and the public directory (`pool`); panels, conflicts of interest, sealed scores,
//! closing by the last answer and by the due date (`evaluations`); the due-date job with two
//! server processes (`due`); the pages in both languages and the Done-when journey (`journey`).
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::*;

mod due;
mod evaluations;
mod journey;
mod matching;
mod pool;

/// A fresh verified organisation of `exchange` with one member (straight in the database, no
/// password hash); returns `(user_id, org_id)`.
pub(crate) async fn bare_member(
    conn: &mut sqlx::PgConnection,
    exchange: &str,
    name: &str,
) -> (String, String) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(700_000);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let province = if exchange == "cquaee" {
        "chongqing"
    } else {
        "sichuan"
    };
    let (org, user) = (Uuid::now_v7(), Uuid::now_v7());
    sqlx::query(
        "insert into organizations (id, name, kind, province, exchange, credit_code, verified_at) \
         values ($1, $2, 'university', $3, $4, $5, now())",
    )
    .bind(org)
    .bind(format!("{name}所在大学 {n}"))
    .bind(province)
    .bind(exchange)
    .bind(credit_code_in(province, n))
    .execute(&mut *conn)
    .await
    .unwrap();
    sqlx::query(
        "insert into users (id, email, password_hash, display_name, role, organization_id, org_role) \
         values ($1, $2, 'x', $3, 'member', $4, 'owner')",
    )
    .bind(user)
    .bind(format!("expert-{n}@experts.example"))
    .bind(name)
    .bind(org)
    .execute(&mut *conn)
    .await
    .unwrap();
    (user.to_string(), org.to_string())
}

/// `user_id` registered as an active expert of `fields` (straight in the database; re-activated
/// if they were one).
pub(crate) async fn expert_of(
    conn: &mut sqlx::PgConnection,
    user_id: &str,
    fields: &[&str],
) -> String {
    let id: Uuid = sqlx::query_scalar(
        "insert into experts (id, user_id, fields, title, bio, exchange, created_at) \
         values ($1, $2::uuid, $3, '研究员', '长期从事相关领域研究。', 'suaee', now()) \
         on conflict (user_id) do update set active = true, deactivated_at = null returning id",
    )
    .bind(Uuid::now_v7())
    .bind(user_id)
    .bind(fields.iter().map(|f| f.to_string()).collect::<Vec<_>>())
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    id.to_string()
}

/// A fresh expert in a fresh organisation of `exchange`.
pub(crate) async fn fresh_expert(
    app: &TestApp,
    exchange: &str,
    name: &str,
    fields: &[&str],
) -> String {
    let mut conn = app.pool.acquire().await.unwrap();
    let (user, _) = bare_member(&mut conn, exchange, name).await;
    expert_of(&mut conn, &user, fields).await
}

/// An evaluation in progress of `listing` with `experts` invited, due in `due_in` (straight in
/// the database, as the matrix's fixtures are).
pub(crate) async fn evaluation_of(
    app: &TestApp,
    listing: &str,
    experts: &[String],
    due_in: chrono::Duration,
) -> String {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into evaluations (id, listing_id, status, due_at, exchange, created_at) \
         select $1, l.id, 'in_progress', now() + $3, l.exchange, now() from listings l where l.id = $2::uuid",
    )
    .bind(id)
    .bind(listing)
    .bind(due_in)
    .execute(&app.pool)
    .await
    .unwrap();
    for (i, e) in experts.iter().enumerate() {
        sqlx::query(
            "insert into evaluation_members (evaluation_id, expert_id, position, status) values ($1, $2::uuid, $3, 'invited')",
        )
        .bind(id)
        .bind(e)
        .bind(i16::try_from(i + 1).unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    }
    id.to_string()
}

/// A member signed in as an expert: registered through the API by `admin`, fields `ic`.
pub(crate) async fn expert_member(
    app: &TestApp,
    admin: &str,
    email: &str,
    exchange: &str,
) -> (Member, String) {
    let m = app.verified_member(email, exchange).await;
    let r = app
        .post(
            "/api/v1/admin/experts",
            Some(admin),
            json!({"user_id": m.user_id, "fields": ["ic", "eit"], "title": "教授", "bio": "集成电路设计与测试。"}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    (m, id)
}

/// Scores as the scoring form sends them.
pub(crate) fn scores(trl: i64, i: i64, a: i64, m: i64, comment: &str) -> Value {
    json!({"maturity_trl": trl, "innovation": i, "advancement": a, "market": m, "comment": comment})
}

/// Due in a week, RFC 3339.
pub(crate) fn in_a_week() -> String {
    (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339()
}
