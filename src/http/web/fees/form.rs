//! The editor's form as typed: bands, rates and amounts as text, parsed into a schedule with
//! every problem under its JSON path.
use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};

use crate::domain::error::FieldErrors;
use crate::domain::money::{parse_percent_ppm, parse_yuan, AmountError, FEN_PER_WAN, FEN_PER_YI};
use crate::http::context::PageCtx;
use crate::http::extract::Form;
use crate::http::web::FormErrors;
use crate::service::fees::{self, BandView, SideView};

/// One band row of the editor as typed: upper bound in yuan (`100万`), rate in percent (`1.5`).
#[derive(Debug, Clone, Default)]
pub struct EditorBand {
    pub up_to: String,
    pub rate: String,
}

#[derive(Debug, Clone, Default)]
pub struct EditorSide {
    pub bands: Vec<EditorBand>,
    pub min_fee: String,
    pub max_fee: String,
}

/// A band row ready for the template: names, values and messages.
pub struct EditorRow {
    pub index: usize,
    pub last: bool,
    pub up_to: String,
    pub rate: String,
    pub up_to_error: String,
    pub rate_error: String,
    pub from: String,
}

impl EditorRow {
    /// Where the band starts (`from`), in pieces that end at a thousands comma: on a phone a long
    /// amount (`¥10,000,000.00`) wraps at a comma, never inside a group of digits.
    pub fn start_parts(&self) -> Vec<&str> {
        self.from.split_inclusive(',').collect()
    }
}

pub struct EditorSideView {
    pub side: &'static str,
    pub legend: String,
    pub rows: Vec<EditorRow>,
    pub min_fee: String,
    pub max_fee: String,
    pub min_fee_error: String,
    pub max_fee_error: String,
    pub bands_error: String,
}

/// A whole number of 亿 as `1亿`, of 万 as `100万`, else yuan with cents (`1234.56`): what parse_yuan reads back.
pub(super) fn yuan_input(fen: i64) -> String {
    if fen != 0 && fen % FEN_PER_YI == 0 {
        format!("{}亿", fen / FEN_PER_YI)
    } else if fen != 0 && fen % FEN_PER_WAN == 0 {
        format!("{}万", fen / FEN_PER_WAN)
    } else if fen % 100 == 0 {
        (fen / 100).to_string()
    } else {
        format!("{}.{:02}", fen / 100, (fen % 100).abs())
    }
}

/// ppm as a plain percentage for the input (`15000` → `1.5`).
pub(super) fn percent_input(ppm: i64) -> String {
    crate::domain::money::format_ppm_percent(ppm)
        .trim_end_matches('%')
        .to_string()
}

pub(super) const SHANGHAI: i32 = 8 * 3600;

/// `YYYY-MM-DDTHH:MM` (as `<input type="datetime-local">` sends it) in Asia/Shanghai.
pub fn parse_local_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M"))
        .ok()?;
    let off = FixedOffset::east_opt(SHANGHAI)?;
    off.from_local_datetime(&naive)
        .single()
        .map(|d| d.with_timezone(&Utc))
}

impl EditorSide {
    pub(super) fn from_view(v: &SideView) -> Self {
        EditorSide {
            bands: v
                .bands
                .iter()
                .map(|b| EditorBand {
                    up_to: b.up_to_fen.map(yuan_input).unwrap_or_default(),
                    rate: percent_input(b.rate_ppm),
                })
                .collect(),
            min_fee: yuan_input(v.min_fee_fen),
            max_fee: v.max_fee_fen.map(yuan_input).unwrap_or_default(),
        }
    }

    /// The side from the form: `{side}.rate` once per band, `{side}.up_to` once per band but the last.
    pub(super) fn from_form(form: &Form, side: &str) -> Self {
        let rates = form.all(&format!("{side}.rate"));
        let up_tos = form.all(&format!("{side}.up_to"));
        let n = rates.len().min(fees::MAX_BANDS + 1);
        let bands = (0..n)
            .map(|i| EditorBand {
                up_to: if i + 1 < n {
                    up_tos.get(i).map(|s| s.to_string()).unwrap_or_default()
                } else {
                    String::new()
                },
                rate: rates[i].to_string(),
            })
            .collect();
        EditorSide {
            bands,
            min_fee: form.get(&format!("{side}.min_fee")).to_string(),
            max_fee: form.get(&format!("{side}.max_fee")).to_string(),
        }
    }

    /// One more band at the top: the old last band gets an (empty) upper bound.
    pub(super) fn add_band(&mut self) {
        if self.bands.len() < fees::MAX_BANDS {
            self.bands.push(EditorBand::default());
        }
    }

    /// Drops band `i`; removing the last band makes the one before it unbounded.
    pub(super) fn remove_band(&mut self, i: usize) {
        if self.bands.len() > 1 && i < self.bands.len() {
            self.bands.remove(i);
            if let Some(last) = self.bands.last_mut() {
                last.up_to.clear();
            }
        }
    }

    /// Parses what was typed into a side schedule; problems go to `errs` under the JSON paths.
    pub(super) fn parse(&self, side: &str, errs: &mut FieldErrors) -> SideView {
        let n = self.bands.len();
        if n == 0 {
            errs.push(format!("{side}.bands"), "err.fees.no_bands", vec![]);
        }
        let bands = self
            .bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let up_to_fen = if i + 1 < n {
                    if b.up_to.trim().is_empty() {
                        errs.push(
                            format!("{side}.bands[{i}].up_to_fen"),
                            "err.fees.band_unbounded",
                            vec![],
                        );
                        None
                    } else {
                        match parse_yuan(&b.up_to) {
                            Ok(fen) => Some(fen),
                            Err(e) => {
                                errs.push_err(format!("{side}.bands[{i}].up_to_fen"), &e);
                                None
                            }
                        }
                    }
                } else {
                    None
                };
                let rate_ppm = match parse_percent_ppm(&b.rate) {
                    Ok(ppm) => ppm,
                    Err(key) => {
                        errs.push(format!("{side}.bands[{i}].rate_ppm"), key, vec![]);
                        0
                    }
                };
                BandView {
                    up_to_fen,
                    rate_ppm,
                }
            })
            .collect();
        let fee = |text: &str, path: String, errs: &mut FieldErrors| -> Option<i64> {
            match parse_yuan(text) {
                Ok(fen) => Some(fen),
                Err(AmountError::Zero) => Some(0),
                Err(e) => {
                    errs.push_err(path, &e);
                    None
                }
            }
        };
        let min_fee_fen = if self.min_fee.trim().is_empty() {
            0
        } else {
            fee(&self.min_fee, format!("{side}.min_fee_fen"), errs).unwrap_or(0)
        };
        let max_fee_fen = if self.max_fee.trim().is_empty() {
            None
        } else {
            fee(&self.max_fee, format!("{side}.max_fee_fen"), errs)
        };
        SideView {
            bands,
            min_fee_fen,
            max_fee_fen,
        }
    }

    pub(super) fn view(
        &self,
        ctx: &PageCtx,
        side: &'static str,
        errors: &FormErrors,
    ) -> EditorSideView {
        let n = self.bands.len();
        let mut from = ctx.wan(&0);
        let rows = self
            .bands
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let row = EditorRow {
                    index: i,
                    last: i + 1 == n,
                    up_to: b.up_to.clone(),
                    rate: b.rate.clone(),
                    up_to_error: errors
                        .get(&format!("{side}.bands[{i}].up_to_fen"))
                        .to_string(),
                    rate_error: errors
                        .get(&format!("{side}.bands[{i}].rate_ppm"))
                        .to_string(),
                    from: from.clone(),
                };
                from = match parse_yuan(&b.up_to) {
                    Ok(fen) => ctx.wan(&fen),
                    Err(_) => "…".to_string(),
                };
                row
            })
            .collect();
        EditorSideView {
            side,
            legend: ctx.t(&format!("fees.editor.{side}")).to_string(),
            rows,
            min_fee: self.min_fee.clone(),
            max_fee: self.max_fee.clone(),
            min_fee_error: errors.get(&format!("{side}.min_fee_fen")).to_string(),
            max_fee_error: errors.get(&format!("{side}.max_fee_fen")).to_string(),
            bands_error: errors.get(&format!("{side}.bands")).to_string(),
        }
    }
}

/// What the editor's submit buttons ask for.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum EditorAction {
    Add(&'static str),
    Remove(&'static str, usize),
    Preview,
    Save,
}

pub(super) fn side_name(s: &str) -> Option<&'static str> {
    match s {
        "buyer" => Some("buyer"),
        "seller" => Some("seller"),
        _ => None,
    }
}

pub(super) fn parse_action(a: &str) -> EditorAction {
    let parts: Vec<&str> = a.split(':').collect();
    match parts.as_slice() {
        ["add", side] => side_name(side).map_or(EditorAction::Preview, EditorAction::Add),
        ["remove", side, i] => match (side_name(side), i.parse::<usize>()) {
            (Some(s), Ok(i)) => EditorAction::Remove(s, i),
            _ => EditorAction::Preview,
        },
        ["save"] => EditorAction::Save,
        _ => EditorAction::Preview,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::domain::fees::unified_v1;
    #[test]
    fn editor_inputs_read_back_as_the_same_amounts() {
        for fen in [0, 1, 30_000, 100_000_000, 123_456, 10_000_000_000] {
            let text = yuan_input(fen);
            let back = match parse_yuan(&text) {
                Ok(v) => v,
                Err(AmountError::Zero) => 0,
                Err(e) => panic!("{text}: {e}"),
            };
            assert_eq!(back, fen, "{text}");
        }
        for ppm in [1, 1_000, 15_000, 1_000_000] {
            assert_eq!(parse_percent_ppm(&percent_input(ppm)), Ok(ppm));
        }
    }

    #[test]
    fn local_times_are_shanghai_time() {
        let at = parse_local_time("2026-12-01T08:30").unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-01T00:30:00+00:00");
        assert!(parse_local_time("tomorrow").is_none());
    }

    #[test]
    fn adding_and_removing_bands_keeps_the_last_one_unbounded() {
        let mut s = EditorSide::from_view(&SideView::from(&unified_v1().buyer));
        assert_eq!(s.bands.len(), 6);
        assert!(s.bands[5].up_to.is_empty());
        s.add_band();
        assert_eq!(s.bands.len(), 7);
        s.remove_band(6);
        assert_eq!(s.bands.len(), 6);
        assert!(
            s.bands[5].up_to.is_empty(),
            "the new last band is unbounded"
        );
        s.remove_band(0);
        assert_eq!(s.bands[0].up_to, "500万");
        assert_eq!(
            parse_action("remove:seller:3"),
            EditorAction::Remove("seller", 3)
        );
        assert_eq!(parse_action("add:buyer"), EditorAction::Add("buyer"));
        assert_eq!(parse_action("add:nobody"), EditorAction::Preview);
        assert_eq!(parse_action("save"), EditorAction::Save);
    }

    #[test]
    fn long_amounts_break_only_after_a_comma() {
        let row = |from: &str| EditorRow {
            index: 0,
            last: false,
            up_to: String::new(),
            rate: String::new(),
            up_to_error: String::new(),
            rate_error: String::new(),
            from: from.into(),
        };
        assert_eq!(
            row("¥10,000,000.00").start_parts(),
            ["¥10,", "000,", "000.00"]
        );
        assert_eq!(row("1000万元").start_parts(), ["1000万元"]);
    }
}
