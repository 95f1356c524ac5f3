//! Demo listings (DOMAIN.md "Demo data") and bulk listings and demands for benchmarks.
use anyhow::Context;
use chrono::{Duration, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::PgPool;
use uuid::Uuid;

use super::{canonical_numbers, search_vector, validate, AuctionInput, ListingInput, PricingInput};
use crate::db;
use crate::db::listings::{BulkAuctions, BulkDemands, BulkListings, ARRAY_SEP};
use crate::domain::codes::{Exchange, Field, IpType};
use crate::domain::patent::check_char;
use crate::domain::text::TsVectorBuilder;

/// A valid patent application number (12-digit form) with the given year, type digit and serial.
pub fn patent_number(year: u32, type_digit: char, serial: u32) -> String {
    let digits = format!("{year:04}{type_digit}{:07}", serial % 10_000_000);
    format!("ZL{digits}.{}", check_char(&digits))
}

// ------------------------------------------------------------------ demo

struct DemoListing {
    org: &'static str,
    title: &'static str,
    summary: &'static str,
    description: &'static str,
    field: &'static str,
    ip_type: &'static str,
    ip_numbers: &'static [&'static str],
    trl: i64,
    modes: &'static [&'static str],
    keywords: &'static [&'static str],
    /// `fixed:<fen>`, `negotiable`, `negotiable:<fen>`, `auction:<start>:<increment>:<days>`
    pricing: &'static str,
    status: &'static str,
}

const DEMO: &[DemoListing] = &[
    DemoListing {
        org: "chip",
        title: "高速高精度流水线模数转换器芯片",
        summary: "14位 250MSPS 流水线结构模数转换器（ADC chip），采用自主校准算法，无杂散动态范围优于 85dB，可替代同类进口芯片。",
        description: "本成果面向5G通信基站、雷达和高端仪器仪表对高速高精度模数转换的需求，研制了14位250MSPS流水线模数转换器芯片。\n\n芯片采用无采保放大器前端和数字后台校准技术，在0.18微米CMOS工艺上实现，功耗低于400毫瓦。已完成流片和可靠性测试，样片在多家整机单位试用。\n\nThe pipelined ADC chip reaches 85 dB SFDR at 250 MSPS and is pin-compatible with common imported parts.",
        field: "ic",
        ip_type: "invention_patent",
        ip_numbers: &["ZL201710601862.3"],
        trl: 7,
        modes: &["transfer", "exclusive_license", "nonexclusive_license"],
        keywords: &["模数转换器", "ADC", "流水线", "芯片", "数字校准"],
        pricing: "fixed:350000000",
        status: "listed",
    },
    DemoListing {
        org: "turbine",
        title: "F级50兆瓦重型燃气轮机",
        summary: "自主设计的F级50MW重型燃气轮机（heavy-duty gas turbine）总体方案与高温透平叶片冷却技术，联合循环效率超过58%。",
        description: "成果包括F级50兆瓦重型燃气轮机总体气动设计、燃烧室低氮燃烧技术及高温透平叶片气膜冷却结构。\n\n整机已完成全速空载试验，燃烧室氮氧化物排放低于25ppm。适用于分布式能源站、调峰电站和海上平台。\n\nKey results: F-class 50 MW gas turbine, dry low-NOx combustor, film-cooled turbine blades.",
        field: "aerospace",
        ip_type: "invention_patent",
        ip_numbers: &["ZL202110123456.7"],
        trl: 6,
        modes: &["transfer", "equity", "joint_development"],
        keywords: &["燃气轮机", "透平叶片", "低氮燃烧", "gas turbine"],
        pricing: "auction:800000000:10000000:5",
        status: "listed",
    },
    DemoListing {
        org: "rail",
        title: "山区齿轨列车关键技术及转向架",
        summary: "适用于大坡度山区线路的齿轨列车（rack railway）齿轮啮合转向架与制动系统，最大爬坡能力 120‰。",
        description: "针对川西山区旅游线路坡度大、曲线半径小的特点，研制了齿轨与黏着混合驱动的齿轨列车转向架。\n\n成果包括齿轮齿条啮合动力学设计、多重冗余制动系统和齿轨道岔，已在试验线完成 1 万公里运行考核。",
        field: "rail",
        ip_type: "utility_model",
        ip_numbers: &["ZL202320123456.1"],
        trl: 7,
        modes: &["exclusive_license", "nonexclusive_license"],
        keywords: &["齿轨列车", "转向架", "山地轨道交通"],
        pricing: "negotiable:120000000",
        status: "listed",
    },
    DemoListing {
        org: "equip",
        title: "超静音智能钻机",
        summary: "面向城市施工的超静音智能钻机，整机噪声低于 75 分贝，具备钻进参数自适应控制。",
        description: "采用电液混合驱动和主动降噪罩体设计，整机噪声比传统钻机降低 20 分贝以上。\n\n钻进控制系统根据地层反馈自动调节转速与给进压力，钻进效率提高 15%。已在重庆多个市政工程中应用。",
        field: "equipment",
        ip_type: "invention_patent",
        ip_numbers: &["ZL201910234567.8"],
        trl: 8,
        modes: &["transfer", "nonexclusive_license"],
        keywords: &["钻机", "静音", "智能控制"],
        pricing: "fixed:68000000",
        status: "listed",
    },
    DemoListing {
        org: "agri",
        title: "高油酸双低油菜新品种“天府油12号”",
        summary: "高油酸（含量 75% 以上）双低油菜品种，抗菌核病，适宜四川盆地及长江上游冬油菜区种植。",
        description: "该品种经多年选育，油酸含量稳定在 75% 以上，芥酸和硫苷含量低，亩产比对照增产 8.6%。\n\n已获植物新品种权，配套高产栽培技术规程，适合种业企业独占许可经营。",
        field: "agri",
        ip_type: "plant_variety",
        ip_numbers: &["CNA20191001234"],
        trl: 9,
        modes: &["exclusive_license", "nonexclusive_license"],
        keywords: &["油菜", "高油酸", "新品种"],
        pricing: "negotiable",
        status: "listed",
    },
    DemoListing {
        org: "auto",
        title: "基于多传感器融合的汽车自动紧急制动系统",
        summary: "毫米波雷达与摄像头融合的自动紧急制动（AEB）系统，满足 C-NCAP 2024 版测试要求。",
        description: "系统融合前向毫米波雷达和单目摄像头目标，采用时间碰撞预测与分级制动策略，对行人、两轮车和车辆目标均有效。\n\n已完成整车道路测试 20 万公里，误触发率低于万分之一。",
        field: "auto",
        ip_type: "invention_patent",
        ip_numbers: &["ZL202010345678.9"],
        trl: 7,
        modes: &["nonexclusive_license", "joint_development"],
        keywords: &["自动紧急制动", "AEB", "传感器融合", "智能网联汽车"],
        pricing: "fixed:150000000",
        status: "listed",
    },
    DemoListing {
        org: "auto",
        title: "远程智能泊车系统",
        summary: "手机远程遥控的自动泊车系统，支持垂直、平行和斜列车位，泊入成功率 98%。",
        description: "基于环视摄像头和超声波雷达的车位识别，结合路径规划与车辆横纵向控制，实现车外手机一键泊车。\n\n软件已取得著作权登记，可按车型平台授权。",
        field: "auto",
        ip_type: "software_copyright",
        ip_numbers: &["2022SR0456789"],
        trl: 6,
        modes: &["nonexclusive_license"],
        keywords: &["智能泊车", "远程泊车", "自动驾驶"],
        pricing: "negotiable",
        status: "listed",
    },
    DemoListing {
        org: "equip",
        title: "高可靠智能调节阀及其控制方法",
        summary: "集成阀位自诊断与自整定控制的智能调节阀，适用于化工、电力流程控制。",
        description: "调节阀内置智能定位器，具备阀位自诊断、摩擦力在线辨识和控制参数自整定功能。\n\n平均无故障时间超过 5 万小时，已在长江沿岸化工园区应用。",
        field: "equipment",
        ip_type: "invention_patent",
        ip_numbers: &["ZL201810456789.X"],
        trl: 8,
        modes: &["transfer", "exclusive_license"],
        keywords: &["调节阀", "智能定位器", "流程控制"],
        pricing: "fixed:45000000",
        status: "listed",
    },
    DemoListing {
        org: "equip",
        title: "数控高速干切滚齿机",
        summary: "无切削液的高速干切数控滚齿机，加工效率提高 30%，适用于汽车变速箱齿轮。",
        description: "采用高刚性立式床身和热变形补偿技术，实现齿轮高速干式滚切，免除切削液污染。\n\n配套自主数控系统和齿轮加工工艺数据库。",
        field: "equipment",
        ip_type: "invention_patent",
        ip_numbers: &["ZL201610567890.3"],
        trl: 9,
        modes: &["transfer", "nonexclusive_license"],
        keywords: &["滚齿机", "干切", "数控机床", "齿轮加工"],
        pricing: "auction:30000000:1000000:3",
        status: "listed",
    },
    DemoListing {
        org: "shale",
        title: "深层页岩气水平井高效压裂与勘探开发技术",
        summary: "针对川渝地区深层页岩气的地质工程一体化勘探与体积压裂技术，单井测试产量提高 25%。",
        description: "成果包括深层页岩气甜点预测、水平井轨迹优化和密切割体积压裂工艺。\n\n已在重庆南川区块和四川威远区块应用。",
        field: "energy",
        ip_type: "invention_patent",
        ip_numbers: &["ZL202110678901.6"],
        trl: 8,
        modes: &["nonexclusive_license", "joint_development"],
        keywords: &["页岩气", "水平井", "压裂", "勘探"],
        pricing: "negotiable:200000000",
        status: "listed",
    },
    DemoListing {
        org: "materials",
        title: "温敏型智能高分子材料及其制备方法",
        summary: "相变温度可调的温敏智能高分子材料，可用于智能窗、药物缓释和柔性传感器。",
        description: "通过可控自由基聚合合成的温敏智能高分子，相变温度在 25 至 45 摄氏度间可调，循环稳定性超过 1000 次。\n\n已完成公斤级中试制备。",
        field: "materials",
        ip_type: "invention_patent",
        ip_numbers: &["ZL202010789012.2"],
        trl: 5,
        modes: &["transfer", "equity"],
        keywords: &["智能材料", "高分子", "温敏"],
        pricing: "fixed:8000000",
        status: "listed",
    },
    DemoListing {
        org: "materials",
        title: "石墨烯改性防腐涂料",
        summary: "石墨烯改性的水性重防腐涂料，耐盐雾 3000 小时，适用于桥梁和海洋工程。",
        description: "采用石墨烯片层阻隔与缓蚀协同机理，涂层耐盐雾性能达到 3000 小时。\n\n待交易机构审核。",
        field: "materials",
        ip_type: "invention_patent",
        ip_numbers: &["ZL202210890123.1"],
        trl: 6,
        modes: &["transfer", "nonexclusive_license"],
        keywords: &["石墨烯", "防腐涂料"],
        pricing: "negotiable",
        status: "pending_review",
    },
];

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
                ends_at: Utc::now() + Duration::days(num(3).unwrap_or(3)),
                extension_seconds: Some(300),
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
        let Some(org) = crate::demo::ORGS.iter().find(|o| o.key == d.org) else {
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
            sqlx::query(
                "update auctions set status = 'open', opened_at = now() where listing_id = $1",
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

struct FieldVocab {
    field: Field,
    subjects: &'static [&'static str],
    keywords: &'static [&'static str],
    english: &'static [&'static str],
}

const VOCAB: &[FieldVocab] = &[
    FieldVocab {
        field: Field::Auto,
        subjects: &[
            "自动紧急制动系统",
            "远程智能泊车系统",
            "动力电池热管理系统",
            "车载毫米波雷达",
            "线控转向系统",
            "燃料电池汽车动力总成",
            "车用功率芯片模块",
        ],
        keywords: &["智能网联汽车", "新能源汽车", "自动驾驶", "动力电池"],
        english: &[
            "automatic emergency braking",
            "smart parking",
            "battery pack",
        ],
    },
    FieldVocab {
        field: Field::Eit,
        subjects: &[
            "光纤传感网络",
            "高速光模块",
            "射频前端芯片",
            "柔性显示驱动电路",
            "工业物联网网关",
        ],
        keywords: &["电子信息", "物联网", "光通信"],
        english: &["optical module", "RF front-end", "IoT gateway"],
    },
    FieldVocab {
        field: Field::Ic,
        subjects: &[
            "高速高精度模数转换器芯片",
            "低功耗蓝牙芯片",
            "流水线模数转换器",
            "电源管理芯片",
            "图像传感器芯片",
            "存算一体芯片",
            "数模转换器芯片",
        ],
        keywords: &["集成电路", "芯片", "模数转换器", "低功耗"],
        english: &["ADC chip", "SoC", "power management IC"],
    },
    FieldVocab {
        field: Field::Ai,
        subjects: &[
            "工业视觉缺陷检测算法",
            "大语言模型推理加速框架",
            "智能语音识别引擎",
            "知识图谱构建平台",
        ],
        keywords: &["人工智能", "深度学习", "机器视觉"],
        english: &["deep learning", "computer vision", "LLM inference"],
    },
    FieldVocab {
        field: Field::Digital,
        subjects: &[
            "数据安全防护平台",
            "区块链存证系统",
            "工业互联网标识解析",
            "网络攻击溯源系统",
        ],
        keywords: &["网络安全", "数字经济", "区块链"],
        english: &["cybersecurity", "blockchain", "data security"],
    },
    FieldVocab {
        field: Field::Equipment,
        subjects: &[
            "超静音智能钻机",
            "智能调节阀",
            "数控高速干切滚齿机",
            "燃气轮机叶片激光熔覆装备",
            "工业机器人关节减速器",
        ],
        keywords: &["智能装备", "装备制造", "数控机床"],
        english: &["CNC machine", "robot reducer", "control valve"],
    },
    FieldVocab {
        field: Field::Aerospace,
        subjects: &[
            "重型燃气轮机",
            "燃气轮机燃烧室",
            "燃气轮机透平叶片冷却结构",
            "航空发动机涡轮盘",
            "微型燃气轮机发电机组",
            "无人机飞控系统",
        ],
        keywords: &["燃气轮机", "航空发动机", "航空航天"],
        english: &["gas turbine", "turbine blade", "aero-engine"],
    },
    FieldVocab {
        field: Field::Rail,
        subjects: &[
            "齿轨列车转向架",
            "跨座式单轨道岔",
            "轨道交通牵引变流器",
            "列车运行控制系统",
        ],
        keywords: &["轨道交通", "齿轨列车", "单轨"],
        english: &["rack railway", "monorail", "traction converter"],
    },
    FieldVocab {
        field: Field::Biomed,
        subjects: &[
            "新型抗肿瘤靶向药物",
            "医用可降解镁合金支架",
            "核酸快速检测试剂盒",
            "手术机器人",
        ],
        keywords: &["生物医药", "医疗器械", "靶向药物"],
        english: &["targeted therapy", "PCR kit", "surgical robot"],
    },
    FieldVocab {
        field: Field::Tcm,
        subjects: &[
            "川芎有效成分提取工艺",
            "中药配方颗粒质量控制方法",
            "道地药材种植技术",
        ],
        keywords: &["中医药", "中药材", "提取工艺"],
        english: &["herbal extract", "TCM granules"],
    },
    FieldVocab {
        field: Field::Materials,
        subjects: &[
            "温敏型智能高分子材料",
            "石墨烯改性防腐涂料",
            "高强铝合金",
            "碳纤维复合材料",
            "钒钛新材料",
        ],
        keywords: &["新材料", "复合材料", "石墨烯"],
        english: &["graphene coating", "carbon fiber", "smart polymer"],
    },
    FieldVocab {
        field: Field::Energy,
        subjects: &[
            "页岩气水平井压裂技术",
            "燃气轮机联合循环调峰系统",
            "氢能储运装置",
            "光伏组件回收技术",
            "燃气轮机余热利用系统",
        ],
        keywords: &["页岩气", "清洁能源", "燃气轮机", "储能"],
        english: &["shale gas", "gas turbine", "hydrogen storage"],
    },
    FieldVocab {
        field: Field::Eco,
        subjects: &[
            "工业废水零排放工艺",
            "垃圾焚烧烟气净化装置",
            "土壤重金属修复剂",
        ],
        keywords: &["节能环保", "污水处理", "生态修复"],
        english: &["wastewater", "flue gas"],
    },
    FieldVocab {
        field: Field::Agri,
        subjects: &[
            "高油酸油菜新品种",
            "杂交水稻制种技术",
            "柑橘病虫害绿色防控",
            "生猪智能养殖系统",
        ],
        keywords: &["种业", "现代农业", "油菜"],
        english: &["rapeseed", "hybrid rice"],
    },
    FieldVocab {
        field: Field::Food,
        subjects: &[
            "火锅底料工业化生产线",
            "白酒固态发酵智能控制",
            "榨菜低盐腌制工艺",
        ],
        keywords: &["食品", "发酵", "食品加工"],
        english: &["baijiu fermentation", "food processing"],
    },
];

const PREFIXES: &[&str] = &[
    "",
    "",
    "一种",
    "新型",
    "高效",
    "低成本",
    "基于深度学习的",
    "高可靠",
    "智能化",
    "模块化",
];
const SUFFIXES: &[&str] = &[
    "",
    "关键技术",
    "及其制备方法",
    "及其应用",
    "设计与制造技术",
    "产业化技术",
    "系统及方法",
    "工艺",
];
const GENERIC: &[&str] = &[
    "本成果由项目团队历经多年攻关完成，核心指标达到国内领先水平。",
    "已完成中试验证，具备规模化生产条件。",
    "技术方案成熟，配套工艺文件和检测标准齐全。",
    "可根据受让方需求提供技术培训和后续改进服务。",
    "相关产品已在成渝地区多家企业试用，用户反馈良好。",
    "项目获得省部级科技进步奖，形成了完整的自主知识产权体系。",
    "与进口同类产品相比，成本降低约三成，交货周期明显缩短。",
    "适合有一定生产基础的企业承接转化。",
];
const PERSON_TITLES: &[&str] = &["研究团队", "课题组", "工程中心", "重点实验室"];

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
    let sep = ARRAY_SEP.to_string();
    const IN_FLIGHT: usize = 3;
    let mut inserts: tokio::task::JoinSet<anyhow::Result<u64>> = tokio::task::JoinSet::new();
    let mut done: u32 = 0;
    while done < listings {
        let n = (listings - done).min(BATCH as u32) as usize;
        let mut b = BulkListings::default();
        let mut a = BulkAuctions::default();
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
            b.search.push(search_vector(
                &title,
                &summary,
                &keywords,
                &ip_numbers,
                &description,
            ));
            b.ip_canonical
                .push(canonical_numbers(&ip_numbers).join(&sep));
            b.ip_numbers.push(ip_numbers.join(&sep));
            b.id.push(id);
            b.organization_id.push(org);
            b.created_by.push(user);
            b.title.push(title);
            b.summary.push(summary);
            b.description.push(description);
            b.field.push(v.field.code().to_string());
            b.ip_type.push(ip_type.code().to_string());
            b.trl.push(rng.gen_range(3..=9));
            b.transaction_modes.push(modes.join(&sep));
            b.keywords.push(keywords.join(&sep));
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
        // Up to IN_FLIGHT batches insert at once (both cores busy), while the next one is generated.
        while inserts.len() >= IN_FLIGHT {
            if let Some(r) = inserts.join_next().await {
                bar.inc(r.context("insert task")??);
            }
        }
        let pool = pool.clone();
        inserts.spawn(async move {
            let mut tx = pool.begin().await?;
            db::listings::bulk_insert(&mut tx, &b).await?;
            if !a.listing_id.is_empty() {
                db::listings::bulk_insert_auctions(&mut tx, &a).await?;
            }
            tx.commit().await?;
            Ok::<u64, anyhow::Error>(n as u64)
        });
        done += n as u32;
    }
    while let Some(r) = inserts.join_next().await {
        bar.inc(r.context("insert task")??);
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
            b.search.push(sv.build());
            b.id.push(Uuid::now_v7());
            b.organization_id.push(org);
            b.created_by.push(user);
            b.title.push(title);
            b.description.push(description);
            b.field.push(v.field.code().to_string());
            b.keywords.push(keywords.join(&sep));
            let has_budget = rng.gen_bool(0.7);
            b.budget_min_fen
                .push(has_budget.then_some(min_wan * 1_000_000));
            b.budget_max_fen
                .push(has_budget.then_some(min_wan * 3 * 1_000_000));
            b.province.push(ex.province().code().to_string());
            b.exchange.push(ex.code().to_string());
        }
        let mut tx = pool.begin().await?;
        db::listings::bulk_insert_demands(&mut tx, &b).await?;
        tx.commit().await?;
        done += n as u32;
        bar.inc(n as u64);
    }
    // Statistics for the planner, and the visibility map for index-only counts.
    bar.finish_with_message("vacuum");
    for table in ["listings", "auctions", "demands"] {
        sqlx::query(&format!("vacuum analyze {table}"))
            .execute(pool)
            .await?;
    }
    println!("seeded {listings} listings and {demands} demands");
    Ok(())
}
