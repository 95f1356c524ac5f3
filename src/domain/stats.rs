//! Market statistics (API.md "Statistics"): what the settled trades and the listed listings add up
//! to, computed by folding rows one at a time, so that a million trades need no more memory than a
//! dozen (the sums are per month, field, exchange and province).
//!
//! Definitions:
//! - a trade counts once it is `settled`; its month is the calendar month of `settled_at` in
//!   Asia/Shanghai (the caller gives it as `YYYY-MM`, worked out by the database's time zone data);
//! - a trade's provinces are those of its exchanges (`seller_exchange`, `buyer_exchange`, frozen on
//!   the trade), so every trade is Sichuan or Chongqing on each side; it is cross-province when they
//!   differ;
//! - fee revenue: the buyer's fee is revenue of the buyer's exchange, the seller's fee of the
//!   listing's (seller's) exchange (DOMAIN.md settlement);
//! - savings: the legacy fees of the seller's province (both parties, DOMAIN.md's legacy table) on
//!   the trade's price, minus the fees paid (buyer's + seller's). Negative where the unified
//!   schedule charges more (small Chongqing trades pay the 300-yuan minimum).
//!
//! Sums are kept in `i128` and reported as `i64` fen, saturating (a trillion-yuan market is
//! 10^14 fen; i64 holds 9.2 × 10^18).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::codes::{Exchange, Field, Province};
use super::fees::{legacy_chongqing, legacy_sichuan, FeeSchedule};

/// One settled trade, as the statistics see it (no parties' names: nothing personal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeFacts {
    /// `YYYY-MM`, the month of settlement in Asia/Shanghai.
    pub month: String,
    pub field: String,
    pub seller_exchange: String,
    pub buyer_exchange: String,
    /// The contract price (the base of the fees, and of the legacy comparison).
    pub price_fen: i64,
    /// What changed hands: the price, or, for a dispute decided as a split, the part of it settled
    /// to the seller (the rest went back to the buyer). Turnover counts this.
    pub settled_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
}

/// What a trade would have cost, and saved, under the legacy rules of the seller's province.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyComparison {
    pub seller_province: Province,
    /// Both parties' legacy fees.
    pub legacy_fee_fen: i64,
    /// Both parties' fees paid.
    pub paid_fee_fen: i64,
    /// `legacy_fee_fen − paid_fee_fen`.
    pub savings_fen: i64,
}

/// The province of an exchange code (`Other` for an unknown code; none is stored: a foreign key).
pub fn exchange_province(code: &str) -> Province {
    Exchange::parse(code).map_or(Province::Other, |e| e.province())
}

/// The legacy schedule of a province: Chongqing's for Chongqing, Sichuan's otherwise (every
/// exchange of the market is in one of the two).
pub fn legacy_schedule(p: Province) -> FeeSchedule {
    match p {
        Province::Chongqing => legacy_chongqing(),
        Province::Sichuan | Province::Other => legacy_sichuan(),
    }
}

/// The legacy comparison of one trade (DOMAIN.md "Money and fees": both parties, no minimum, no cap).
pub fn legacy_comparison(
    seller_exchange: &str,
    price_fen: i64,
    buyer_fee_fen: i64,
    seller_fee_fen: i64,
) -> LegacyComparison {
    let seller_province = exchange_province(seller_exchange);
    let legacy_fee_fen = legacy_schedule(seller_province)
        .quote(price_fen)
        .total_fee_fen;
    let paid_fee_fen = buyer_fee_fen.saturating_add(seller_fee_fen);
    LegacyComparison {
        seller_province,
        legacy_fee_fen,
        paid_fee_fen,
        savings_fen: legacy_fee_fen.saturating_sub(paid_fee_fen),
    }
}

/// `part / whole` in ppm, rounded half up; 0 when `whole` is 0.
pub fn share_ppm(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let (p, w) = (i128::from(part), i128::from(whole));
    clamp((p * 2_000_000 + w).div_euclid(2 * w))
}

fn clamp(v: i128) -> i64 {
    v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// A count and an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CountAmount {
    pub count: i64,
    pub turnover_fen: i64,
}

/// One month of settled trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthStats {
    /// `YYYY-MM`.
    pub month: String,
    pub count: i64,
    pub turnover_fen: i64,
}

impl MonthStats {
    /// `(year, month)`, for charts.
    pub fn year_month(&self) -> Option<(i32, u32)> {
        parse_month(&self.month)
    }
}

/// Trades from sellers of one province to buyers of another (or the same).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flow {
    pub seller_province: String,
    pub buyer_province: String,
    pub count: i64,
    pub turnover_fen: i64,
}

/// The legacy comparison summed over the trades whose seller is in one province.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvinceSavings {
    pub seller_province: String,
    pub count: i64,
    pub legacy_fee_fen: i64,
    pub paid_fee_fen: i64,
    pub savings_fen: i64,
}

/// Settled trades, summed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TradeStats {
    pub count: i64,
    pub turnover_fen: i64,
    pub cross_province_count: i64,
    pub cross_province_turnover_fen: i64,
    /// Oldest first, every month from the first trade's to the last one's (months without trades
    /// are there with zeros).
    pub by_month: Vec<MonthStats>,
    /// Every field code, in the code list's order.
    pub by_field: BTreeMap<String, CountAmount>,
    /// Seller province × buyer province, Sichuan and Chongqing: four cells, seller-major.
    pub flows: Vec<Flow>,
}

/// Fees of settled trades.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FeeStats {
    /// Fee revenue per exchange code (every exchange, zero included).
    pub by_exchange: BTreeMap<String, i64>,
    pub total_fen: i64,
    /// What the legacy rules of the sellers' provinces would have charged.
    pub legacy_total_fen: i64,
    /// Per seller province (Sichuan, Chongqing).
    pub savings_by_province: Vec<ProvinceSavings>,
}

/// Listings currently listed (挂牌中).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ListingStats {
    pub total: i64,
    /// Every province code, zero included.
    pub by_province: BTreeMap<String, i64>,
    /// Every field code, zero included.
    pub by_field: BTreeMap<String, i64>,
    /// Every exchange code, zero included.
    pub by_exchange: BTreeMap<String, i64>,
    /// Exchange × the listing organisation's province: `[exchange][province]` counts, in the
    /// code lists' order.
    pub by_exchange_province: Vec<ExchangeProvinceCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeProvinceCount {
    pub exchange: String,
    pub province: String,
    pub count: i64,
}

/// A count of listed listings in one (province, exchange, field) group, as the database gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListingGroup {
    pub province: String,
    pub exchange: String,
    pub field: String,
    pub count: i64,
}

/// Everything the statistics show, without the moment they were taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Stats {
    pub listings: ListingStats,
    pub trades: TradeStats,
    pub fees: FeeStats,
    /// Legacy fees minus fees paid, over all settled trades.
    pub savings_fen: i64,
}

impl Stats {
    /// Share of settled trades (by count) that crossed the provincial line, in ppm.
    pub fn cross_province_share_ppm(&self) -> i64 {
        share_ppm(self.trades.cross_province_count, self.trades.count)
    }

    /// Share of turnover that crossed the provincial line, in ppm.
    pub fn cross_province_turnover_share_ppm(&self) -> i64 {
        share_ppm(
            self.trades.cross_province_turnover_fen,
            self.trades.turnover_fen,
        )
    }
}

#[derive(Default, Clone, Copy)]
struct Sum {
    count: i64,
    amount: i128,
}

impl Sum {
    fn add(&mut self, amount: i64) {
        self.count += 1;
        self.amount += i128::from(amount);
    }
}

#[derive(Default, Clone, Copy)]
struct SavingsSum {
    count: i64,
    legacy: i128,
    paid: i128,
}

/// Folds settled trades and listing counts into [`Stats`].
#[derive(Default)]
pub struct Accumulator {
    all: Sum,
    cross: Sum,
    months: BTreeMap<(i32, u32), Sum>,
    fields: BTreeMap<String, Sum>,
    /// (seller province, buyer province) codes.
    flows: BTreeMap<(&'static str, &'static str), Sum>,
    fees_by_exchange: BTreeMap<String, i128>,
    /// By the seller's province code.
    savings: BTreeMap<&'static str, SavingsSum>,
    listings: Vec<ListingGroup>,
}

const FLOW_PROVINCES: [Province; 2] = [Province::Sichuan, Province::Chongqing];

impl Accumulator {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one settled trade: its turnover is what changed hands (`settled_fen`), its fees those
    /// charged, its legacy comparison on the contract price. A month that is not `YYYY-MM` (the database always gives one) is
    /// counted in the totals but in no month.
    pub fn add_trade(&mut self, t: &TradeFacts) {
        self.all.add(t.settled_fen);
        let sp = exchange_province(&t.seller_exchange);
        let bp = exchange_province(&t.buyer_exchange);
        if sp != bp {
            self.cross.add(t.settled_fen);
        }
        if let Some(m) = parse_month(&t.month) {
            self.months.entry(m).or_default().add(t.settled_fen);
        }
        self.fields
            .entry(t.field.clone())
            .or_default()
            .add(t.settled_fen);
        self.flows
            .entry((sp.code(), bp.code()))
            .or_default()
            .add(t.settled_fen);
        *self
            .fees_by_exchange
            .entry(t.buyer_exchange.clone())
            .or_default() += i128::from(t.buyer_fee_fen);
        *self
            .fees_by_exchange
            .entry(t.seller_exchange.clone())
            .or_default() += i128::from(t.seller_fee_fen);
        let c = legacy_comparison(
            &t.seller_exchange,
            t.price_fen,
            t.buyer_fee_fen,
            t.seller_fee_fen,
        );
        let s = self.savings.entry(c.seller_province.code()).or_default();
        s.count += 1;
        s.legacy += i128::from(c.legacy_fee_fen);
        s.paid += i128::from(c.paid_fee_fen);
    }

    /// Adds a group of listed listings.
    pub fn add_listings(&mut self, g: ListingGroup) {
        self.listings.push(g);
    }

    pub fn finish(self) -> Stats {
        let trades = TradeStats {
            count: self.all.count,
            turnover_fen: clamp(self.all.amount),
            cross_province_count: self.cross.count,
            cross_province_turnover_fen: clamp(self.cross.amount),
            by_month: months_filled(&self.months),
            by_field: by_field(&self.fields),
            flows: FLOW_PROVINCES
                .iter()
                .flat_map(|&s| FLOW_PROVINCES.iter().map(move |&b| (s, b)))
                .map(|(s, b)| {
                    let sum = self
                        .flows
                        .get(&(s.code(), b.code()))
                        .copied()
                        .unwrap_or_default();
                    Flow {
                        seller_province: s.code().to_string(),
                        buyer_province: b.code().to_string(),
                        count: sum.count,
                        turnover_fen: clamp(sum.amount),
                    }
                })
                .collect(),
        };
        let mut by_exchange: BTreeMap<String, i64> = Exchange::ALL
            .iter()
            .map(|e| (e.code().to_string(), 0))
            .collect();
        let mut fee_total: i128 = 0;
        for (code, fen) in &self.fees_by_exchange {
            by_exchange.insert(code.clone(), clamp(*fen));
            fee_total += fen;
        }
        let mut legacy_total: i128 = 0;
        let mut savings_total: i128 = 0;
        let savings_by_province = FLOW_PROVINCES
            .iter()
            .chain(std::iter::once(&Province::Other))
            .filter_map(|p| {
                let s = self.savings.get(p.code()).copied();
                if s.is_none() && *p == Province::Other {
                    return None;
                }
                let s = s.unwrap_or_default();
                legacy_total += s.legacy;
                savings_total += s.legacy - s.paid;
                Some(ProvinceSavings {
                    seller_province: p.code().to_string(),
                    count: s.count,
                    legacy_fee_fen: clamp(s.legacy),
                    paid_fee_fen: clamp(s.paid),
                    savings_fen: clamp(s.legacy - s.paid),
                })
            })
            .collect();
        Stats {
            listings: listing_stats(&self.listings),
            trades,
            fees: FeeStats {
                by_exchange,
                total_fen: clamp(fee_total),
                legacy_total_fen: clamp(legacy_total),
                savings_by_province,
            },
            savings_fen: clamp(savings_total),
        }
    }
}

/// `YYYY-MM` → `(year, month)`.
pub fn parse_month(s: &str) -> Option<(i32, u32)> {
    let (y, m) = s.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: u32 = m.parse().ok()?;
    (1..=12).contains(&m).then_some((y, m))
}

fn next_month((y, m): (i32, u32)) -> (i32, u32) {
    if m == 12 {
        (y + 1, 1)
    } else {
        (y, m + 1)
    }
}

/// Every month from the first to the last key, zeros where nothing happened.
fn months_filled(months: &BTreeMap<(i32, u32), Sum>) -> Vec<MonthStats> {
    let (Some((&first, _)), Some((&last, _))) = (months.first_key_value(), months.last_key_value())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut m = first;
    while m <= last {
        let s = months.get(&m).copied().unwrap_or_default();
        out.push(MonthStats {
            month: format!("{:04}-{:02}", m.0, m.1),
            count: s.count,
            turnover_fen: clamp(s.amount),
        });
        m = next_month(m);
    }
    out
}

fn by_field(fields: &BTreeMap<String, Sum>) -> BTreeMap<String, CountAmount> {
    let mut out: BTreeMap<String, CountAmount> = Field::ALL
        .iter()
        .map(|f| (f.code().to_string(), CountAmount::default()))
        .collect();
    for (code, s) in fields {
        out.insert(
            code.clone(),
            CountAmount {
                count: s.count,
                turnover_fen: clamp(s.amount),
            },
        );
    }
    out
}

fn listing_stats(groups: &[ListingGroup]) -> ListingStats {
    let zeros = |codes: Vec<&'static str>| -> BTreeMap<String, i64> {
        codes.into_iter().map(|c| (c.to_string(), 0)).collect()
    };
    let mut by_province = zeros(Province::ALL.iter().map(|p| p.code()).collect());
    let mut by_field = zeros(Field::ALL.iter().map(|f| f.code()).collect());
    let mut by_exchange = zeros(Exchange::ALL.iter().map(|e| e.code()).collect());
    let mut cells: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut total = 0;
    for g in groups {
        total += g.count;
        *by_province.entry(g.province.clone()).or_default() += g.count;
        *by_field.entry(g.field.clone()).or_default() += g.count;
        *by_exchange.entry(g.exchange.clone()).or_default() += g.count;
        *cells
            .entry((g.exchange.clone(), g.province.clone()))
            .or_default() += g.count;
    }
    let by_exchange_province = Exchange::ALL
        .iter()
        .flat_map(|e| Province::ALL.iter().map(move |p| (e, p)))
        .map(|(e, p)| ExchangeProvinceCount {
            exchange: e.code().to_string(),
            province: p.code().to_string(),
            count: cells
                .get(&(e.code().to_string(), p.code().to_string()))
                .copied()
                .unwrap_or(0),
        })
        .collect();
    ListingStats {
        total,
        by_province,
        by_field,
        by_exchange,
        by_exchange_province,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn trade(
        month: &str,
        field: &str,
        s: &str,
        b: &str,
        price: i64,
        bf: i64,
        sf: i64,
    ) -> TradeFacts {
        TradeFacts {
            month: month.into(),
            field: field.into(),
            seller_exchange: s.into(),
            buyer_exchange: b.into(),
            price_fen: price,
            settled_fen: price,
            buyer_fee_fen: bf,
            seller_fee_fen: sf,
        }
    }

    #[test]
    fn savings_on_a_hand_computed_example() {
        // 350万 sold by a Sichuan seller: legacy Sichuan per side 100万 × 5% + 250万 × 3% = 12.5万,
        // both sides 25万 = 25 000 000 fen; unified v1 per side 100万 × 1.5% + 250万 × 1% = 4万,
        // both 8万 = 8 000 000 fen. Saved: 17 000 000 fen (17万元).
        let c = legacy_comparison("suaee", 350_000_000, 4_000_000, 4_000_000);
        assert_eq!(c.seller_province, Province::Sichuan);
        assert_eq!(c.legacy_fee_fen, 25_000_000);
        assert_eq!(c.savings_fen, 17_000_000);
        // 50万 sold by a Chongqing seller: legacy 0.7% × 2 = 700 000 fen; unified 1.5% × 2 =
        // 1 500 000 fen: the unified schedule costs 800 000 fen more.
        let c = legacy_comparison("cquaee", 50_000_000, 750_000, 750_000);
        assert_eq!(c.legacy_fee_fen, 700_000);
        assert_eq!(c.savings_fen, -800_000);

        let mut acc = Accumulator::new();
        acc.add_trade(&trade(
            "2026-11",
            "energy",
            "suaee",
            "cquaee",
            350_000_000,
            4_000_000,
            4_000_000,
        ));
        acc.add_trade(&trade(
            "2026-12", "auto", "cquaee", "cquaee", 50_000_000, 750_000, 750_000,
        ));
        let s = acc.finish();
        assert_eq!(s.savings_fen, 16_200_000);
        assert_eq!(s.fees.legacy_total_fen, 25_700_000);
        assert_eq!(s.fees.total_fen, 9_500_000);
        assert_eq!(s.fees.savings_by_province.len(), 2);
        assert_eq!(s.fees.savings_by_province[0].savings_fen, 17_000_000);
        assert_eq!(s.fees.savings_by_province[1].savings_fen, -800_000);
    }

    #[test]
    fn totals_months_flows_and_fees_add_up() {
        let mut acc = Accumulator::new();
        acc.add_trade(&trade("2026-10", "ic", "suaee", "cquaee", 1_000, 10, 20));
        acc.add_trade(&trade("2026-10", "ic", "cdipex", "nttc_sw", 2_000, 30, 40));
        acc.add_trade(&trade(
            "2027-01", "energy", "cquaee", "suaee", 4_000, 50, 60,
        ));
        let s = acc.finish();
        assert_eq!(s.trades.count, 3);
        assert_eq!(s.trades.turnover_fen, 7_000);
        assert_eq!(s.trades.cross_province_count, 2);
        assert_eq!(s.trades.cross_province_turnover_fen, 5_000);
        let months: Vec<_> = s
            .trades
            .by_month
            .iter()
            .map(|m| (m.month.as_str(), m.count, m.turnover_fen))
            .collect();
        assert_eq!(
            months,
            [
                ("2026-10", 2, 3_000),
                ("2026-11", 0, 0),
                ("2026-12", 0, 0),
                ("2027-01", 1, 4_000)
            ]
        );
        assert_eq!(s.trades.by_field["ic"].turnover_fen, 3_000);
        assert_eq!(s.trades.by_field["agri"].count, 0);
        let flow = |a: &str, b: &str| {
            s.trades
                .flows
                .iter()
                .find(|f| f.seller_province == a && f.buyer_province == b)
                .map(|f| f.count)
                .unwrap()
        };
        assert_eq!(flow("sichuan", "chongqing"), 1);
        assert_eq!(flow("sichuan", "sichuan"), 1);
        assert_eq!(flow("chongqing", "sichuan"), 1);
        assert_eq!(flow("chongqing", "chongqing"), 0);
        // Buyer fees to the buyer's exchange, seller fees to the seller's.
        assert_eq!(s.fees.by_exchange["suaee"], 20 + 50);
        assert_eq!(s.fees.by_exchange["cquaee"], 10 + 60);
        assert_eq!(s.fees.by_exchange["cdipex"], 40);
        assert_eq!(s.fees.by_exchange["nttc_sw"], 30);
        assert_eq!(s.fees.total_fen, 210);
        assert_eq!(s.cross_province_share_ppm(), 666_667);
        assert_eq!(s.cross_province_turnover_share_ppm(), 714_286);
    }

    #[test]
    fn nothing_settled_gives_zeros_and_every_code() {
        let s = Accumulator::new().finish();
        assert_eq!(s.trades.count, 0);
        assert!(s.trades.by_month.is_empty());
        assert_eq!(s.trades.flows.len(), 4);
        assert_eq!(s.fees.by_exchange.len(), Exchange::ALL.len());
        assert_eq!(s.listings.by_province.len(), Province::ALL.len());
        assert_eq!(s.listings.by_field.len(), Field::ALL.len());
        assert_eq!(s.cross_province_share_ppm(), 0);
        assert_eq!(s.savings_fen, 0);
    }

    #[test]
    fn listings_are_counted_every_way() {
        let mut acc = Accumulator::new();
        for (p, e, f, n) in [
            ("sichuan", "suaee", "ic", 3),
            ("other", "suaee", "energy", 1),
            ("chongqing", "cquaee", "ic", 2),
        ] {
            acc.add_listings(ListingGroup {
                province: p.into(),
                exchange: e.into(),
                field: f.into(),
                count: n,
            });
        }
        let l = acc.finish().listings;
        assert_eq!(l.total, 6);
        assert_eq!(l.by_province["sichuan"], 3);
        assert_eq!(l.by_province["other"], 1);
        assert_eq!(l.by_field["ic"], 5);
        assert_eq!(l.by_exchange["suaee"], 4);
        assert_eq!(l.by_exchange["nttc_sw"], 0);
        let cell = |e: &str, p: &str| {
            l.by_exchange_province
                .iter()
                .find(|c| c.exchange == e && c.province == p)
                .unwrap()
                .count
        };
        assert_eq!(cell("suaee", "other"), 1);
        assert_eq!(cell("cquaee", "chongqing"), 2);
        assert_eq!(l.by_exchange_province.len(), 12);
    }

    #[test]
    fn months_parse_strictly() {
        assert_eq!(parse_month("2026-12"), Some((2026, 12)));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("2026-1"), None);
        assert_eq!(parse_month("x"), None);
        assert_eq!(next_month((2026, 12)), (2027, 1));
    }

    #[test]
    fn shares_round_half_up() {
        assert_eq!(share_ppm(1, 3), 333_333);
        assert_eq!(share_ppm(2, 3), 666_667);
        assert_eq!(share_ppm(1, 2_000_000), 1);
        assert_eq!(share_ppm(5, 0), 0);
        assert_eq!(share_ppm(i64::MAX, i64::MAX), 1_000_000);
    }

    #[test]
    fn huge_sums_saturate_instead_of_wrapping() {
        let mut acc = Accumulator::new();
        for _ in 0..3 {
            acc.add_trade(&trade(
                "2026-12",
                "ic",
                "suaee",
                "suaee",
                i64::MAX / 2,
                0,
                0,
            ));
        }
        assert_eq!(acc.finish().trades.turnover_fen, i64::MAX);
    }
}
