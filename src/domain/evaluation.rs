//! Expert evaluations of listings (科技成果评价): the size of a panel, the scores an expert gives,
//! when a panel closes and what its published report says (medians half up, the spread).
//! Pure: the service passes `now` and the panel's state.
use serde::{Deserialize, Serialize};

use super::error::{check_text, FieldErrors};

/// A panel has 3 to 7 experts; a report needs at least 3 scores.
pub const PANEL_MIN: usize = 3;
pub const PANEL_MAX: usize = 7;
/// An expert's title (职称) and short bio, in characters.
pub const TITLE_MAX: usize = 60;
pub const BIO_MAX: usize = 1000;
/// An expert's fields: 1 to this many codes.
pub const FIELDS_MAX: usize = 15;
/// A scoring comment, in characters.
pub const COMMENT_MAX: usize = 2000;
/// The due date is at most this many days ahead.
pub const DUE_MAX_DAYS: i64 = 366;

/// One expert's scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scores {
    /// Technology readiness as the expert judges it, 1–9.
    pub maturity_trl: i64,
    /// 1–5 each.
    pub innovation: i64,
    pub advancement: i64,
    pub market: i64,
}

/// Checks the scores and the comment (1–2000 characters) of a scoring form.
pub fn check_scores(s: &Scores, comment: &str, errs: &mut FieldErrors) {
    let range = |v: i64, path: &'static str, max: i64, errs: &mut FieldErrors| {
        if !(1..=max).contains(&v) {
            errs.push(path, "err.evaluation.score", vec![("max", max.to_string())]);
        }
    };
    range(s.maturity_trl, "maturity_trl", 9, errs);
    range(s.innovation, "innovation", 5, errs);
    range(s.advancement, "advancement", 5, errs);
    range(s.market, "market", 5, errs);
    check_text(comment, "comment", 1, COMMENT_MAX, errs);
}

/// The median of `values`, an integer: the middle one, or for an even count the mean of the
/// middle two rounded half up. `None` for no values.
pub fn median_half_up(values: &[i64]) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        Some(v[n / 2])
    } else {
        let sum = i128::from(v[n / 2 - 1]) + i128::from(v[n / 2]);
        // Half up: floor((a + b + 1) / 2), also for negative sums.
        i64::try_from((sum + 1).div_euclid(2)).ok()
    }
}

/// The lowest and highest score given on one dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Range {
    pub min: i64,
    pub max: i64,
}

/// The medians of a closed panel's scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Medians {
    pub maturity_trl: i64,
    pub innovation: i64,
    pub advancement: i64,
    pub market: i64,
}

/// How far the experts were apart on each dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Spread {
    pub maturity_trl: Range,
    pub innovation: Range,
    pub advancement: Range,
    pub market: Range,
}

/// What a published evaluation reports: medians, spread and how many experts scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub medians: Medians,
    pub spread: Spread,
    pub scores: i64,
}

fn range(values: &[i64]) -> Range {
    Range {
        min: values.iter().copied().min().unwrap_or(0),
        max: values.iter().copied().max().unwrap_or(0),
    }
}

/// The report of `scores`, or `None` with fewer than [`PANEL_MIN`] of them (the panel fails).
pub fn report(scores: &[Scores]) -> Option<Report> {
    if scores.len() < PANEL_MIN {
        return None;
    }
    let col = |f: fn(&Scores) -> i64| scores.iter().map(f).collect::<Vec<i64>>();
    let (t, i, a, m) = (
        col(|s| s.maturity_trl),
        col(|s| s.innovation),
        col(|s| s.advancement),
        col(|s| s.market),
    );
    Some(Report {
        medians: Medians {
            maturity_trl: median_half_up(&t)?,
            innovation: median_half_up(&i)?,
            advancement: median_half_up(&a)?,
            market: median_half_up(&m)?,
        },
        spread: Spread {
            maturity_trl: range(&t),
            innovation: range(&i),
            advancement: range(&a),
            market: range(&m),
        },
        scores: i64::try_from(scores.len()).unwrap_or(i64::MAX),
    })
}

/// What to do with an open panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing {
    /// Still waiting for scores.
    Open,
    /// Close and publish the report.
    Publish,
    /// Close as failed: fewer than [`PANEL_MIN`] scores.
    Fail,
}

/// A panel closes when no invited member is left to answer (everyone remaining has scored or
/// declined), or when its due date has passed; it publishes with at least 3 scores and fails
/// with fewer.
pub fn closing(invited: usize, scored: usize, due_passed: bool) -> Closing {
    if invited > 0 && !due_passed {
        Closing::Open
    } else if scored >= PANEL_MIN {
        Closing::Publish
    } else {
        Closing::Fail
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn s(t: i64, i: i64, a: i64, m: i64) -> Scores {
        Scores {
            maturity_trl: t,
            innovation: i,
            advancement: a,
            market: m,
        }
    }

    #[test]
    fn medians_are_the_middle_or_the_mean_of_the_middle_two_half_up() {
        for (values, want) in [
            (vec![], None),
            (vec![4], Some(4)),
            (vec![9, 1, 5], Some(5)),
            (vec![6, 7], Some(7)),
            (vec![6, 8], Some(7)),
            (vec![1, 2, 3, 4], Some(3)),
            (vec![5, 5, 4, 4], Some(5)),
            (vec![1, 1, 2, 9, 9, 9], Some(6)),
            (vec![-3, -2], Some(-2)),
        ] {
            assert_eq!(median_half_up(&values), want, "{values:?}");
        }
    }

    #[test]
    fn a_report_needs_three_scores_and_gives_medians_and_spread() {
        assert_eq!(report(&[s(5, 3, 3, 3), s(6, 4, 4, 4)]), None);
        let r = report(&[s(5, 3, 2, 5), s(7, 4, 4, 1), s(6, 5, 3, 2), s(8, 4, 4, 2)]).unwrap();
        assert_eq!(
            r.medians,
            Medians {
                maturity_trl: 7,
                innovation: 4,
                advancement: 4,
                market: 2
            }
        );
        assert_eq!(r.spread.maturity_trl, Range { min: 5, max: 8 });
        assert_eq!(r.spread.market, Range { min: 1, max: 5 });
        assert_eq!(r.scores, 4);
    }

    #[test]
    fn a_panel_closes_when_nobody_is_left_to_answer_or_at_its_due_date() {
        use Closing::*;
        for (invited, scored, due, want) in [
            (2, 3, false, Open),
            (0, 3, false, Publish),
            (0, 7, false, Publish),
            (0, 2, false, Fail),
            (1, 2, true, Fail),
            (4, 3, true, Publish),
            (0, 0, true, Fail),
        ] {
            assert_eq!(
                closing(invited, scored, due),
                want,
                "{invited} {scored} {due}"
            );
        }
    }

    #[test]
    fn scores_out_of_range_and_an_empty_comment_are_refused() {
        let mut errs = FieldErrors::new();
        check_scores(&s(0, 6, 1, 5), " ", &mut errs);
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["maturity_trl", "innovation", "comment"]);
        let mut ok = FieldErrors::new();
        check_scores(&s(9, 5, 1, 1), "可行", &mut ok);
        assert!(ok.is_empty());
    }
}
