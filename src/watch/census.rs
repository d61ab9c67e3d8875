//! The BPF programs and maps loaded system-wide, said whenever the count
//! changes while a watched run swaps schedulers: each swap loads a new
//! scheduler beside the old one, and the count falls back once the kernel
//! has let go of the old one. A count that keeps growing is a leak.

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
    /// Counts, if it is time, and says the count if it changed:
    /// `bpf loaded system-wide: programs=9 maps=6`.
    pub fn poll(&mut self) {
        let now = Instant::now();
        if self.next.is_some_and(|next| now < next) {
            return;
        }
        self.next = Some(now + EVERY);
        let count = count_loaded_bpf();
        if count.is_some() && count != self.said {
            self.said = count;
            super::say(&format!("{PREFIX}{}", count.expect("just checked")));
        }
    }
}

/// How the census's lines begin.
const PREFIX: &str = "bpf loaded system-wide: ";
