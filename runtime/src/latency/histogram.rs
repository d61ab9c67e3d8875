//! Log2 histograms of runqueue latency: bucket boundaries, percentile
//! estimates and their text rendering. Pure code, no BPF.
//!
//! Slot 0 holds waits under 1us; slot k (k >= 1) holds waits in
//! [2^(k-1) us, 2^k us). `latency_slot()` in `src/bpf/latency.bpf.c` puts
//! waits into the same slots.

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// Slots per histogram; the last one also takes everything longer.
pub const SLOTS: usize = 64;

/// Width of the widest bar in a rendered histogram.
const BAR_WIDTH: usize = 40;

/// The slot a wait of `ns` nanoseconds lands in.
pub fn slot_of(ns: u64) -> usize {
    let us = ns / 1000;
    if us == 0 {
        0
    } else {
        (us.ilog2() as usize + 1).min(SLOTS - 1)
    }
}

/// The range [lo, hi) of a slot in microseconds.
pub fn slot_range_us(slot: usize) -> (u64, u64) {
    match slot {
        0 => (0, 1),
        _ => (1 << (slot - 1), 1 << slot),
    }
}

/// A log2 histogram of waits, with their exact maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Histogram {
    slots: [u64; SLOTS],
    max_ns: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { slots: [0; SLOTS], max_ns: 0 }
    }
}

/// What a histogram says in five numbers; percentiles are estimates (see
/// [`Histogram::percentile_ns`]), the maximum is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub count: u64,
    pub p50_ns: u64,
    pub p90_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
}

impl Histogram {
    /// A histogram of the given slot counts and exact maximum.
    pub fn from_slots(slots: [u64; SLOTS], max_ns: u64) -> Histogram {
        Histogram { slots, max_ns }
    }

    /// Adds one wait.
    pub fn record(&mut self, ns: u64) {
        self.slots[slot_of(ns)] += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    /// Adds every wait of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.slots.iter_mut().zip(&other.slots) {
            *mine += theirs;
        }
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    pub fn slots(&self) -> &[u64; SLOTS] {
        &self.slots
    }

    pub fn count(&self) -> u64 {
        self.slots.iter().sum()
    }

    pub fn max_ns(&self) -> u64 {
        self.max_ns
    }

    /// The `p`-th percentile (0 < p <= 100) in nanoseconds, estimated from
    /// the slots: the wait of rank ceil(p% of count) is placed by linear
    /// interpolation inside its slot, whose upper end is capped at the exact
    /// maximum. So the estimate is never beyond the true slot of that wait,
    /// never above the maximum, and p100 is the maximum. 0 when empty.
    pub fn percentile_ns(&self, p: f64) -> u64 {
        let count = self.count();
        if count == 0 {
            return 0;
        }
        let rank = ((p / 100.0 * count as f64).ceil() as u64).clamp(1, count);
        let mut before = 0;
        for (slot, &n) in self.slots.iter().enumerate() {
            if n == 0 || before + n < rank {
                before += n;
                continue;
            }
            let (lo_us, hi_us) = slot_range_us(slot);
            let lo = lo_us.saturating_mul(1000).min(self.max_ns);
            let hi = hi_us.saturating_mul(1000).min(self.max_ns);
            let within = (rank - before) as f64 / n as f64;
            return lo + ((hi - lo) as f64 * within).round() as u64;
        }
        unreachable!("rank <= count, so some slot holds it")
    }

    pub fn summary(&self) -> Summary {
        Summary {
            count: self.count(),
            p50_ns: self.percentile_ns(50.0),
            p90_ns: self.percentile_ns(90.0),
            p99_ns: self.percentile_ns(99.0),
            max_ns: self.max_ns,
        }
    }

    /// A title line with the summary, then one line per slot from the
    /// lowest to the highest non-empty one:
    /// `  [256us, 512us)      5552 |@@@@@@@@@@          |`.
    pub fn render(&self, title: &str) -> String {
        let s = self.summary();
        if s.count == 0 {
            return format!("{title}: no waits\n");
        }
        let mut out = format!(
            "{title}: count {}  p50 {}  p90 {}  p99 {}  max {}\n",
            s.count,
            readable_ns(s.p50_ns),
            readable_ns(s.p90_ns),
            readable_ns(s.p99_ns),
            readable_ns(s.max_ns)
        );
        let first = self.slots.iter().position(|&n| n > 0).expect("count > 0");
        let last = self.slots.iter().rposition(|&n| n > 0).expect("count > 0");
        let widest = *self.slots.iter().max().expect("SLOTS > 0");
        let labels: Vec<String> = (first..=last).map(slot_label).collect();
        let label_width = labels.iter().map(String::len).max().unwrap_or(0);
        let count_width = widest.to_string().len();
        for (slot, label) in (first..=last).zip(&labels) {
            let n = self.slots[slot];
            // Any non-empty slot shows at least one mark.
            let marks = if n == 0 { 0 } else { ((n as u128 * BAR_WIDTH as u128 / widest as u128) as usize).max(1) };
            out.push_str(&format!(
                "  {label:<label_width$}  {n:>count_width$} |{}{}|\n",
                "@".repeat(marks),
                " ".repeat(BAR_WIDTH - marks)
            ));
        }
        out
    }
}

/// JSON: the summary and the non-empty slots with their bounds in
/// nanoseconds, e.g. `{"count":3,...,"slots":[{"lo_ns":256000,"hi_ns":512000,"count":3}]}`.
impl Serialize for Histogram {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Slot {
            lo_ns: u64,
            hi_ns: u64,
            count: u64,
        }
        let s = self.summary();
        let slots: Vec<Slot> = (0..SLOTS)
            .filter(|&i| self.slots[i] > 0)
            .map(|i| {
                let (lo, hi) = slot_range_us(i);
                Slot { lo_ns: lo.saturating_mul(1000), hi_ns: hi.saturating_mul(1000), count: self.slots[i] }
            })
            .collect();
        let mut st = serializer.serialize_struct("Histogram", 6)?;
        st.serialize_field("count", &s.count)?;
        st.serialize_field("p50_ns", &s.p50_ns)?;
        st.serialize_field("p90_ns", &s.p90_ns)?;
        st.serialize_field("p99_ns", &s.p99_ns)?;
        st.serialize_field("max_ns", &s.max_ns)?;
        st.serialize_field("slots", &slots)?;
        st.end()
    }
}

/// `[256us, 512us)`: a slot's range as it is printed.
fn slot_label(slot: usize) -> String {
    let (lo, hi) = slot_range_us(slot);
    if slot == 0 {
        "[0, 1us)".to_string()
    } else {
        format!("[{}, {})", us(lo), us(hi))
    }
}

/// A slot bound: microseconds up to 8192us, then milliseconds to one
/// decimal, then seconds to two (the bounds are powers of two in
/// microseconds, so only the first are exact).
fn us(v: u64) -> String {
    match v {
        0..=8192 => format!("{v}us"),
        8193..=999_999 => format!("{:.1}ms", v as f64 / 1e3),
        _ => format!("{:.2}s", v as f64 / 1e6),
    }
}

/// A latency as a person reads it, to three significant digits or so.
pub fn readable_ns(ns: u64) -> String {
    schedc_abi::units::rounded(i128::from(ns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_log2_microseconds() {
        assert_eq!(slot_of(0), 0);
        assert_eq!(slot_of(999), 0);
        assert_eq!(slot_of(1_000), 1);
        assert_eq!(slot_of(1_999), 1);
        assert_eq!(slot_of(2_000), 2);
        assert_eq!(slot_of(255_999), 8);
        assert_eq!(slot_of(256_000), 9);
        assert_eq!(slot_of(511_999), 9);
        assert_eq!(slot_of(512_000), 10);
        // u64::MAX ns is 1.8e16 us, between 2^54 and 2^55: the top slots
        // are never reached.
        assert_eq!(slot_of(u64::MAX), 55);
        for slot in 1..=54 {
            let (lo, hi) = slot_range_us(slot);
            assert_eq!(slot_of(lo * 1000), slot, "lower bound of slot {slot}");
            assert_eq!(slot_of(hi * 1000 - 1), slot, "just below the upper bound of slot {slot}");
        }
    }

    #[test]
    fn empty_histogram() {
        let h = Histogram::default();
        assert_eq!(h.summary(), Summary { count: 0, p50_ns: 0, p90_ns: 0, p99_ns: 0, max_ns: 0 });
        assert_eq!(h.render("all tasks"), "all tasks: no waits\n");
    }

    #[test]
    fn percentiles_interpolate_inside_the_slot_and_stop_at_the_maximum() {
        // 100 waits in [256us, 512us), the longest 400us.
        let mut h = Histogram::default();
        for _ in 0..99 {
            h.record(300_000);
        }
        h.record(400_000);
        assert_eq!(h.count(), 100);
        assert_eq!(h.max_ns(), 400_000);
        // rank 50 of 100 in [256us, 400us]: 256 + 144 * 0.5.
        assert_eq!(h.percentile_ns(50.0), 328_000);
        assert_eq!(h.percentile_ns(90.0), 385_600);
        assert_eq!(h.percentile_ns(100.0), 400_000);
    }

    #[test]
    fn percentiles_find_the_slot_of_their_rank() {
        // 90 short waits (slot 1, [1us, 2us)) and 10 long ones (slot 11, [1ms, 2ms)).
        let mut h = Histogram::default();
        for _ in 0..90 {
            h.record(1_500);
        }
        for _ in 0..10 {
            h.record(1_500_000);
        }
        let s = h.summary();
        assert_eq!(slot_of(1_500_000), 11);
        // p50: rank 50 of the 90 in [1us, 2us).
        assert_eq!(s.p50_ns, 1_000 + (1_000.0 * 50.0 / 90.0_f64).round() as u64);
        // p90: rank 90, the last short one: the top of its slot.
        assert_eq!(s.p90_ns, 2_000);
        // p99: rank 99, the 9th of 10 in [1024us, 1500us].
        assert_eq!(s.p99_ns, 1_024_000 + (476_000.0 * 0.9_f64).round() as u64);
        assert_eq!(s.max_ns, 1_500_000);
        assert!(s.p50_ns <= s.p90_ns && s.p90_ns <= s.p99_ns && s.p99_ns <= s.max_ns);
    }

    #[test]
    fn merge_adds_slots_and_keeps_the_larger_maximum() {
        let mut a = Histogram::default();
        a.record(500);
        let mut b = Histogram::default();
        b.record(3_000);
        b.record(700_000);
        a.merge(&b);
        assert_eq!(a.count(), 3);
        assert_eq!(a.max_ns(), 700_000);
        assert_eq!(a.slots()[0], 1);
        assert_eq!(a.slots()[2], 1);
        assert_eq!(a.slots()[10], 1);
    }

    #[test]
    fn renders_bars_scaled_to_the_fullest_slot() {
        let mut slots = [0; SLOTS];
        slots[9] = 5552; // [256us, 512us)
        slots[10] = 1388; // [512us, 1024us): a quarter
        slots[12] = 1; // [2048us, 4096us): shows one mark
        let h = Histogram::from_slots(slots, 3_000_000);
        let text = h.render("all tasks");
        let expected = "\
all tasks: count 6941  p50 416us  p90 768us  p99 999us  max 3.00ms
  [256us, 512us)    5552 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
  [512us, 1024us)   1388 |@@@@@@@@@@                              |
  [1024us, 2048us)     0 |                                        |
  [2048us, 4096us)     1 |@                                       |
";
        assert_eq!(text, expected);
    }

    #[test]
    fn long_slots_switch_units() {
        let mut h = Histogram::default();
        h.record(900); // [0, 1us)
        h.record(20_000_000); // 20ms: [16.4ms, 32.8ms)
        h.record(20_000_000_000); // 20s
        let text = h.render("t");
        assert!(text.contains("  [0, 1us) "), "{text}");
        assert!(text.contains("  [8192us, 16.4ms) "), "{text}");
        assert!(text.contains("  [16.4ms, 32.8ms) "), "{text}");
        assert!(text.contains("  [524.3ms, 1.05s) "), "{text}");
        assert!(text.contains("  [16.78s, 33.55s) "), "{text}");
        assert!(text.contains("max 20.00s"), "{text}");
    }

    #[test]
    fn serialises_summary_and_non_empty_slots() {
        let mut h = Histogram::default();
        h.record(300_000);
        h.record(300_000);
        h.record(1_500);
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                // p50: rank 2, the first of the two in [256us, 300us].
                "count": 3, "p50_ns": 278_000, "p90_ns": 300_000, "p99_ns": 300_000, "max_ns": 300_000,
                "slots": [
                    {"lo_ns": 1_000, "hi_ns": 2_000, "count": 1},
                    {"lo_ns": 256_000, "hi_ns": 512_000, "count": 2},
                ]
            })
        );
    }
}
