//! State changes that others react to, and how they hear of them.
/// Live events for open pages: the LISTEN/NOTIFY hub and the after-commit sender.
pub mod live;
