//! Binary `COPY … FROM STDIN` for bulk loads (`techmarket seed bulk`): rows written in PostgreSQL's
//! binary copy format, so that PostgreSQL parses no text (the text form of a listing's search vector
//! cost ~6.5 s per 100,000 listings) and inserts the rows of a statement in batches.
use chrono::{DateTime, TimeZone, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

/// Element type oids, for binary arrays.
const INT4_OID: u32 = 23;
const INT8_OID: u32 = 20;
const TEXT_OID: u32 = 25;

/// Rows for one `COPY table (columns) FROM STDIN (FORMAT binary)`: [`CopyRows::row`], then one
/// value a column in the statement's order; [`copy_in`] sends them.
#[derive(Debug)]
pub struct CopyRows {
    buf: Vec<u8>,
    columns: i16,
    rows: usize,
}

impl CopyRows {
    /// Rows of `columns` values, with room for about `bytes`.
    pub fn new(columns: i16, bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(bytes + 32);
        buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
        buf.extend_from_slice(&0i32.to_be_bytes()); // flags
        buf.extend_from_slice(&0i32.to_be_bytes()); // header extension
        CopyRows {
            buf,
            columns,
            rows: 0,
        }
    }

    /// Starts a row.
    pub fn row(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&self.columns.to_be_bytes());
        self.rows += 1;
        self
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// A value's length (`-1` for null) before its bytes.
    fn length(&mut self, len: usize) {
        let len = i32::try_from(len).unwrap_or(i32::MAX);
        self.buf.extend_from_slice(&len.to_be_bytes());
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.length(bytes.len());
        self.buf.extend_from_slice(bytes);
        self
    }

    pub fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    pub fn uuid(&mut self, v: Uuid) -> &mut Self {
        self.field(v.as_bytes())
    }

    pub fn text(&mut self, v: &str) -> &mut Self {
        self.field(v.as_bytes())
    }

    pub fn int2(&mut self, v: i16) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn int4(&mut self, v: i32) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn int8(&mut self, v: i64) -> &mut Self {
        self.field(&v.to_be_bytes())
    }

    pub fn opt_int8(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.int8(v),
            None => self.null(),
        }
    }

    /// Microseconds since 2000-01-01 UTC, cut as sqlx cuts a bound `DateTime`.
    pub fn timestamptz(&mut self, v: DateTime<Utc>) -> &mut Self {
        let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
        let micros = epoch
            .and_then(|e| (v - e).num_microseconds())
            .unwrap_or(i64::MAX);
        self.int8(micros)
    }

    pub fn opt_timestamptz(&mut self, v: Option<DateTime<Utc>>) -> &mut Self {
        match v {
            Some(v) => self.timestamptz(v),
            None => self.null(),
        }
    }

    /// A one-dimensional array without nulls (no dimension when empty, as `'{}'`), its elements
    /// written by `each`.
    fn array<T>(&mut self, oid: u32, items: &[T], each: impl Fn(&mut Self, &T)) -> &mut Self {
        let at = self.buf.len();
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // length, set below
        let dims: i32 = if items.is_empty() { 0 } else { 1 };
        self.buf.extend_from_slice(&dims.to_be_bytes());
        self.buf.extend_from_slice(&0i32.to_be_bytes()); // no nulls
        self.buf.extend_from_slice(&oid.to_be_bytes());
        if !items.is_empty() {
            let n = i32::try_from(items.len()).unwrap_or(i32::MAX);
            self.buf.extend_from_slice(&n.to_be_bytes());
            self.buf.extend_from_slice(&1i32.to_be_bytes()); // lower bound
        }
        for item in items {
            each(self, item);
        }
        let len = i32::try_from(self.buf.len() - at - 4).unwrap_or(i32::MAX);
        self.buf[at..at + 4].copy_from_slice(&len.to_be_bytes());
        self
    }

    pub fn text_array<S: AsRef<str>>(&mut self, items: &[S]) -> &mut Self {
        self.array(TEXT_OID, items, |r, s| {
            r.text(s.as_ref());
        })
    }

    pub fn int4_array(&mut self, items: &[i32]) -> &mut Self {
        self.array(INT4_OID, items, |r, v| {
            r.int4(*v);
        })
    }

    pub fn int8_array(&mut self, items: &[i64]) -> &mut Self {
        self.array(INT8_OID, items, |r, v| {
            r.int8(*v);
        })
    }

    /// A value already in binary form (e.g. [`tsvector`]).
    pub fn binary(&mut self, v: &[u8]) -> &mut Self {
        self.field(v)
    }
}

/// A tsvector in binary form, from its lexemes in PostgreSQL's order (bytewise) with their positions
/// (position, weight 3 = A … 0 = D), as `domain::text::TsVectorBuilder::sorted` gives them: the lexeme
/// count, then each lexeme null-terminated, its position count and its positions
/// (`weight << 14 | position`).
pub fn tsvector(lexemes: &[(&str, &[(u16, u8)])]) -> Vec<u8> {
    let bytes: usize = lexemes.iter().map(|(l, p)| l.len() + 3 + 2 * p.len()).sum();
    let mut buf = Vec::with_capacity(4 + bytes);
    let n = i32::try_from(lexemes.len()).unwrap_or(i32::MAX);
    buf.extend_from_slice(&n.to_be_bytes());
    for (lexeme, positions) in lexemes {
        buf.extend_from_slice(lexeme.as_bytes());
        buf.push(0);
        let n = u16::try_from(positions.len()).unwrap_or(u16::MAX);
        buf.extend_from_slice(&n.to_be_bytes());
        for &(pos, weight) in positions.iter() {
            let entry = (u16::from(weight & 3) << 14) | (pos & 0x3fff);
            buf.extend_from_slice(&entry.to_be_bytes());
        }
    }
    buf
}

/// Runs `copy {into} from stdin (format binary)` with `rows` (`into`: the table and its columns).
/// Returns the number of rows written.
pub async fn copy_in(conn: &mut PgConnection, into: &str, rows: CopyRows) -> sqlx::Result<u64> {
    let mut buf = rows.buf;
    buf.extend_from_slice(&(-1i16).to_be_bytes()); // trailer
    let mut copy = conn
        .copy_in_raw(&format!("copy {into} from stdin (format binary)"))
        .await?;
    copy.send(buf).await?;
    copy.finish().await
}
