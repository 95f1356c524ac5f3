//! Fee schedules: quotes, versions, maker–checker approval, simulation.
