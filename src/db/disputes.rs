//! SQL for disputes (opening, the admins' queue, decisions) and payouts (what is due to whom,
//! what was paid out with which bank reference).
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

// ---------------------------------------------------------------- disputes

pub struct NewDispute<'a> {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub opened_by_party: &'a str,
    pub opened_by_user: Option<Uuid>,
    pub reason: &'a str,
    pub opened_from: &'a str,
    pub opened_at: DateTime<Utc>,
}

/// Inserts the dispute and marks the trade `disputed` (call with the trade locked).
pub async fn open(conn: &mut PgConnection, d: &NewDispute<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into disputes (id, trade_id, opened_by_party, opened_by_user, reason, opened_from, opened_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(d.id)
    .bind(d.trade_id)
    .bind(d.opened_by_party)
    .bind(d.opened_by_user)
    .bind(d.reason)
    .bind(d.opened_from)
    .bind(d.opened_at)
    .execute(&mut *conn)
    .await?;
    sqlx::query("update trades set status = 'disputed' where id = $1")
        .bind(d.trade_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// The trade a dispute is about.
pub async fn trade_of(conn: &mut PgConnection, dispute: Uuid) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("select trade_id from disputes where id = $1")
        .bind(dispute)
        .fetch_optional(conn)
        .await
}

/// A decision, written on the dispute (call with the trade locked).
pub struct Resolution<'a> {
    pub id: Uuid,
    pub outcome: &'a str,
    pub seller_share_fen: i64,
    pub seller_receives_fen: i64,
    pub buyer_refund_fen: i64,
    pub reason: &'a str,
    pub by: Option<Uuid>,
    pub exchange: &'a str,
    pub at: DateTime<Utc>,
}

pub async fn resolve(conn: &mut PgConnection, r: &Resolution<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "update disputes set status = 'resolved', outcome = $2, seller_share_fen = $3, seller_receives_fen = $4, \
         buyer_refund_fen = $5, resolution_reason = $6, resolved_by = $7, resolved_by_exchange = $8, resolved_at = $9 \
         where id = $1 and status = 'open'",
    )
    .bind(r.id)
    .bind(r.outcome)
    .bind(r.seller_share_fen)
    .bind(r.seller_receives_fen)
    .bind(r.buyer_refund_fen)
    .bind(r.reason)
    .bind(r.by)
    .bind(r.exchange)
    .bind(r.at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Marks a refunded trade (the escrow went back to the buyer); an exclusive listing it had sold is
/// listed again, as after a cancellation.
pub async fn set_refunded(
    conn: &mut PgConnection,
    trade: &super::settlement::TradeRow,
) -> sqlx::Result<()> {
    sqlx::query("update trades set status = 'refunded' where id = $1")
        .bind(trade.id)
        .execute(&mut *conn)
        .await?;
    if trade.exclusive {
        sqlx::query(
            "update listings set status = 'listed', updated_at = now() where id = $1 and status = 'sold'",
        )
        .bind(trade.listing_id)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Disputes of trades involving `exchange` (as the buyer's or the listing's), open ones first,
/// oldest first; `status` filters (`open` | `resolved`). Returns the trade ids, and how many.
pub async fn queue(
    conn: &mut PgConnection,
    exchange: &str,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<Uuid>, i64)> {
    let ids = sqlx::query_scalar(
        "select d.trade_id from disputes d join trades t on t.id = d.trade_id \
         where ($1 = t.buyer_exchange or $1 = t.seller_exchange) and ($2::text is null or d.status = $2) \
         order by d.status = 'open' desc, d.opened_at, d.id limit $3 offset $4",
    )
    .bind(exchange)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total = sqlx::query_scalar(
        "select count(*) from disputes d join trades t on t.id = d.trade_id \
         where ($1 = t.buyer_exchange or $1 = t.seller_exchange) and ($2::text is null or d.status = $2)",
    )
    .bind(exchange)
    .bind(status)
    .fetch_one(conn)
    .await?;
    Ok((ids, total))
}

/// The administrators of an exchange (people, not API keys), to be told of what needs them.
pub async fn admins_of(conn: &mut PgConnection, exchange: &str) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select id from users where role = 'admin' and admin_exchange = $1 order by created_at",
    )
    .bind(exchange)
    .fetch_all(conn)
    .await
}

// ---------------------------------------------------------------- payouts

/// One amount the market owes a party of a trade, or paid out to it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PayoutRow {
    /// The payout's id (`None` while due).
    pub id: Option<Uuid>,
    pub trade_id: Uuid,
    pub number: String,
    pub listing_title: String,
    /// `seller` | `buyer`
    pub party: String,
    pub organization_id: Uuid,
    pub organization_name: String,
    pub credit_code: Option<String>,
    pub amount_fen: i64,
    /// Since when it is owed (settlement, or the dispute's decision).
    pub due_since: Option<DateTime<Utc>>,
    pub bank_reference: Option<String>,
    pub paid_at: Option<DateTime<Utc>>,
    pub recorded_by_email: Option<String>,
}

/// What is owed, per trade and party, among the trades whose money is in `exchange`'s account
/// (trades whose buyer is of `exchange`): a settled trade's seller (price − seller fee, or a
/// dispute's share − fee), less the seller's broker commission paid; a dispute's refund to the buyer
/// (with its broker commission returned); less what was paid out already.
const DUE: &str = "select * from ( \
      select null::uuid as id, t.id as trade_id, t.number, l.title as listing_title, 'seller' as party, \
             so.id as organization_id, so.name as organization_name, so.credit_code, \
             coalesce(d.seller_receives_fen, t.price_fen - t.seller_fee_fen) - coalesce((select sum(e.paid_fen) \
               from broker_engagements e where e.trade_id = t.id and e.side = 'seller' and e.status = 'paid'), 0)::bigint as amount_fen, \
             t.settled_at as due_since, null::text as bank_reference, null::timestamptz as paid_at, \
             null::text as recorded_by_email \
      from trades t join listings l on l.id = t.listing_id join organizations so on so.id = t.seller_organization_id \
        left join disputes d on d.trade_id = t.id \
      where t.buyer_exchange = $1 and t.status = 'settled' and ($2::uuid is null or t.id = $2) \
      union all \
      select null::uuid, t.id, t.number, l.title, 'buyer', bo.id, bo.name, bo.credit_code, d.buyer_refund_fen \
             + coalesce((select sum(e.commission_fen) from broker_engagements e \
               where e.trade_id = t.id and e.side = 'buyer' and e.status = 'refunded'), 0)::bigint, \
             d.resolved_at, null::text, null::timestamptz, null::text \
      from trades t join listings l on l.id = t.listing_id join organizations bo on bo.id = t.buyer_organization_id \
        join disputes d on d.trade_id = t.id \
      where t.buyer_exchange = $1 and d.status = 'resolved' and d.buyer_refund_fen > 0 \
        and ($2::uuid is null or t.id = $2) \
    ) x where x.amount_fen > 0 \
      and not exists (select 1 from payouts p where p.trade_id = x.trade_id and p.party = x.party)";

/// The amounts due from `exchange`'s account, oldest first: a page, the count and the sum.
pub async fn due(
    conn: &mut PgConnection,
    exchange: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<PayoutRow>, i64, i64)> {
    let rows = sqlx::query_as(&format!(
        "{DUE} order by x.due_since, x.trade_id, x.party limit $3 offset $4"
    ))
    .bind(exchange)
    .bind(None::<Uuid>)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let (count, sum): (i64, i64) = sqlx::query_as(&format!(
        "select count(*), coalesce(sum(x.amount_fen), 0)::bigint from ({DUE}) x"
    ))
    .bind(exchange)
    .bind(None::<Uuid>)
    .fetch_one(conn)
    .await?;
    Ok((rows, count, sum))
}

/// What is due to `party` of `trade` from `exchange`'s account (`None`: nothing, or paid out).
pub async fn due_for(
    conn: &mut PgConnection,
    exchange: &str,
    trade: Uuid,
    party: &str,
) -> sqlx::Result<Option<PayoutRow>> {
    sqlx::query_as(&format!("{DUE} and x.party = $3"))
        .bind(exchange)
        .bind(Some(trade))
        .bind(party)
        .fetch_optional(conn)
        .await
}

const PAID: &str =
    "select p.id, p.trade_id, t.number, l.title as listing_title, p.party, p.organization_id, \
      o.name as organization_name, o.credit_code, p.amount_fen, \
      case when p.party = 'seller' then t.settled_at else d.resolved_at end as due_since, \
      p.bank_reference, p.created_at as paid_at, u.email as recorded_by_email \
    from payouts p join trades t on t.id = p.trade_id join listings l on l.id = t.listing_id \
      join organizations o on o.id = p.organization_id left join disputes d on d.trade_id = t.id \
      left join users u on u.id = p.recorded_by";

/// The payouts recorded from `exchange`'s account, newest first: a page, the count and the sum.
pub async fn paid(
    conn: &mut PgConnection,
    exchange: &str,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(Vec<PayoutRow>, i64, i64)> {
    let rows = sqlx::query_as(&format!(
        "{PAID} where p.exchange = $1 order by p.created_at desc, p.id desc limit $2 offset $3"
    ))
    .bind(exchange)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let (count, sum): (i64, i64) = sqlx::query_as(
        "select count(*), coalesce(sum(amount_fen), 0)::bigint from payouts where exchange = $1",
    )
    .bind(exchange)
    .fetch_one(conn)
    .await?;
    Ok((rows, count, sum))
}

pub struct NewPayout<'a> {
    pub id: Uuid,
    pub trade_id: Uuid,
    pub party: &'a str,
    pub organization_id: Uuid,
    pub exchange: &'a str,
    pub amount_fen: i64,
    pub bank_reference: &'a str,
    pub recorded_by: Option<Uuid>,
    pub at: DateTime<Utc>,
}

/// Records a payout (call with the trade locked) and returns it as listed.
pub async fn insert_payout(conn: &mut PgConnection, p: &NewPayout<'_>) -> sqlx::Result<PayoutRow> {
    sqlx::query(
        "insert into payouts (id, trade_id, party, organization_id, exchange, amount_fen, bank_reference, \
         recorded_by, created_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(p.id)
    .bind(p.trade_id)
    .bind(p.party)
    .bind(p.organization_id)
    .bind(p.exchange)
    .bind(p.amount_fen)
    .bind(p.bank_reference)
    .bind(p.recorded_by)
    .bind(p.at)
    .execute(&mut *conn)
    .await?;
    sqlx::query_as(&format!("{PAID} where p.id = $1"))
        .bind(p.id)
        .fetch_one(conn)
        .await
}
