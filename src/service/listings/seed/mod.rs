//! Demo listings (DOMAIN.md "Demo data") and bulk listings and demands for benchmarks.
use std::time::Instant;

use anyhow::Context;
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use uuid::Uuid;

use super::{canonical_numbers, search_terms, validate, AuctionInput, ListingInput, PricingInput};
use crate::db;
use crate::db::listings::{BulkAuctions, BulkDemands, BulkListings};
use crate::db::match_profiles::{ProfileSource, DESCRIPTION_CHARS};
use crate::domain::codes::{Exchange, Field, IpType};
use crate::domain::patent::check_char;
use crate::domain::text::TsVectorBuilder;

/// The demo listings (data).
mod demo;
/// How bulk listings and demands are written: one transaction, fed through a channel.
mod load;
/// Words for bulk listings (data).
mod vocab;

use self::demo::DEMO;
use self::load::{Batch, Phases, Writer};
use self::vocab::{FieldVocab, GENERIC, PERSON_TITLES, PREFIXES, SUFFIXES, VOCAB};

/// A valid patent application number (12-digit form) with the given year, type digit and serial.
pub fn patent_number(year: u32, type_digit: char, serial: u32) -> String {
    let digits = format!("{year:04}{type_digit}{:07}", serial % 10_000_000);
    format!("ZL{digits}.{}", check_char(&digits))
}

// ------------------------------------------------------------------ demo

fn demo_pricing(spec: &str) -> PricingInput {
    let parts: Vec<&str> = spec.split(':').collect();
    let num = |i: usize| parts.get(i).and_then(|s| s.parse::<i64>().ok());
    match parts.first().copied() {
        Some("fixed") => PricingInput {
            mode: "fixed".into(),
            price_fen: num(1),
            auction: None,
        },
        Some("auction") => PricingInput {
            mode: "auction".into(),
            price_fen: None,
            auction: Some(AuctionInput {
                start_price_fen: num(1).unwrap_or(1),
                increment_fen: num(2).unwrap_or(1),
                reserve_fen: None,
                deposit_fen: num(4),
                ends_at: Utc::now() + Duration::days(num(3).unwrap_or(3)),
                extension_seconds: Some(300),
                starts_at: num(5).map(|h| Utc::now() + Duration::hours(h)),
            }),
        },
        _ => PricingInput {
            mode: "negotiable".into(),
            price_fen: num(1),
            auction: None,
        },
    }
}

/// Demo data of this area (DOMAIN.md "Demo data"), called once by `demo::load` after the
/// organisations and accounts exist. Idempotent: listings already there (same organisation and title) are kept.
pub async fn seed_demo(pool: &PgPool) -> anyhow::Result<()> {
    let mut tx = pool.begin().await?;
    for d in DEMO {
        let Some(org) = crate::service::demo::ORGS.iter().find(|o| o.key == d.org) else {
            continue;
        };
        let found: Option<(Uuid, String, String, Uuid)> = sqlx::query_as(
            "select o.id, o.exchange, o.province, u.id from organizations o join users u on u.organization_id = o.id \
             where o.credit_code = $1 order by u.created_at limit 1",
        )
        .bind(org.credit_code)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((org_id, exchange, province, user_id)) = found else {
            continue;
        };
        let exists: bool = sqlx::query_scalar(
            "select exists(select 1 from listings where organization_id = $1 and title = $2)",
        )
        .bind(org_id)
        .bind(d.title)
        .fetch_one(&mut *tx)
        .await?;
        if exists {
            continue;
        }
        let input = ListingInput {
            title: d.title.into(),
            summary: d.summary.into(),
            description: d.description.into(),
            field: d.field.into(),
            ip_type: d.ip_type.into(),
            ip_numbers: d.ip_numbers.iter().map(|s| s.to_string()).collect(),
            trl: d.trl,
            transaction_modes: d.modes.iter().map(|s| s.to_string()).collect(),
            keywords: d.keywords.iter().map(|s| s.to_string()).collect(),
            pricing: demo_pricing(d.pricing),
            title_en: Some(d.title_en.into()),
            summary_en: Some(d.summary_en.into()),
        };
        let content = validate(&input, Utc::now())
            .map_err(|e| anyhow::anyhow!("demo listing {} is invalid: {e}", d.title))?;
        let id = Uuid::now_v7();
        db::listings::insert(&mut tx, id, org_id, user_id, &exchange, &province, &content)
            .await
            .context("demo listing")?;
        sqlx::query("update listings set submitted_at = now() - interval '2 days', status = 'pending_review' where id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if d.status == "listed" {
            let admin: Option<Uuid> = sqlx::query_scalar(
                "select id from users where role = 'admin' and admin_exchange = $1 order by created_at limit 1",
            )
            .bind(&exchange)
            .fetch_optional(&mut *tx)
            .await?;
            sqlx::query("update listings set status = 'listed', listed_at = now() - interval '1 day', reviewed_by = $2 where id = $1")
                .bind(id)
                .bind(admin)
                .execute(&mut *tx)
                .await?;
            // An upcoming auction (a start set) stays `scheduled`: the jobs open it then.
            sqlx::query(
                "update auctions set status = 'open', opened_at = now() where listing_id = $1 \
                 and (starts_at is null or starts_at <= now())",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------ bulk

/// The bulk organisation of one exchange: created (verified, with one member) when missing.
async fn bulk_org(pool: &PgPool, ex: Exchange, n: usize) -> anyhow::Result<(Uuid, Uuid)> {
    let region = if ex.province().code() == "chongqing" {
        "500000"
    } else {
        "510100"
    };
    let body = format!("91{region}MA{:07}", 9_000_000 + n);
    let check = crate::domain::credit_code::check_char(&body)
        .ok_or_else(|| anyhow::anyhow!("bad bulk credit code {body}"))?;
    let code = format!("{body}{check}");
    let email = format!("bulk-{}@bulk.techmarket.cn", ex.code());
    let mut tx = pool.begin().await?;
    let found: Option<(Uuid, Uuid)> = sqlx::query_as(
        "select o.id, u.id from organizations o join users u on u.organization_id = o.id where o.credit_code = $1 limit 1",
    )
    .bind(&code)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(f) = found {
        return Ok(f);
    }
    let org_id = Uuid::now_v7();
    let name = format!("批量示例{}科技成果转化中心", ex.name_zh());
    db::organizations::insert(
        &mut tx,
        &db::organizations::NewOrg {
            id: org_id,
            name: &name,
            kind: "institute",
            province: ex.province().code(),
            exchange: ex.code(),
            credit_code: Some(&code),
        },
    )
    .await?;
    sqlx::query("update organizations set verified_at = now() where id = $1")
        .bind(org_id)
        .execute(&mut *tx)
        .await?;
    let user_id = Uuid::now_v7();
    let hash = crate::auth::password::hash(crate::auth::token::generate("bulk_")).await?;
    db::users::insert(
        &mut tx,
        &db::users::NewUser {
            id: user_id,
            email: &email,
            password_hash: &hash,
            display_name: "批量数据",
            role: "member",
            organization_id: Some(org_id),
            org_role: Some("owner"),
            admin_exchange: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((org_id, user_id))
}

fn pick<'a, T>(rng: &mut StdRng, v: &'a [T]) -> &'a T {
    &v[rng.gen_range(0..v.len())]
}

/// One generated listing (title, summary, description, keywords).
fn bulk_text(rng: &mut StdRng, v: &FieldVocab) -> (String, String, String, Vec<String>) {
    let subject = *pick(rng, v.subjects);
    let suffix = *pick(rng, SUFFIXES);
    let head: String = suffix.chars().take(2).collect();
    // No 「系统系统及方法」 or 「工艺工艺」.
    let suffix = if !head.is_empty() && subject.ends_with(&head) {
        ""
    } else {
        suffix
    };
    let title = format!("{}{}{}", pick(rng, PREFIXES), subject, suffix);
    let title = if rng.gen_bool(0.08) {
        format!("{title}（{}）", pick(rng, v.english))
    } else {
        title
    };
    let other = *pick(rng, v.subjects);
    let summary = format!(
        "面向{}领域的{}，{}",
        v.keywords[0],
        subject,
        pick(rng, GENERIC)
    );
    let mut desc = format!(
        "{}{}针对{}的应用需求，研制了{}。",
        pick(rng, PERSON_TITLES),
        if rng.gen_bool(0.5) { "长期" } else { "" },
        v.keywords[rng.gen_range(0..v.keywords.len())],
        subject
    );
    for _ in 0..rng.gen_range(2..5) {
        desc.push_str(GENERIC[rng.gen_range(0..GENERIC.len())]);
    }
    desc.push_str(&format!("\n\n同时可与{other}配套使用。"));
    if rng.gen_bool(0.25) {
        desc.push_str(&format!(
            "\n\nKeywords: {}; technology readiness verified in pilot production.",
            pick(rng, v.english)
        ));
    }
    let mut keywords: Vec<String> = Vec::new();
    for _ in 0..rng.gen_range(1..4) {
        let k = pick(rng, v.keywords).to_string();
        if !keywords.contains(&k) {
            keywords.push(k);
        }
    }
    (title, summary, desc, keywords)
}

/// After the load's commit, on three connections at once (a statement uses one core): statistics for
/// the planner and the visibility map (index-only scans) of the tables loaded, and the check for
/// listings without a current profile (none, unless rows were written by other means). The listings'
/// analysis is the longest (~60 % of the whole, mostly their search vectors' lexeme statistics).
async fn after_load(pool: &PgPool) -> anyhow::Result<()> {
    let statistics = async {
        db::bulk_load::analyze(&mut *pool.acquire().await?, &["listings"]).await?;
        anyhow::Ok(())
    };
    let visibility = async {
        let mut conn = pool.acquire().await?;
        db::bulk_load::vacuum(&mut conn, &["listings"], false).await?;
        db::bulk_load::vacuum(
            &mut conn,
            &["auctions", "demands", "listing_match_concepts"],
            true,
        )
        .await?;
        anyhow::Ok(())
    };
    let profiles = async {
        super::profiles::refresh_all(pool).await?;
        db::bulk_load::vacuum(
            &mut *pool.acquire().await?,
            &["listing_match_profiles"],
            true,
        )
        .await?;
        anyhow::Ok(())
    };
    tokio::try_join!(statistics, visibility, profiles)?;
    Ok(())
}

/// `techmarket seed bulk`: N listed listings and M open demands for benchmarks, in batches of 2,000.
pub async fn seed_bulk(pool: &PgPool, listings: u32, demands: u32) -> anyhow::Result<()> {
    const BATCH: usize = 2_000;
    let mut orgs = Vec::new();
    for (i, ex) in Exchange::ALL.iter().enumerate() {
        let (org, user) = bulk_org(pool, *ex, i).await?;
        orgs.push((*ex, org, user));
    }
    let mut rng = StdRng::from_entropy();
    let serial_base: u32 = rng.gen_range(0..5_000_000);
    let bar = indicatif::ProgressBar::new(u64::from(listings) + u64::from(demands));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:10} [{elapsed_precise}] {wide_bar} {pos}/{len} ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("listings");
    let now = Utc::now();
    let modes_all = [
        "transfer",
        "exclusive_license",
        "sole_license",
        "nonexclusive_license",
        "equity",
        "joint_development",
    ];
    let mut phases = Phases::default();
    let started = Instant::now();
    let writer = Writer::start(pool, bar.clone()).await?;
    let mut done: u32 = 0;
    while done < listings {
        let n = (listings - done).min(BATCH as u32) as usize;
        let mut b = BulkListings::default();
        let mut a = BulkAuctions::default();
        let mut sources = Vec::with_capacity(n);
        for k in 0..n {
            let i = done as usize + k;
            let (ex, org, user) = orgs[i % orgs.len()];
            let v = pick(&mut rng, VOCAB);
            let (title, summary, description, keywords) = bulk_text(&mut rng, v);
            let ip_type = match rng.gen_range(0..10) {
                0..=4 => IpType::InventionPatent,
                5 => IpType::UtilityModel,
                6 => IpType::PatentApplication,
                7 => IpType::SoftwareCopyright,
                8 => IpType::KnowHow,
                _ => {
                    if v.field == Field::Agri {
                        IpType::PlantVariety
                    } else {
                        IpType::DesignPatent
                    }
                }
            };
            let serial = serial_base + i as u32;
            let year = 2015 + (i as u32 % 10);
            let ip_numbers: Vec<String> = match ip_type {
                IpType::InventionPatent | IpType::PatentApplication => {
                    vec![patent_number(year, '1', serial)]
                }
                IpType::UtilityModel => vec![patent_number(year, '2', serial)],
                IpType::DesignPatent => vec![patent_number(year, '3', serial)],
                IpType::SoftwareCopyright => vec![format!("{year}SR{:07}", serial % 10_000_000)],
                IpType::PlantVariety => vec![format!("CNA{year}{:07}", serial % 10_000_000)],
                _ => Vec::new(),
            };
            let mut modes: Vec<&str> = Vec::new();
            for _ in 0..rng.gen_range(1..4) {
                let m = *pick(&mut rng, &modes_all);
                if !modes.contains(&m) {
                    modes.push(m);
                }
            }
            // Prices from 5万元 to 5亿元, log-uniform-ish, whole 万元.
            let wan: i64 = match rng.gen_range(0..10) {
                0..=3 => rng.gen_range(5..100),
                4..=7 => rng.gen_range(100..1_000),
                8 => rng.gen_range(1_000..10_000),
                _ => rng.gen_range(10_000..50_000),
            };
            let price = wan * 1_000_000;
            let id = Uuid::now_v7();
            let (mode, price_fen, sort_price) = match rng.gen_range(0..10) {
                0..=3 => ("fixed", Some(price), Some(price)),
                4..=7 => {
                    if rng.gen_bool(0.6) {
                        ("negotiable", Some(price), Some(price))
                    } else {
                        ("negotiable", None, None)
                    }
                }
                _ => {
                    a.listing_id.push(id);
                    a.start_price_fen.push(price);
                    a.increment_fen.push((price / 100).max(10_000));
                    a.reserve_fen.push(if rng.gen_bool(0.3) {
                        Some(price * 2)
                    } else {
                        None
                    });
                    a.ends_at.push(now + Duration::days(30));
                    ("auction", None, Some(price))
                }
            };
            let status = if rng.gen_range(0..100) < 96 {
                "listed"
            } else {
                *pick(&mut rng, &["draft", "pending_review", "withdrawn"])
            };
            let created = now - Duration::minutes(rng.gen_range(60..60 * 24 * 365));
            let terms = search_terms(
                &title,
                &summary,
                &keywords,
                &ip_numbers,
                &description,
                [None, None],
            );
            b.search.push(db::copy::tsvector(&terms.sorted()));
            sources.push(ProfileSource {
                id,
                title: title.clone(),
                summary: summary.clone(),
                description: description.chars().take(DESCRIPTION_CHARS).collect(),
                keywords: keywords.clone(),
            });
            b.ip_canonical.push(canonical_numbers(&ip_numbers));
            b.ip_numbers.push(ip_numbers);
            b.id.push(id);
            b.organization_id.push(org);
            b.created_by.push(user);
            b.title.push(title);
            b.summary.push(summary);
            b.description.push(description);
            b.field.push(v.field.code().to_string());
            b.ip_type.push(ip_type.code().to_string());
            b.trl.push(rng.gen_range(3..=9));
            b.transaction_modes
                .push(modes.iter().map(|m| m.to_string()).collect());
            b.keywords.push(keywords);
            b.pricing_mode.push(mode.to_string());
            b.price_fen.push(price_fen);
            b.status.push(status.to_string());
            b.exchange.push(ex.code().to_string());
            b.province.push(ex.province().code().to_string());
            b.sort_price_fen.push(sort_price);
            b.created_at.push(created);
            b.listed_at.push(
                (status == "listed")
                    .then(|| created + Duration::minutes(rng.gen_range(10..60 * 24 * 3))),
            );
        }
        // Matching profiles are computed on a blocking thread while the next batch is generated, and
        // stored with their listings: left to `profiles::refresh_all`, 100,000 of them took 95 of the
        // 131 s a 100,000-listing seed took (500 a transaction, each batch found again by an anti-join).
        let batch = Batch::Listings {
            listings: db::listings::bulk_rows(&b),
            auctions: a,
            profiles: writer.profiles(sources),
        };
        if writer.write(batch).await.is_err() {
            break;
        }
        done += n as u32;
    }
    bar.set_message("demands");
    let mut done: u32 = 0;
    while done < demands {
        let n = (demands - done).min(BATCH as u32) as usize;
        let mut b = BulkDemands::default();
        for k in 0..n {
            let i = done as usize + k;
            let (ex, org, user) = orgs[(i + 1) % orgs.len()];
            let v = pick(&mut rng, VOCAB);
            let subject = *pick(&mut rng, v.subjects);
            let title = format!(
                "寻求{}{}",
                subject,
                pick(&mut rng, &["技术合作", "成果转让", "技术许可", "联合攻关"])
            );
            let description = format!(
                "我公司计划引进{}相关技术，用于{}产品升级，{}",
                subject,
                v.keywords[0],
                pick(
                    &mut rng,
                    &[
                        "希望对方提供技术指导。",
                        "可提供中试场地。",
                        "预算可面议。",
                        "要求具备产业化经验。"
                    ]
                )
            );
            let keywords: Vec<String> = vec![pick(&mut rng, v.keywords).to_string()];
            let min_wan: i64 = rng.gen_range(10..500);
            let mut sv = TsVectorBuilder::new();
            sv.add(&title, 'A');
            for k in &keywords {
                sv.add(k, 'B');
            }
            sv.add(&description, 'D');
            b.search.push(db::copy::tsvector(&sv.sorted()));
            b.id.push(Uuid::now_v7());
            b.organization_id.push(org);
            b.created_by.push(user);
            b.title.push(title);
            b.description.push(description);
            b.field.push(v.field.code().to_string());
            b.keywords.push(keywords);
            let has_budget = rng.gen_bool(0.7);
            b.budget_min_fen
                .push(has_budget.then_some(min_wan * 1_000_000));
            b.budget_max_fen
                .push(has_budget.then_some(min_wan * 3 * 1_000_000));
            b.province.push(ex.province().code().to_string());
            b.exchange.push(ex.code().to_string());
        }
        if writer
            .write(Batch::Demands(db::listings::bulk_demand_rows(&b)))
            .await
            .is_err()
        {
            break;
        }
        done += n as u32;
    }
    bar.set_message("indexes");
    // A writer that stopped says why here.
    writer.finish(&mut phases, started).await?;
    bar.finish_with_message("vacuum");
    let t = Instant::now();
    after_load(pool).await?;
    phases.record("vacuum", t);
    phases.record("total", started);
    phases.print();
    println!("seeded {listings} listings and {demands} demands");
    Ok(())
}
