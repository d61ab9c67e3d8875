//! What the latency probe costs (`cargo bench -p schedc-runtime`; needs
//! root and a kernel with BTF, not sched_ext).
//!
//! A ping-pong of two threads over a socket pair makes every round trip two
//! wake-ups and two context switches. It runs alternately without and with
//! the probe attached (the probe with the kernel's BPF run-time statistics
//! on), and prints the round-trip time of each and, from the statistics,
//! the probe's own time per event: the number docs/latency.md quotes.
//! `SCHEDC_BENCH_ROUNDS` (default 3) and `SCHEDC_BENCH_TRIPS` (default
//! 200000) size it.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use schedc_runtime::latency::{LatencyProbe, ProbeOptions};

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Mean time of one round trip over `trips` round trips.
fn ping_pong(trips: u32) -> Duration {
    let (mut near, mut far) = UnixStream::pair().expect("socket pair");
    let echo = std::thread::spawn(move || {
        let mut byte = [0u8];
        for _ in 0..trips {
            far.read_exact(&mut byte).expect("ping");
            far.write_all(&byte).expect("pong");
        }
    });
    let started = Instant::now();
    let mut byte = [7u8];
    for _ in 0..trips {
        near.write_all(&byte).expect("ping");
        near.read_exact(&mut byte).expect("pong");
    }
    let took = started.elapsed();
    echo.join().expect("echo thread");
    took / trips
}

fn main() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        println!("latency probe bench: skipped, it needs root to load BPF");
        return;
    }
    let (rounds, trips) = (env_or("SCHEDC_BENCH_ROUNDS", 3), env_or("SCHEDC_BENCH_TRIPS", 200_000));
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 1..=rounds {
        without.push(ping_pong(trips));
        let mut probe = LatencyProbe::attach(None, &ProbeOptions { measure_cost: true }).expect("probe attaches");
        with.push(ping_pong(trips));
        probe.interval().expect("histograms read");
        let cost = probe.cost();
        let runs: u64 = cost.iter().map(|c| c.runs).sum();
        let time: u64 = cost.iter().map(|c| c.run_time_ns).sum();
        let each: Vec<String> =
            cost.iter().map(|c| format!("{} {}ns", c.prog, c.run_time_ns / c.runs.max(1))).collect();
        println!(
            "round {round}: round trip {:.2}us without the probe, {:.2}us with it; probe {}ns per event over {runs} events ({}); {} waits measured",
            without[round as usize - 1].as_secs_f64() * 1e6,
            with[round as usize - 1].as_secs_f64() * 1e6,
            time / runs.max(1),
            each.join(", "),
            probe.total().all.count(),
        );
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1e6
    };
    println!(
        "median round trip: {:.2}us without, {:.2}us with the probe (4 events per round trip)",
        median(&mut without),
        median(&mut with)
    );
}
