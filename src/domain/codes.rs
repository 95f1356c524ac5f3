//! The code lists of the API (DOMAIN.md "Codes"): each a closed enum whose serde form is its code.

/// Declare a code enum: variants with their wire code and Chinese and English names.
/// The serde form (`snake_case` of the variant) must equal the code; a test checks it for every enum.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $code:literal, $zh:literal, $en:literal; )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];

            /// The wire code, e.g. for JSON, query strings and the database.
            pub fn code(&self) -> &'static str {
                match self { $( Self::$variant => $code, )+ }
            }

            /// The value for a wire code; codes are exact (lower case).
            pub fn parse(code: &str) -> Option<Self> {
                match code { $( $code => Some(Self::$variant), )+ _ => None }
            }

            pub fn name_zh(&self) -> &'static str {
                match self { $( Self::$variant => $zh, )+ }
            }

            pub fn name_en(&self) -> &'static str {
                match self { $( Self::$variant => $en, )+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }

        impl $crate::domain::codes::Named for $name {
            fn from_code(code: &str) -> Option<Self> {
                Self::parse(code)
            }
            fn names(&self) -> (&'static str, &'static str) {
                (self.name_zh(), self.name_en())
            }
        }
    };
}
pub(crate) use code_enum;

/// A code list whose values have a Chinese and an English name (every `code_enum!`).
pub trait Named: Sized {
    fn from_code(code: &str) -> Option<Self>;
    /// (Chinese, English)
    fn names(&self) -> (&'static str, &'static str);
}

code_enum! {
    /// Where an organisation is.
    Province {
        Sichuan => "sichuan", "四川", "Sichuan";
        Chongqing => "chongqing", "重庆", "Chongqing";
        Other => "other", "其他", "Other";
    }
}

code_enum! {
    /// What kind of organisation a member belongs to.
    OrgKind {
        University => "university", "高校", "University";
        Institute => "institute", "科研院所", "Research institute";
        Enterprise => "enterprise", "企业", "Enterprise";
        Individual => "individual", "个人", "Individual";
        FinancialInstitution => "financial_institution", "金融机构", "Financial institution";
    }
}

code_enum! {
    /// The four exchanges: home exchange of members and listings.
    Exchange {
        Suaee => "suaee", "西南联合产权交易所", "Southwest United Equity Exchange";
        Cdipex => "cdipex", "成都知识产权交易中心", "Chengdu Intellectual Property Exchange Center";
        NttcSw => "nttc_sw", "国家技术转移西南中心", "National Technology Transfer Southwest Center";
        Cquaee => "cquaee", "重庆联合产权交易所", "Chongqing United Assets and Equity Exchange";
    }
}

impl Exchange {
    /// The province the exchange is in.
    pub fn province(&self) -> Province {
        match self {
            Exchange::Suaee | Exchange::Cdipex | Exchange::NttcSw => Province::Sichuan,
            Exchange::Cquaee => Province::Chongqing,
        }
    }
}

code_enum! {
    /// Technology field (领域) of listings and demands.
    Field {
        Auto => "auto", "汽车 / 新能源与智能网联汽车", "Automotive & intelligent connected vehicles";
        Eit => "eit", "电子信息", "Electronic information";
        Ic => "ic", "集成电路", "Integrated circuits";
        Ai => "ai", "人工智能", "Artificial intelligence";
        Digital => "digital", "数字经济 / 数字新媒体 / 网络安全", "Digital economy & cybersecurity";
        Equipment => "equipment", "装备制造 / 智能装备", "Equipment manufacturing";
        Aerospace => "aerospace", "航空航天 / 燃气轮机", "Aerospace & gas turbines";
        Rail => "rail", "轨道交通", "Rail transit";
        Biomed => "biomed", "生物医药 / 大健康", "Biomedicine & health";
        Tcm => "tcm", "中医药", "Traditional Chinese medicine";
        Materials => "materials", "新材料 / 先进材料", "Advanced materials";
        Energy => "energy", "能源 / 页岩气 / 清洁能源装备", "Energy & shale gas";
        Eco => "eco", "生态环保 / 节能环保", "Environmental protection";
        Agri => "agri", "现代农业 / 种业", "Agriculture & seeds";
        Food => "food", "食品 / 食品轻纺", "Food & light industry";
    }
}

code_enum! {
    /// Kind of intellectual property a listing offers.
    IpType {
        InventionPatent => "invention_patent", "发明专利", "Invention patent";
        UtilityModel => "utility_model", "实用新型", "Utility model";
        DesignPatent => "design_patent", "外观设计", "Design patent";
        PatentApplication => "patent_application", "专利申请权", "Patent application right";
        SoftwareCopyright => "software_copyright", "计算机软件著作权", "Software copyright";
        IcLayout => "ic_layout", "集成电路布图设计", "IC layout design";
        PlantVariety => "plant_variety", "植物新品种", "Plant variety";
        BiomedVariety => "biomed_variety", "生物医药新品种", "New biomedical variety";
        KnowHow => "know_how", "技术秘密", "Know-how";
        Other => "other", "其他", "Other";
    }
}

impl IpType {
    /// The patent type digits a number for this IP type may carry (1 invention, 2 utility model,
    /// 3 design, 8/9 PCT national phase); `None` for IP types that need no patent number.
    pub fn patent_type_digits(&self) -> Option<&'static [char]> {
        match self {
            IpType::InventionPatent => Some(&['1', '8']),
            IpType::UtilityModel => Some(&['2', '9']),
            IpType::DesignPatent => Some(&['3']),
            IpType::PatentApplication => Some(&['1', '2', '3', '8', '9']),
            _ => None,
        }
    }

    /// Whether listings of this type must name at least one patent (application) number.
    pub fn is_patent(&self) -> bool {
        self.patent_type_digits().is_some()
    }
}

code_enum! {
    /// How the technology changes hands (民法典 技术合同).
    TransactionMode {
        Transfer => "transfer", "转让", "Transfer";
        ExclusiveLicense => "exclusive_license", "独占许可", "Exclusive license";
        SoleLicense => "sole_license", "排他许可", "Sole license";
        NonexclusiveLicense => "nonexclusive_license", "普通许可", "Non-exclusive license";
        Equity => "equity", "作价入股", "Equity contribution";
        JointDevelopment => "joint_development", "合作开发", "Joint development";
    }
}

impl TransactionMode {
    /// Exclusive modes: the first trade makes the listing `sold`.
    pub fn is_exclusive(&self) -> bool {
        matches!(
            self,
            TransactionMode::Transfer
                | TransactionMode::ExclusiveLicense
                | TransactionMode::SoleLicense
                | TransactionMode::Equity
        )
    }

    /// The Civil Code contract type of a trade in this mode.
    pub fn contract_type(&self) -> ContractType {
        match self {
            TransactionMode::Transfer | TransactionMode::Equity => ContractType::TechTransfer,
            TransactionMode::ExclusiveLicense
            | TransactionMode::SoleLicense
            | TransactionMode::NonexclusiveLicense => ContractType::TechLicense,
            TransactionMode::JointDevelopment => ContractType::TechDevelopment,
        }
    }
}

code_enum! {
    /// Technology contract type under the Civil Code, arts. 843–887.
    ContractType {
        TechTransfer => "tech_transfer", "技术转让合同", "Technology transfer contract";
        TechLicense => "tech_license", "技术许可合同", "Technology license contract";
        TechDevelopment => "tech_development", "技术开发合同", "Technology development contract";
    }
}

code_enum! {
    /// How a listing is priced.
    PricingMode {
        Negotiable => "negotiable", "面议", "Negotiable";
        Fixed => "fixed", "挂牌价", "Listed price";
        Auction => "auction", "拍卖", "Auction";
    }
}

code_enum! {
    /// A user's role.
    Role {
        Member => "member", "会员", "Member";
        Admin => "admin", "管理员", "Administrator";
    }
}

code_enum! {
    /// A member's role in their organisation: owners invite, set roles and remove colleagues.
    OrgRole {
        Owner => "owner", "负责人", "Owner";
        Member => "member", "成员", "Member";
    }
}

const TRL_ZH: [&str; 9] = [
    "基本原理",
    "技术概念",
    "概念验证",
    "实验室验证",
    "相关环境部件验证",
    "相关环境原型演示（中试）",
    "实际环境原型演示",
    "系统完成并通过鉴定",
    "成功运行（产业化）",
];

const TRL_EN: [&str; 9] = [
    "Basic principles observed",
    "Technology concept formulated",
    "Proof of concept",
    "Validated in the laboratory",
    "Components validated in a relevant environment",
    "Prototype demonstrated in a relevant environment (pilot)",
    "Prototype demonstrated in the operational environment",
    "System complete and qualified",
    "Proven in operation (industrialised)",
];

/// Lowest and highest technology readiness level.
pub const TRL_MIN: u8 = 1;
pub const TRL_MAX: u8 = 9;

/// Chinese name of technology readiness level 1–9 (GB/T 22900 Annex A); `None` outside 1–9.
pub fn trl_name_zh(trl: u8) -> Option<&'static str> {
    TRL_ZH.get(usize::from(trl).checked_sub(1)?).copied()
}

/// English name of technology readiness level 1–9; `None` outside 1–9.
pub fn trl_name_en(trl: u8) -> Option<&'static str> {
    TRL_EN.get(usize::from(trl).checked_sub(1)?).copied()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn check_codes<T>(all: &[T], code: fn(&T) -> &'static str, parse: fn(&str) -> Option<T>)
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug,
    {
        for v in all {
            let json = serde_json::to_string(v).unwrap();
            assert_eq!(json, format!("\"{}\"", code(v)), "serde form of {v:?}");
            assert_eq!(serde_json::from_str::<T>(&json).unwrap(), *v);
            assert_eq!(parse(code(v)).as_ref(), Some(v));
        }
        assert!(parse("no_such_code").is_none());
    }

    #[test]
    fn every_serde_form_is_the_code_and_parses_back() {
        check_codes(Province::ALL, Province::code, Province::parse);
        check_codes(OrgKind::ALL, OrgKind::code, OrgKind::parse);
        check_codes(Exchange::ALL, Exchange::code, Exchange::parse);
        check_codes(Field::ALL, Field::code, Field::parse);
        check_codes(IpType::ALL, IpType::code, IpType::parse);
        check_codes(
            TransactionMode::ALL,
            TransactionMode::code,
            TransactionMode::parse,
        );
        check_codes(ContractType::ALL, ContractType::code, ContractType::parse);
        check_codes(PricingMode::ALL, PricingMode::code, PricingMode::parse);
        check_codes(Role::ALL, Role::code, Role::parse);
        check_codes(OrgRole::ALL, OrgRole::code, OrgRole::parse);
    }

    #[test]
    fn code_lists_have_the_documented_sizes() {
        assert_eq!(Field::ALL.len(), 15);
        assert_eq!(IpType::ALL.len(), 10);
        assert_eq!(TransactionMode::ALL.len(), 6);
        assert_eq!(Exchange::ALL.len(), 4);
    }

    #[test]
    fn exchanges_are_in_their_provinces() {
        assert_eq!(Exchange::NttcSw.code(), "nttc_sw");
        assert_eq!(Exchange::Cquaee.province(), Province::Chongqing);
        assert_eq!(Exchange::Suaee.province(), Province::Sichuan);
        assert_eq!(Exchange::Cdipex.name_zh(), "成都知识产权交易中心");
    }

    #[test]
    fn transaction_modes_map_to_contract_types() {
        use TransactionMode::*;
        assert_eq!(Transfer.contract_type(), ContractType::TechTransfer);
        assert_eq!(Equity.contract_type(), ContractType::TechTransfer);
        assert_eq!(SoleLicense.contract_type(), ContractType::TechLicense);
        assert_eq!(
            NonexclusiveLicense.contract_type(),
            ContractType::TechLicense
        );
        assert_eq!(
            JointDevelopment.contract_type(),
            ContractType::TechDevelopment
        );
        let exclusive: Vec<_> = TransactionMode::ALL
            .iter()
            .filter(|m| m.is_exclusive())
            .collect();
        assert_eq!(
            exclusive,
            [&Transfer, &ExclusiveLicense, &SoleLicense, &Equity]
        );
    }

    #[test]
    fn patent_ip_types_know_their_type_digits() {
        assert_eq!(
            IpType::InventionPatent.patent_type_digits(),
            Some(&['1', '8'][..])
        );
        assert_eq!(IpType::DesignPatent.patent_type_digits(), Some(&['3'][..]));
        assert_eq!(IpType::KnowHow.patent_type_digits(), None);
        assert!(!IpType::SoftwareCopyright.is_patent());
    }

    #[test]
    fn trl_names_cover_one_to_nine() {
        assert_eq!(trl_name_zh(0), None);
        assert_eq!(trl_name_zh(1), Some("基本原理"));
        assert_eq!(trl_name_zh(6), Some("相关环境原型演示（中试）"));
        assert_eq!(trl_name_en(9), Some("Proven in operation (industrialised)"));
        assert_eq!(trl_name_en(10), None);
    }
}
