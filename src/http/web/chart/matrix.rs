//! A matrix: a table of numbers whose cells are shaded by their size (a flow from rows to columns,
//! say sellers' province × buyers' province). It is a table first, so screen readers and phones
//! read it as any table; the shading (`static/chart.css`, classes `shade-0` … `shade-5`) and a
//! pattern on the cells of the diagonal (`diagonal`) only help the eye. Drawn by
//! `templates/chart/svg.html`'s `matrix` macro.
//!
//! ```
//! use techmarket::http::web::chart::{Matrix, Unit};
//! use techmarket::i18n::Lang;
//!
//! let m = Matrix::new(Lang::En, "flows", Unit::Count, ["Sichuan", "Chongqing"], ["Sichuan", "Chongqing"])
//!     .titles("Trades between the provinces", "Seller ↓ / buyer →")
//!     .values(&[vec![12, 5], vec![3, 9]])
//!     .build();
//! assert_eq!(m.rows[0].cells[1].text, "5");
//! assert_eq!(m.rows[0].cells[0].shade, 5);
//! assert!(m.rows[1].cells[1].diagonal);
//! assert_eq!(m.rows[1].total, "12");
//! ```
use super::label::Unit;
use crate::i18n::Lang;

/// The number of shades above zero.
pub const SHADES: i64 = 5;

/// A matrix laid out: what the `matrix` macro draws.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixTable {
    pub id: String,
    pub caption: String,
    /// Read in the corner cell: what rows and columns are (`Seller ↓ / buyer →`).
    pub corner: String,
    pub columns: Vec<String>,
    pub rows: Vec<MatrixRow>,
    /// The title of the totals row and column; empty for none.
    pub total_label: String,
    /// Column totals, then the grand total (when `total_label` is set).
    pub column_totals: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRow {
    pub label: String,
    pub cells: Vec<MatrixCell>,
    pub total: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MatrixCell {
    pub text: String,
    /// A second line (a share, an amount), or empty.
    pub sub: String,
    /// 0 for zero, 1 … [`SHADES`] by the value's share of the largest cell (rounded up).
    pub shade: i64,
    /// Row and column are the same (a flow that stays where it is).
    pub diagonal: bool,
}

/// A matrix being described; `build` lays it out.
pub struct Matrix {
    lang: Lang,
    id: String,
    unit: Unit,
    caption: String,
    corner: String,
    rows: Vec<String>,
    columns: Vec<String>,
    values: Vec<Vec<i64>>,
    subs: Vec<Vec<String>>,
    total_label: String,
}

impl Matrix {
    pub fn new<R: Into<String>, C: Into<String>>(
        lang: Lang,
        id: &str,
        unit: Unit,
        rows: impl IntoIterator<Item = R>,
        columns: impl IntoIterator<Item = C>,
    ) -> Self {
        Matrix {
            lang,
            id: id.to_string(),
            unit,
            caption: String::new(),
            corner: String::new(),
            rows: rows.into_iter().map(Into::into).collect(),
            columns: columns.into_iter().map(Into::into).collect(),
            values: Vec::new(),
            subs: Vec::new(),
            total_label: String::new(),
        }
    }

    /// The table's caption and the corner cell's text.
    pub fn titles(mut self, caption: impl Into<String>, corner: impl Into<String>) -> Self {
        self.caption = caption.into();
        self.corner = corner.into();
        self
    }

    /// The values, row by row (missing cells read as zero, extra ones are left out).
    pub fn values(mut self, values: &[Vec<i64>]) -> Self {
        self.values = values.to_vec();
        self
    }

    /// A second line for each cell, row by row.
    pub fn subs(mut self, subs: Vec<Vec<String>>) -> Self {
        self.subs = subs;
        self
    }

    /// Adds a totals row and column under this title.
    pub fn totals(mut self, label: impl Into<String>) -> Self {
        self.total_label = label.into();
        self
    }

    fn value(&self, r: usize, c: usize) -> i64 {
        self.values
            .get(r)
            .and_then(|row| row.get(c))
            .copied()
            .unwrap_or(0)
    }

    pub fn build(self) -> MatrixTable {
        let (nr, nc) = (self.rows.len(), self.columns.len());
        let max = (0..nr)
            .flat_map(|r| (0..nc).map(move |c| (r, c)))
            .map(|(r, c)| self.value(r, c))
            .max()
            .unwrap_or(0);
        let full = |v: i64| self.unit.full(self.lang, v);
        let rows = (0..nr)
            .map(|r| MatrixRow {
                label: self.rows[r].clone(),
                cells: (0..nc)
                    .map(|c| {
                        let v = self.value(r, c);
                        MatrixCell {
                            text: full(v),
                            sub: self
                                .subs
                                .get(r)
                                .and_then(|row| row.get(c))
                                .cloned()
                                .unwrap_or_default(),
                            shade: shade(v, max),
                            diagonal: r == c,
                        }
                    })
                    .collect(),
                total: full((0..nc).map(|c| self.value(r, c)).sum()),
            })
            .collect();
        let column_totals = if self.total_label.is_empty() {
            Vec::new()
        } else {
            (0..nc)
                .map(|c| (0..nr).map(|r| self.value(r, c)).sum::<i64>())
                .chain(std::iter::once(
                    (0..nr)
                        .flat_map(|r| (0..nc).map(move |c| (r, c)))
                        .map(|(r, c)| self.value(r, c))
                        .sum(),
                ))
                .map(full)
                .collect()
        };
        MatrixTable {
            id: self.id,
            caption: self.caption,
            corner: self.corner,
            columns: self.columns,
            rows,
            total_label: self.total_label,
            column_totals,
        }
    }
}

/// 0 for zero (or less), else 1 … [`SHADES`] by `v / max`, rounded up.
fn shade(v: i64, max: i64) -> i64 {
    if v <= 0 || max <= 0 {
        return 0;
    }
    let s = (i128::from(v) * i128::from(SHADES) + i128::from(max) - 1) / i128::from(max);
    (s as i64).clamp(1, SHADES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shades_grow_with_the_value_and_zero_stays_blank() {
        assert_eq!(shade(0, 10), 0);
        assert_eq!(shade(1, 10), 1);
        assert_eq!(shade(2, 10), 1);
        assert_eq!(shade(3, 10), 2);
        assert_eq!(shade(10, 10), 5);
        assert_eq!(shade(5, 0), 0);
        assert_eq!(shade(i64::MAX, i64::MAX), 5);
    }

    #[test]
    fn totals_add_rows_and_columns() {
        let m = Matrix::new(Lang::Zh, "f", Unit::Fen, ["四川", "重庆"], ["四川", "重庆"])
            .values(&[vec![100_000_000, 0], vec![50_000_000]])
            .subs(vec![vec!["a".into(), "b".into()]])
            .totals("合计")
            .build();
        assert_eq!(m.rows[0].cells[0].text, "100万元");
        assert_eq!(m.rows[1].cells[1].text, "¥0.00");
        assert_eq!(m.rows[0].cells[1].sub, "b");
        assert_eq!(m.rows[1].cells[0].sub, "");
        assert_eq!(m.rows[0].total, "100万元");
        assert_eq!(m.column_totals, ["150万元", "¥0.00", "150万元"]);
        assert_eq!(m.rows[1].cells[0].shade, 3);
        assert_eq!(m.rows[0].cells[1].shade, 0);
    }
}
