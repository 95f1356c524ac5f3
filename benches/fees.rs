//! How long one fee quote takes on the six-band unified schedule (target: < 100 ns).

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use techmarket::domain::fees::unified_v1;

/// Amounts in every band of the schedule, from below the minimum fee to above 1 亿元.
const AMOUNTS_FEN: [i64; 8] = [
    1_500_000,
    87_654_321,
    350_000_000,
    777_777_777,
    3_000_000_000,
    8_000_000_000,
    123_456_789_012,
    100_000_000_000_000,
];

fn quote_six_bands(c: &mut Criterion) {
    let schedule = unified_v1();
    let mut i = 0usize;
    c.bench_function("quote_six_bands", |b| {
        b.iter(|| {
            i = (i + 1) % AMOUNTS_FEN.len();
            black_box(&schedule).quote(black_box(AMOUNTS_FEN[i]))
        })
    });
}

criterion_group!(benches, quote_six_bands);
criterion_main!(benches);
