//! Words the bulk listings and demands of the benchmarks are made of, by field.
use crate::domain::codes::Field;

pub(super) struct FieldVocab {
    pub field: Field,
    pub subjects: &'static [&'static str],
    pub keywords: &'static [&'static str],
    pub english: &'static [&'static str],
}

pub(super) const VOCAB: &[FieldVocab] = &[
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

pub(super) const PREFIXES: &[&str] = &[
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
pub(super) const SUFFIXES: &[&str] = &[
    "",
    "关键技术",
    "及其制备方法",
    "及其应用",
    "设计与制造技术",
    "产业化技术",
    "系统及方法",
    "工艺",
];
pub(super) const GENERIC: &[&str] = &[
    "本成果由项目团队历经多年攻关完成，核心指标达到国内领先水平。",
    "已完成中试验证，具备规模化生产条件。",
    "技术方案成熟，配套工艺文件和检测标准齐全。",
    "可根据受让方需求提供技术培训和后续改进服务。",
    "相关产品已在成渝地区多家企业试用，用户反馈良好。",
    "项目获得省部级科技进步奖，形成了完整的自主知识产权体系。",
    "与进口同类产品相比，成本降低约三成，交货周期明显缩短。",
    "适合有一定生产基础的企业承接转化。",
];
pub(super) const PERSON_TITLES: &[&str] = &["研究团队", "课题组", "工程中心", "重点实验室"];
