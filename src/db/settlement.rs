//! SQL for: Payment, delivery, the ledger, statements, credit restrictions.
