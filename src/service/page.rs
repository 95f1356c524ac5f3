use serde::{Deserialize, Serialize};

use crate::domain::error::FieldErrors;

/// `?page=1&per_page=20` (per_page at most 100).
#[derive(Debug, Clone, Copy, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

impl PageQuery {
    pub fn resolve(&self) -> Result<(i64, i64), FieldErrors> {
        let mut errs = FieldErrors::default();
        let page = self.page.unwrap_or(1);
        let per_page = self.per_page.unwrap_or(20);
        if !(1..=1_000_000).contains(&page) {
            errs.push("page", "err.page.range", vec![]);
        }
        if !(1..=100).contains(&per_page) {
            errs.push("per_page", "err.per_page.range", vec![]);
        }
        errs.into_result().map(|_| (page, per_page))
    }
}

/// The list format of API.md.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl<T> Page<T> {
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
        }
    }

    pub fn pages(&self) -> i64 {
        if self.per_page <= 0 {
            1
        } else {
            ((self.total + self.per_page - 1) / self.per_page).max(1)
        }
    }
}

impl PageQuery {
    /// As `resolve`, but a bad page or size is a malformed query (400).
    pub fn resolve_or_400(&self) -> crate::error::Result<(i64, i64)> {
        self.resolve()
            .map_err(|fields| crate::error::Error::BadRequest {
                code: "invalid_query",
                fields: Some(fields),
            })
    }
}
