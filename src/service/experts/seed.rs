//! Demo data of the expert pool: five experts from both provinces (bilingual bios), one listing
//! whose panel of three has scored (the report published on the listing's page) and one panel
//! waiting for the demo's member (李研究员 of the chip institute), so `/evaluations` shows a form.
//! Everything goes through the use cases (audited, notices written); idempotent: an expert is
//! registered once, and a listing that has an evaluation gets no second one.
use chrono::{Duration, Utc};
use uuid::Uuid;

use crate::db;
use crate::service::demo::user;
use crate::service::AppState;

use super::{EvaluationInput, ExpertInput, ScoreInput};

/// (member's e-mail, fields, title, bio).
const EXPERTS: &[(&str, &[&str], &str, &str)] = &[
    (
        "chip@demo.techmarket.cn",
        &["ic", "eit"],
        "研究员、博士生导师",
        "长期从事高速模数转换器与混合信号集成电路设计，主持国家重点研发计划课题两项。\nResearch professor in high-speed data converters and mixed-signal IC design; led two national key R&D projects.",
    ),
    (
        "turbine@demo.techmarket.cn",
        &["aerospace", "energy", "equipment"],
        "教授",
        "燃气轮机气动热力学与叶片冷却专家，参与多型重型燃机国产化攻关。\nProfessor of gas-turbine aerothermodynamics and blade cooling; worked on localising several heavy-duty turbines.",
    ),
    (
        "equip@demo.techmarket.cn",
        &["equipment", "rail", "auto"],
        "教授、高级工程师",
        "智能装备与机械传动领域专家，熟悉轨道交通转向架及齿轮传动系统的设计与试验。\nProfessor and senior engineer in intelligent equipment and mechanical drives, rail bogies and gear trains.",
    ),
    (
        "materials@demo.techmarket.cn",
        &["materials", "eco"],
        "研究员",
        "功能高分子与防腐涂层材料专家，多项成果实现产业化。\nResearch professor in functional polymers and anti-corrosion coatings; several results in industrial production.",
    ),
    (
        "agri@demo.techmarket.cn",
        &["agri", "food"],
        "研究员",
        "油菜遗传育种专家，主持选育品种十余个。\nResearch professor in rapeseed breeding; has bred more than ten registered varieties.",
    ),
];

/// (listing's title, the administrator who opens the panel, the panel's e-mails, their scores
/// as (TRL, innovation, advancement, market, comment); none: the panel waits).
type Panel = (
    &'static str,
    &'static str,
    &'static [&'static str],
    Option<&'static [(i64, i64, i64, i64, &'static str)]>,
);

const PANELS: &[Panel] = &[
    (
        "山区齿轨列车关键技术及转向架",
        "admin-nttc@demo.techmarket.cn",
        &[
            "turbine@demo.techmarket.cn",
            "equip@demo.techmarket.cn",
            "materials@demo.techmarket.cn",
        ],
        Some(&[
            (7, 4, 4, 4, "齿轨转向架已完成线路试验，建议补充长期运营可靠性数据。The rack bogie has passed line tests; long-term reliability data would strengthen it."),
            (7, 5, 4, 4, "齿轮传动与制动方案设计先进，国内山区旅游线路需求明确。Advanced gear drive and braking design with clear demand on mountain lines."),
            (6, 4, 4, 3, "关键部件材料国产化程度较高，成本仍需优化。Key parts are largely made at home; costs still need work."),
        ]),
    ),
    (
        "超静音智能钻机",
        "admin-cquaee@demo.techmarket.cn",
        &[
            "chip@demo.techmarket.cn",
            "turbine@demo.techmarket.cn",
            "agri@demo.techmarket.cn",
        ],
        None,
    ),
];

/// Demo data of this area, called by `demo::load` after the listings and trades exist.
pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let pool = &state.pool;
    let Some(admin) = user(pool, "admin-suaee@demo.techmarket.cn").await? else {
        return Ok(());
    };
    let mut ids = std::collections::HashMap::new();
    for (email, fields, title, bio) in EXPERTS {
        let Some(member) = user(pool, email).await? else {
            continue;
        };
        let mut conn = pool.acquire().await?;
        let existing = db::experts::by_user(&mut conn, member.id).await?;
        drop(conn);
        let id = match existing {
            Some(e) => e.id,
            None => {
                super::register(
                    state,
                    &admin,
                    ExpertInput {
                        user_id: member.id,
                        fields: fields.iter().map(|f| f.to_string()).collect(),
                        title: title.to_string(),
                        bio: bio.to_string(),
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("demo expert {email}: {e}"))?
                .id
            }
        };
        ids.insert(*email, id);
    }
    for (title, admin_email, panel, scores) in PANELS {
        let listing: Option<Uuid> = sqlx::query_scalar(
            "select id from listings where title = $1 and status = 'listed' \
               and created_by in (select id from users where email like '%@demo.techmarket.cn') \
             order by listed_at limit 1",
        )
        .bind(title)
        .fetch_optional(pool)
        .await?;
        let (Some(listing), Some(admin)) = (listing, user(pool, admin_email).await?) else {
            continue;
        };
        let mut conn = pool.acquire().await?;
        if !db::evaluations::for_listing(&mut conn, listing)
            .await?
            .is_empty()
        {
            continue;
        }
        drop(conn);
        let expert_ids: Vec<Uuid> = panel.iter().filter_map(|e| ids.get(e).copied()).collect();
        let opened = super::open(
            state,
            &admin,
            listing,
            EvaluationInput {
                expert_ids,
                due_at: Utc::now() + Duration::days(30),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("demo evaluation of {title}: {e}"))?;
        for (email, s) in panel.iter().zip(scores.iter().flat_map(|s| s.iter())) {
            let Some(expert) = user(pool, email).await? else {
                continue;
            };
            super::score(
                state,
                &expert,
                opened.id,
                ScoreInput {
                    maturity_trl: s.0,
                    innovation: s.1,
                    advancement: s.2,
                    market: s.3,
                    comment: s.4.to_string(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("demo scores of {email}: {e}"))?;
        }
    }
    Ok(())
}
