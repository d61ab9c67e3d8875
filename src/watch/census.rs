//! The BPF programs and maps loaded system-wide, said whenever the count
//! changes, and after every swap, while a watched run swaps schedulers:
//! each swap loads a new scheduler beside the old one, and the count falls
//! back once the kernel has let go of the old one. A count that keeps
//! growing is a leak.

use std::time::{Duration, Instant};

use schedc_runtime::{count_loaded_bpf, LoadedBpf};

/// How often the count is taken: the IDs are walked one syscall each.
const EVERY: Duration = Duration::from_millis(500);

/// The last count said, and when to count again.
#[derive(Default)]
pub struct BpfCensus {
    said: Option<LoadedBpf>,
    next: Option<Instant>,
}

impl BpfCensus {
    /// Says the count at the next poll even if it did not change: after a
    /// swap, so that every swap is followed by a count.
    pub fn recount(&mut self) {
        self.said = None;
        self.next = None;
    }

    /// Counts, if it is time, and says the count if it changed:
    /// `bpf loaded system-wide: programs=9 maps=6`.
    pub fn poll(&mut self) {
        let now = Instant::now();
        if self.next.is_some_and(|next| now < next) {
            return;
        }
        self.next = Some(now + EVERY);
        if let Some(count) = count_loaded_bpf().filter(|c| self.said != Some(*c)) {
            self.said = Some(count);
            super::say(&format!("{PREFIX}{count}"));
        }
    }
}

/// How the census's lines begin.
const PREFIX: &str = "bpf loaded system-wide: ";
