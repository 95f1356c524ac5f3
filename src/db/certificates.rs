//! Transaction certificates (table `certificates`).
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateRow {
    pub number: String,
    pub trade_id: Uuid,
    pub trade_number: String,
    pub issued_at: DateTime<Utc>,
    pub seller_name: String,
    pub seller_exchange: String,
    pub buyer_name: String,
    pub buyer_exchange: String,
    pub listing_id: Uuid,
    pub listing_title: String,
    pub ip_numbers: Vec<String>,
    pub transaction_mode: String,
    pub price_fen: i64,
    pub buyer_fee_fen: i64,
    pub seller_fee_fen: i64,
    pub fee_schedule_id: Uuid,
    pub fee_schedule_name: String,
    /// A split decided by a dispute: the part of the price settled to the seller, and the rest,
    /// refunded to the buyer (both null otherwise).
    pub seller_share_fen: Option<i64>,
    pub buyer_refund_fen: Option<i64>,
    pub ledger_hash: Option<Vec<u8>>,
    pub seal: Option<Vec<u8>>,
}

/// A certificate's columns, and its trade's readable number (`TM-2026-000123`), from
/// `certificates c join trades t`.
const COLUMNS: &str = "c.number, c.trade_id, t.number as trade_number, c.issued_at, c.seller_name, \
    c.seller_exchange, c.buyer_name, c.buyer_exchange, c.listing_id, c.listing_title, c.ip_numbers, \
    c.transaction_mode, c.price_fen, c.buyer_fee_fen, c.seller_fee_fen, c.fee_schedule_id, \
    c.fee_schedule_name, c.seller_share_fen, c.buyer_refund_fen, c.ledger_hash, c.seal";

/// The next serial number of certificates.
pub async fn next_serial(conn: &mut PgConnection) -> sqlx::Result<i64> {
    sqlx::query_scalar("select nextval('certificate_serial')")
        .fetch_one(conn)
        .await
}

/// Writes the certificate of settled trade `trade_id` under `number`, from the trade, its listing,
/// its parties and its fee schedule as they are now (and, for a dispute decided as a split, the
/// seller's share and the buyer's refund); issued at the trade's settlement. Does nothing
/// if the trade has one or is not settled. Returns whether it wrote one.
pub async fn insert_for_trade(
    conn: &mut PgConnection,
    trade_id: Uuid,
    number: &str,
) -> sqlx::Result<bool> {
    let r = sqlx::query(
        "insert into certificates (number, trade_id, issued_at, seller_name, seller_exchange, buyer_name, \
         buyer_exchange, listing_id, listing_title, ip_numbers, transaction_mode, price_fen, buyer_fee_fen, \
         seller_fee_fen, fee_schedule_id, fee_schedule_name, seller_share_fen, buyer_refund_fen) \
         select $2, t.id, t.settled_at, so.name, t.seller_exchange, bo.name, t.buyer_exchange, l.id, l.title, \
                l.ip_numbers, t.transaction_mode, t.price_fen, t.buyer_fee_fen, t.seller_fee_fen, f.id, coalesce(f.public_name, f.name), \
                d.seller_share_fen, d.buyer_refund_fen \
         from trades t join listings l on l.id = t.listing_id \
         left join disputes d on d.trade_id = t.id and d.outcome = 'split' \
         join organizations so on so.id = t.seller_organization_id \
         join organizations bo on bo.id = t.buyer_organization_id \
         join fee_schedules f on f.id = t.fee_schedule_id \
         where t.id = $1 and t.status = 'settled' and t.settled_at is not null \
         on conflict (trade_id) do nothing",
    )
    .bind(trade_id)
    .bind(number)
    .execute(conn)
    .await?;
    Ok(r.rows_affected() == 1)
}

/// In one statement: settles trade `id` at `at` (`by` says who, as [`super::settlement::set_settled`],
/// whose single `UPDATE` of the trade row it is) and writes its certificate as
/// [`insert_for_trade`] does, numbered `head`, the next `certificate_serial` zero-padded to
/// `digits`, `tail` (`domain::certificate::number_parts`); and closes the trade's `accepted` broker
/// engagements as `brokers_to` at `at`, returning those (as `db::brokers::close_of_trade`). One
/// round trip instead of four on the settlement's path.
#[allow(clippy::too_many_arguments)]
pub async fn settle_with_certificate(
    conn: &mut PgConnection,
    id: Uuid,
    at: DateTime<Utc>,
    by: &str,
    head: &str,
    tail: &str,
    digits: i32,
    brokers_to: &str,
) -> sqlx::Result<Vec<(Uuid, Uuid, String, i64)>> {
    sqlx::query_as(
        "with brokers as (update broker_engagements set status = $7, closed_at = $2 \
                          where trade_id = $1 and status = 'accepted' \
                          returning id, broker_id, side, commission_fen), \
              t as (update trades set status = 'settled', settled_at = $2, settled_by = $3 where id = $1 \
                    returning id, listing_id, seller_organization_id, buyer_organization_id, settled_at, \
                              seller_exchange, buyer_exchange, transaction_mode, price_fen, buyer_fee_fen, \
                              seller_fee_fen, fee_schedule_id), \
              serial as (select nextval('certificate_serial')::text as n), \
              certificate as (insert into certificates (number, trade_id, issued_at, seller_name, seller_exchange, buyer_name, \
         buyer_exchange, listing_id, listing_title, ip_numbers, transaction_mode, price_fen, buyer_fee_fen, \
         seller_fee_fen, fee_schedule_id, fee_schedule_name, seller_share_fen, buyer_refund_fen) \
         select $4 || lpad(serial.n, greatest($6, length(serial.n)), '0') || $5, t.id, t.settled_at, so.name, \
                t.seller_exchange, bo.name, t.buyer_exchange, l.id, l.title, l.ip_numbers, t.transaction_mode, \
                t.price_fen, t.buyer_fee_fen, t.seller_fee_fen, f.id, coalesce(f.public_name, f.name), \
                d.seller_share_fen, d.buyer_refund_fen \
         from t cross join serial join listings l on l.id = t.listing_id \
         left join disputes d on d.trade_id = t.id and d.outcome = 'split' \
         join organizations so on so.id = t.seller_organization_id \
         join organizations bo on bo.id = t.buyer_organization_id \
         join fee_schedules f on f.id = t.fee_schedule_id \
         on conflict (trade_id) do nothing) \
         select id, broker_id, side, commission_fen from brokers",
    )
    .bind(id)
    .bind(at)
    .bind(by)
    .bind(head)
    .bind(tail)
    .bind(digits)
    .bind(brokers_to)
    .fetch_all(conn)
    .await
}

pub async fn by_trade(
    conn: &mut PgConnection,
    trade_id: Uuid,
) -> sqlx::Result<Option<CertificateRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from certificates c join trades t on t.id = c.trade_id where c.trade_id = $1"
    ))
    .bind(trade_id)
    .fetch_optional(conn)
    .await
}

pub async fn by_number(
    conn: &mut PgConnection,
    number: &str,
) -> sqlx::Result<Option<CertificateRow>> {
    sqlx::query_as(&format!(
        "select {COLUMNS} from certificates c join trades t on t.id = c.trade_id where c.number = $1"
    ))
    .bind(number)
    .fetch_optional(conn)
    .await
}

/// The hash of the last ledger entry of `trade_id` written at or before `at` (its settlement).
pub async fn settlement_hash(
    conn: &mut PgConnection,
    trade_id: Uuid,
    at: DateTime<Utc>,
) -> sqlx::Result<Option<Vec<u8>>> {
    sqlx::query_scalar(
        "select hash from ledger_entries where trade_id = $1 and created_at <= $2 \
         order by id desc limit 1",
    )
    .bind(trade_id)
    .bind(at)
    .fetch_optional(conn)
    .await
}

/// Whether `hash` is the hash of a ledger entry of `trade_id`.
pub async fn ledger_has(
    conn: &mut PgConnection,
    trade_id: Uuid,
    hash: &[u8],
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists(select 1 from ledger_entries where trade_id = $1 and hash = $2)",
    )
    .bind(trade_id)
    .bind(hash)
    .fetch_one(conn)
    .await
}

/// Seals a certificate once (a second sealer finds it sealed and changes nothing).
pub async fn set_seal(
    conn: &mut PgConnection,
    number: &str,
    ledger_hash: &[u8],
    seal: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "update certificates set ledger_hash = $2, seal = $3 where number = $1 and seal is null",
    )
    .bind(number)
    .bind(ledger_hash)
    .bind(seal)
    .execute(conn)
    .await?;
    Ok(())
}
