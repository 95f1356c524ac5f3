//! The market's clock: the system clock in production, a settable one in tests, so that deadlines
//! (auction ends, offer expiry, unpaid trades, and later deposits and settlement periods) can be
//! tested by moving time instead of sleeping or back-dating rows.
//!
//! Services and jobs that decide on time take `now` from here ([`crate::service::AppState::clock`])
//! and pass it down: `domain` never reads a clock, and `db` compares with the `now` it is given.
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};

#[derive(Clone, Default)]
pub struct Clock(Inner);

#[derive(Clone, Default)]
enum Inner {
    #[default]
    System,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// The system clock (what `serve` uses).
    pub fn system() -> Self {
        Clock(Inner::System)
    }

    /// A clock that stands still at `at` until it is set or advanced (tests). Clones share it.
    pub fn manual(at: DateTime<Utc>) -> Self {
        Clock(Inner::Manual(Arc::new(Mutex::new(at))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Inner::System => Utc::now(),
            Inner::Manual(at) => *at.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self.0, Inner::Manual(_))
    }

    /// Sets a manual clock. Panics on the system clock: a test that means to move time must
    /// not silently run on the real one.
    pub fn set(&self, to: DateTime<Utc>) {
        match &self.0 {
            Inner::System => panic!("the system clock cannot be set; use Clock::manual"),
            Inner::Manual(at) => *at.lock().unwrap_or_else(|e| e.into_inner()) = to,
        }
    }

    /// Moves a manual clock forward (or back, with a negative delta). Panics on the system clock.
    pub fn advance(&self, by: TimeDelta) {
        self.set(self.now() + by);
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::System => f.write_str("Clock::system"),
            Inner::Manual(_) => write!(f, "Clock::manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved_and_clones_share_it() {
        let start = Utc::now() - TimeDelta::days(3);
        let clock = Clock::manual(start);
        let shared = clock.clone();
        assert_eq!(clock.now(), start);
        shared.advance(TimeDelta::days(15));
        assert_eq!(clock.now(), start + TimeDelta::days(15));
        clock.set(start);
        assert_eq!(shared.now(), start);
        assert!(clock.is_manual());
    }

    #[test]
    fn the_system_clock_follows_the_system_time() {
        let before = Utc::now();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now());
        assert!(!Clock::default().is_manual());
    }

    #[test]
    #[should_panic(expected = "cannot be set")]
    fn the_system_clock_refuses_to_be_moved() {
        Clock::system().advance(TimeDelta::days(1));
    }
}
