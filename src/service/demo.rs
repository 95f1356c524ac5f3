//! Demo data (DOMAIN.md "Demo data"): fictional organisations marked 示例 in both provinces, with
//! members and one administrator per exchange. Loaded once: a second run changes nothing.
use anyhow::Context;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::{password, CurrentUser};
use crate::db;
use crate::service::AppState;

pub const DEMO_PASSWORD: &str = "demo-password-2026";

pub struct DemoOrg {
    pub key: &'static str,
    pub name: &'static str,
    pub kind: &'static str,
    pub province: &'static str,
    pub exchange: &'static str,
    pub credit_code: &'static str,
    pub email: &'static str,
    pub person: &'static str,
}

pub const ORGS: &[DemoOrg] = &[
    DemoOrg {
        key: "chip",
        name: "示例西南微电子研究院",
        kind: "institute",
        province: "sichuan",
        exchange: "cdipex",
        credit_code: "12510000MB0A00001G",
        email: "chip@demo.techmarket.cn",
        person: "李研究员",
    },
    DemoOrg {
        key: "turbine",
        name: "示例成都燃机科技大学",
        kind: "university",
        province: "sichuan",
        exchange: "suaee",
        credit_code: "12510000MB0A00002K",
        email: "turbine@demo.techmarket.cn",
        person: "王教授",
    },
    DemoOrg {
        key: "rail",
        name: "示例蜀道轨道交通研究所",
        kind: "institute",
        province: "sichuan",
        exchange: "nttc_sw",
        credit_code: "12510000MB0A00003N",
        email: "rail@demo.techmarket.cn",
        person: "张工",
    },
    DemoOrg {
        key: "agri",
        name: "示例天府农业科学院",
        kind: "institute",
        province: "sichuan",
        exchange: "suaee",
        credit_code: "12510000MB0A00004R",
        email: "agri@demo.techmarket.cn",
        person: "陈研究员",
    },
    DemoOrg {
        key: "auto",
        name: "示例川西智能汽车研究院",
        kind: "institute",
        province: "sichuan",
        exchange: "cdipex",
        credit_code: "12510100MB0A00009E",
        email: "auto@demo.techmarket.cn",
        person: "刘博士",
    },
    DemoOrg {
        key: "equip",
        name: "示例渝州装备制造大学",
        kind: "university",
        province: "chongqing",
        exchange: "cquaee",
        credit_code: "12500000MB0A00005Q",
        email: "equip@demo.techmarket.cn",
        person: "赵教授",
    },
    DemoOrg {
        key: "materials",
        name: "示例山城新材料研究所",
        kind: "institute",
        province: "chongqing",
        exchange: "cquaee",
        credit_code: "12500000MB0A00006U",
        email: "materials@demo.techmarket.cn",
        person: "孙研究员",
    },
    DemoOrg {
        key: "shale",
        name: "示例巴渝页岩气技术有限公司",
        kind: "enterprise",
        province: "chongqing",
        exchange: "cquaee",
        credit_code: "91500000MA0B00007A",
        email: "shale@demo.techmarket.cn",
        person: "周经理",
    },
    DemoOrg {
        key: "carmaker",
        name: "示例重庆长江汽车股份有限公司",
        kind: "enterprise",
        province: "chongqing",
        exchange: "cquaee",
        credit_code: "91500000MA0B00010M",
        email: "buyer-auto@demo.techmarket.cn",
        person: "吴总工",
    },
    DemoOrg {
        key: "electronics",
        name: "示例成都锦城电子有限公司",
        kind: "enterprise",
        province: "sichuan",
        exchange: "suaee",
        credit_code: "91510100MA0B000112",
        email: "buyer-chip@demo.techmarket.cn",
        person: "郑经理",
    },
    DemoOrg {
        key: "energy",
        name: "示例重庆两江能源装备有限公司",
        kind: "enterprise",
        province: "chongqing",
        exchange: "cquaee",
        credit_code: "91500000MA0B00012U",
        email: "buyer-energy@demo.techmarket.cn",
        person: "冯总",
    },
    DemoOrg {
        key: "bank",
        name: "示例天府科技银行",
        kind: "financial_institution",
        province: "sichuan",
        exchange: "cdipex",
        credit_code: "91510100MA0B000138",
        email: "bank@demo.techmarket.cn",
        person: "钱经理",
    },
];

/// Colleagues (members, not owners) of demo organisations: (organisation key, e-mail, name).
pub const COLLEAGUES: &[(&str, &str, &str)] =
    &[("carmaker", "buyer-auto-2@demo.techmarket.cn", "周采购")];

pub const ADMINS: &[(&str, &str)] = &[
    ("suaee", "admin-suaee@demo.techmarket.cn"),
    ("cdipex", "admin-cdipex@demo.techmarket.cn"),
    ("nttc_sw", "admin-nttc@demo.techmarket.cn"),
    ("cquaee", "admin-cquaee@demo.techmarket.cn"),
];

/// Loads the demo data unless it is all there, then prints the logins.
///
/// One loader at a time across processes (a session advisory lock, released by a crash too). The
/// load counts as done only once its last step has run (`demo_state`): a process killed half-way
/// leaves it unfinished, and the next start runs the steps again — each is idempotent.
pub async fn load(pool: &PgPool) -> anyhow::Result<()> {
    let mut lock = pool.acquire().await?;
    sqlx::query("select pg_advisory_lock(7261126)")
        .execute(&mut *lock)
        .await?;
    let result = load_locked(pool).await;
    // Closing the connection releases the lock whatever happened.
    lock.close().await.ok();
    result?;
    print_logins();
    Ok(())
}

/// The demo administrators' two-factor secret, derived from the e-mail so the demo's users (and its
/// tests) can compute codes; like the demo password, it is public.
pub fn demo_otp_secret(email: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(format!("techmarket demo two-factor {email}").as_bytes())
        [..crate::domain::otp::SECRET_BYTES]
        .to_vec()
}

/// The step that marks the demo as loaded. Renamed when steps are added, so that a database
/// loaded before runs the (idempotent) steps once more and gets what is new.
const COMPLETE: &str = "complete: experts, brokers, pledges, webhook";

/// A demo user as the use cases see them (`None` if the demo has no such user).
pub(crate) async fn user(pool: &PgPool, email: &str) -> anyhow::Result<Option<CurrentUser>> {
    let mut conn = pool.acquire().await?;
    let Some(id) = db::brokers::user_by_email(&mut conn, email).await? else {
        return Ok(None);
    };
    Ok(db::users::get(&mut conn, id)
        .await?
        .map(|u| CurrentUser::from(&u)))
}

async fn load_locked(pool: &PgPool) -> anyhow::Result<()> {
    // Administrators sign in with two factors: the demo's get their published secret (also where
    // the demo was loaded before two-factor sign-in existed).
    {
        let mut conn = pool.acquire().await?;
        for (_, email) in ADMINS {
            db::two_factor::put_if_missing(&mut conn, email, &demo_otp_secret(email)).await?;
        }
    }
    let complete: bool =
        sqlx::query_scalar("select exists(select 1 from demo_state where step = $1)")
            .bind(COMPLETE)
            .fetch_one(pool)
            .await?;
    if complete {
        return Ok(());
    }
    let mut tx = pool.begin().await?;
    let loaded: bool =
        sqlx::query_scalar("select exists(select 1 from users where lower(email) = $1)")
            .bind(ADMINS[0].1)
            .fetch_one(&mut *tx)
            .await?;
    let hash = password::hash(DEMO_PASSWORD.to_string()).await?;
    if !loaded {
        for (ex, email) in ADMINS {
            let name = crate::domain::codes::Exchange::parse(ex)
                .map(|e| format!("{} 管理员", e.name_zh()))
                .unwrap_or_default();
            db::users::insert(
                &mut tx,
                &db::users::NewUser {
                    id: Uuid::now_v7(),
                    email,
                    password_hash: &hash,
                    display_name: &name,
                    role: "admin",
                    organization_id: None,
                    org_role: None,
                    admin_exchange: Some(ex),
                },
            )
            .await
            .context("demo admin")?;
        }
        for (_, email) in ADMINS {
            db::two_factor::put_if_missing(&mut tx, email, &demo_otp_secret(email)).await?;
        }
    }
    // Each organisation once, by its owner's e-mail: a demo loaded before an organisation was
    // added to `ORGS` (the bank) gets it at the next start.
    for o in ORGS {
        if db::brokers::user_by_email(&mut tx, o.email)
            .await?
            .is_some()
        {
            continue;
        }
        {
            let org_id = Uuid::now_v7();
            db::organizations::insert(
                &mut tx,
                &db::organizations::NewOrg {
                    id: org_id,
                    name: o.name,
                    kind: o.kind,
                    province: o.province,
                    exchange: o.exchange,
                    credit_code: Some(o.credit_code),
                },
            )
            .await
            .context("demo organisation")?;
            sqlx::query("update organizations set verified_at = now() where id = $1")
                .bind(org_id)
                .execute(&mut *tx)
                .await?;
            db::users::insert(
                &mut tx,
                &db::users::NewUser {
                    id: Uuid::now_v7(),
                    email: o.email,
                    password_hash: &hash,
                    display_name: o.person,
                    role: "member",
                    organization_id: Some(org_id),
                    org_role: Some("owner"),
                    admin_exchange: None,
                },
            )
            .await
            .context("demo member")?;
            for (_, email, person) in COLLEAGUES.iter().filter(|(k, ..)| *k == o.key) {
                db::users::insert(
                    &mut tx,
                    &db::users::NewUser {
                        id: Uuid::now_v7(),
                        email,
                        password_hash: &hash,
                        display_name: person,
                        role: "member",
                        organization_id: Some(org_id),
                        org_role: Some("member"),
                        admin_exchange: None,
                    },
                )
                .await
                .context("demo colleague")?;
            }
        }
    }
    tx.commit().await?;
    crate::service::fees::seed_demo(pool).await?;
    crate::service::listings::seed_demo(pool).await?;
    crate::service::demands::seed_demo(pool).await?;
    crate::service::trading::seed_demo(pool).await?;
    demo_purchases(pool).await?;
    crate::service::settlement::seed_demo(pool).await?;
    crate::service::trading::seed_demo_deposit(pool).await?;
    // The use cases below take a state; they read only its pool and clock (the system's).
    let state = AppState::new(pool.clone(), crate::config::Config::for_tests(""));
    crate::service::experts::seed_demo(&state).await?;
    crate::service::brokers::seed_demo(pool).await?;
    crate::service::pledges::seed_demo(&state).await?;
    crate::service::interconnect::seed_demo(&state).await?;
    sqlx::query("insert into demo_state (step) values ($1) on conflict do nothing")
        .bind(COMPLETE)
        .execute(pool)
        .await?;
    Ok(())
}

/// Trades of DOMAIN.md's examples: enterprises buy fixed-price achievements across the provincial
/// line (the settlement demo then moves some of them through payment and delivery).
async fn demo_purchases(pool: &PgPool) -> anyhow::Result<()> {
    use crate::domain::codes::TransactionMode;
    // Who buys what: ADC chips for a car maker's radar, a smart polymer for flexible sensors,
    // control valves for energy equipment (two of the three across the provincial line).
    let purchases = [
        (
            "buyer-auto@demo.techmarket.cn",
            "高速高精度流水线模数转换器芯片",
        ),
        (
            "buyer-chip@demo.techmarket.cn",
            "温敏型智能高分子材料及其制备方法",
        ),
        (
            "buyer-energy@demo.techmarket.cn",
            "高可靠智能调节阀及其控制方法",
        ),
    ];
    for (email, title) in purchases {
        let buyer: Option<(Uuid, String)> = sqlx::query_as(
            "select o.id, o.exchange from users u join organizations o on o.id = u.organization_id \
             where lower(u.email) = $1",
        )
        .bind(email)
        .fetch_optional(pool)
        .await?;
        let Some((buyer_org, buyer_exchange)) = buyer else {
            continue;
        };
        let mut tx = pool.begin().await?;
        let listing: Option<(Uuid, Uuid, String, i64, Vec<String>)> = sqlx::query_as(
            "select l.id, l.organization_id, l.exchange, l.price_fen, l.transaction_modes from listings l \
             where l.status = 'listed' and l.pricing_mode = 'fixed' and l.price_fen is not null \
               and l.title = $1 and l.organization_id <> $2 \
               and l.created_by in (select id from users where email like '%@demo.techmarket.cn') \
             limit 1 for update",
        )
        .bind(title)
        .bind(buyer_org)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((listing_id, seller_org, seller_exchange, price, modes)) = listing else {
            continue;
        };
        // Once only (a rerun after an interrupted load must not buy again).
        let bought: bool = sqlx::query_scalar(
            "select exists(select 1 from trades where listing_id = $1 and buyer_organization_id = $2)",
        )
        .bind(listing_id)
        .bind(buyer_org)
        .fetch_one(&mut *tx)
        .await?;
        if bought {
            continue;
        }
        // A non-exclusive licence where offered, so that showcase listings stay listed.
        let parsed: Vec<TransactionMode> = modes
            .iter()
            .filter_map(|m| TransactionMode::parse(m))
            .collect();
        let mode = parsed
            .iter()
            .copied()
            .find(|m| !m.is_exclusive())
            .or_else(|| parsed.first().copied())
            .unwrap_or(TransactionMode::Transfer);
        crate::service::trades::create(
            &mut tx,
            crate::service::trades::NewTrade {
                listing_id,
                seller_org,
                buyer_org,
                price_fen: price,
                mode,
                seller_exchange,
                buyer_exchange,
                source: "purchase",
                offer_id: None,
                now: chrono::Utc::now(),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo trade: {e}"))?;
        tx.commit().await?;
    }
    Ok(())
}

pub fn print_logins() {
    println!("演示账户 / demo logins (password 密码: {DEMO_PASSWORD})");
    for (ex, email) in ADMINS {
        println!("  admin  {ex:<8} {email}");
        if let Some(uri) = crate::domain::otp::uri(&demo_otp_secret(email), email) {
            println!("         two-factor 两步验证: {uri}");
        }
    }
    for o in ORGS {
        println!("  member {:<8} {:<32} {}", o.exchange, o.email, o.name);
        for (_, email, person) in COLLEAGUES.iter().filter(|(k, ..)| *k == o.key) {
            println!("         colleague 同事 {email} {person}");
        }
    }
}

/// N listed listings and M open demands for benchmarks.
pub async fn bulk(pool: &PgPool, listings: u32, demands: u32) -> anyhow::Result<()> {
    crate::service::listings::seed_bulk(pool, listings, demands).await
}
