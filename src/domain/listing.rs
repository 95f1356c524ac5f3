//! Lifecycle states of listings, trades, offers and auctions, and which actions each allows.

use super::codes::code_enum;

code_enum! {
    /// Listing: `draft → pending_review → listed → sold | withdrawn`, `pending_review → rejected → (edit) → pending_review`.
    ListingStatus {
        Draft => "draft", "草稿", "Draft";
        PendingReview => "pending_review", "待审核", "Pending review";
        Listed => "listed", "已挂牌", "Listed";
        Rejected => "rejected", "已驳回", "Rejected";
        Withdrawn => "withdrawn", "已撤回", "Withdrawn";
        Sold => "sold", "已成交", "Sold";
    }
}

impl ListingStatus {
    /// The owner may change the listing (PATCH).
    pub fn can_edit(&self) -> bool {
        matches!(self, Self::Draft | Self::Rejected)
    }

    /// The owner may submit it for review.
    pub fn can_submit(&self) -> bool {
        matches!(self, Self::Draft | Self::Rejected)
    }

    /// The owner may withdraw it.
    pub fn can_withdraw(&self) -> bool {
        matches!(
            self,
            Self::Draft | Self::PendingReview | Self::Listed | Self::Rejected
        )
    }

    /// An admin of its exchange may approve or reject it.
    pub fn can_review(&self) -> bool {
        matches!(self, Self::PendingReview)
    }

    /// Offers, purchases and bids are possible.
    pub fn is_tradable(&self) -> bool {
        matches!(self, Self::Listed)
    }

    /// Counts as active for duplicate IP numbers (pending review or listed).
    pub fn is_active(&self) -> bool {
        matches!(self, Self::PendingReview | Self::Listed)
    }

    /// Anyone may see it (everything except drafts).
    pub fn is_public(&self) -> bool {
        !matches!(self, Self::Draft)
    }

    /// The state after a review decision.
    pub fn after_review(approve: bool) -> Self {
        if approve {
            Self::Listed
        } else {
            Self::Rejected
        }
    }
}

code_enum! {
    /// Trade: `awaiting_payment → paid → (delivered →) settled`; `awaiting_payment → cancelled`.
    TradeStatus {
        AwaitingPayment => "awaiting_payment", "待付款", "Awaiting payment";
        Paid => "paid", "已付款", "Paid";
        Delivered => "delivered", "已交付", "Delivered";
        Disputed => "disputed", "争议处理中", "Disputed";
        Settled => "settled", "已结算", "Settled";
        Refunded => "refunded", "已退款", "Refunded";
        Cancelled => "cancelled", "已取消", "Cancelled";
    }
}

impl TradeStatus {
    /// An admin may record the payment.
    pub fn can_pay(&self) -> bool {
        matches!(self, Self::AwaitingPayment)
    }

    /// The seller may record delivery.
    pub fn can_deliver(&self) -> bool {
        matches!(self, Self::Paid)
    }

    /// The buyer may confirm delivery, which settles the trade (also before the seller recorded it).
    pub fn can_settle(&self) -> bool {
        matches!(self, Self::Paid | Self::Delivered)
    }

    /// Either party may cancel (after payment only a dispute can undo a trade).
    pub fn can_cancel(&self) -> bool {
        matches!(self, Self::AwaitingPayment)
    }

    /// A party may open a dispute: once paid, until the trade settles (a delivered trade only
    /// within its acceptance period, which the service checks against the clock).
    pub fn can_dispute(&self) -> bool {
        matches!(self, Self::Paid | Self::Delivered)
    }
}

code_enum! {
    /// An offer or counter-offer on a negotiable listing.
    OfferStatus {
        Open => "open", "待回复", "Open";
        Countered => "countered", "已还价", "Countered";
        Accepted => "accepted", "已接受", "Accepted";
        Rejected => "rejected", "已拒绝", "Rejected";
        Withdrawn => "withdrawn", "已撤回", "Withdrawn";
        Expired => "expired", "已过期", "Expired";
        Closed => "closed", "已关闭", "Closed";
    }
}

impl OfferStatus {
    /// Only an open offer may be countered, accepted, rejected or withdrawn.
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Open)
    }
}

code_enum! {
    /// An auction: scheduled until its listing is approved, open until it closes.
    AuctionStatus {
        Scheduled => "scheduled", "未开始", "Scheduled";
        Open => "open", "竞价中", "Open";
        Closed => "closed", "已结束", "Closed";
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_actions_follow_the_lifecycle() {
        use ListingStatus::*;
        let editable: Vec<_> = ListingStatus::ALL.iter().filter(|s| s.can_edit()).collect();
        assert_eq!(editable, [&Draft, &Rejected]);
        let submittable: Vec<_> = ListingStatus::ALL
            .iter()
            .filter(|s| s.can_submit())
            .collect();
        assert_eq!(submittable, [&Draft, &Rejected]);
        let withdrawable: Vec<_> = ListingStatus::ALL
            .iter()
            .filter(|s| s.can_withdraw())
            .collect();
        assert_eq!(withdrawable, [&Draft, &PendingReview, &Listed, &Rejected]);
        let reviewable: Vec<_> = ListingStatus::ALL
            .iter()
            .filter(|s| s.can_review())
            .collect();
        assert_eq!(reviewable, [&PendingReview]);
        assert_eq!(ListingStatus::after_review(true), Listed);
        assert_eq!(ListingStatus::after_review(false), Rejected);
        assert!(!Draft.is_public() && Sold.is_public());
        assert_eq!(PendingReview.code(), "pending_review");
    }

    #[test]
    fn trade_actions_follow_the_lifecycle() {
        use TradeStatus::*;
        assert!(AwaitingPayment.can_pay() && AwaitingPayment.can_cancel());
        assert!(!AwaitingPayment.can_settle());
        assert!(Paid.can_settle() && !Paid.can_cancel() && !Paid.can_pay());
        assert!(!Settled.can_cancel() && !Cancelled.can_pay());
        let disputable: Vec<_> = TradeStatus::ALL
            .iter()
            .filter(|s| s.can_dispute())
            .collect();
        assert_eq!(disputable, [&Paid, &Delivered]);
        assert!(!Disputed.can_settle() && !Disputed.can_cancel() && !Disputed.can_deliver());
        assert_eq!(
            TradeStatus::parse("awaiting_payment"),
            Some(AwaitingPayment)
        );
    }

    #[test]
    fn only_open_offers_are_open() {
        let open: Vec<_> = OfferStatus::ALL.iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [&OfferStatus::Open]);
        assert_eq!(AuctionStatus::Scheduled.code(), "scheduled");
    }
}
