//! The demo demands of DOMAIN.md "Demo data".
use sqlx::PgPool;
use uuid::Uuid;

use crate::db;

use super::{demand_vector, on_listing_listed};

/// The demo demands of DOMAIN.md: enterprise demands that match some demo listings.
pub async fn seed_demo(pool: &PgPool) -> anyhow::Result<()> {
    type Demo<'a> = (
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        &'a [&'a str],
        Option<i64>,
        Option<i64>,
    );
    let demos: &[Demo] = &[
        (
            "91500000MA0B00010M",
            "寻求自动紧急制动算法",
            "我公司为重庆整车企业，计划在新款SUV上搭载自动紧急制动（AEB）功能，寻求成熟的感知融合与制动控制算法，可转让或独占许可。",
            "auto",
            &["自动紧急制动", "AEB", "制动控制"],
            Some(200_000_000),
            Some(800_000_000),
        ),
        (
            "91510100MA0B000112",
            "寻求高速模数转换器芯片设计技术",
            "用于5G基站射频前端，需要12位以上、采样率1GSPS级的流水线ADC芯片设计及IP授权。",
            "ic",
            &["模数转换器", "ADC", "芯片"],
            Some(500_000_000),
            Some(3_000_000_000),
        ),
        (
            "91500000MA0B00012U",
            "重型燃气轮机关键技术合作",
            "面向分布式能源项目，寻求F级重型燃气轮机燃烧室与透平叶片相关技术的转让或合作开发。",
            "energy",
            &["燃气轮机", "透平叶片"],
            None,
            Some(20_000_000_000),
        ),
    ];
    // The English title and summary of each (English pages show them).
    let english = |title: &str| -> (&'static str, &'static str) {
        match title {
            "寻求自动紧急制动算法" => (
                "Seeking an automatic emergency braking algorithm",
                "A Chongqing carmaker seeks mature perception-fusion and brake-control algorithms for AEB on a new SUV, by transfer or exclusive licence.",
            ),
            "寻求高速模数转换器芯片设计技术" => (
                "Seeking high-speed ADC chip design technology",
                "For 5G base-station RF front ends: a pipelined ADC design of 12 bits or more at about 1 GSPS, with an IP licence.",
            ),
            _ => (
                "Cooperation on heavy-duty gas turbine technology",
                "For distributed energy projects: transfer of, or joint development on, F-class gas turbine combustor and turbine blade technology.",
            ),
        }
    };
    let mut conn = pool.acquire().await?;
    for (code, title, description, field, keywords, min, max) in demos {
        let (title_en, summary_en) = english(title);
        let row: Option<(Uuid, String, String, Uuid)> = sqlx::query_as(
            "select o.id, o.province, o.exchange, u.id from organizations o join users u on u.organization_id = o.id \
             where o.credit_code = $1 limit 1",
        )
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((org, province, exchange, user)) = row else {
            continue;
        };
        let keywords: Vec<String> = keywords.iter().map(|s| s.to_string()).collect();
        let exists: bool = sqlx::query_scalar(
            "select exists(select 1 from demands where organization_id = $1 and title = $2)",
        )
        .bind(org)
        .bind(title)
        .fetch_one(&mut *conn)
        .await?;
        if exists {
            continue;
        }
        db::demands::insert(
            &mut conn,
            &db::demands::NewDemand {
                id: Uuid::now_v7(),
                organization_id: org,
                created_by: user,
                title,
                description,
                field,
                keywords: &keywords,
                budget_min_fen: *min,
                budget_max_fen: *max,
                deadline: None,
                province: &province,
                exchange: &exchange,
                search: &demand_vector(
                    title,
                    &keywords,
                    description,
                    [Some(title_en), Some(summary_en)],
                ),
                title_en: Some(title_en),
                summary_en: Some(summary_en),
            },
        )
        .await?;
    }
    // Notify for demo listings that fit (listings were seeded before demands).
    let listed: Vec<Uuid> = sqlx::query_scalar("select id from listings where status = 'listed'")
        .fetch_all(&mut *conn)
        .await?;
    for id in listed {
        on_listing_listed(&mut conn, id)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(())
}
