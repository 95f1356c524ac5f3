//! SQL for: Offers, fixed-price purchases and auctions.
