//! Minimal loader over the public runtime API, used by the VM tests:
//!
//!     load OBJECT SECONDS [name=value ...]
//!
//! Prints machine-readable `schedc-load:` lines on stdout.

use std::process::ExitCode;
use std::time::Duration;

use schedc_runtime::{read_sched_ext_state, run, OpenOptions, RunEvent, RunOptions};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(obj), Some(secs)) = (args.first(), args.get(1).and_then(|s| s.parse::<u64>().ok())) else {
        eprintln!("usage: load OBJECT SECONDS [name=value ...]");
        return ExitCode::from(2);
    };
    let overrides =
        args[2..].iter().filter_map(|a| a.split_once('=').map(|(n, v)| (n.to_string(), v.to_string()))).collect();
    let opts = RunOptions {
        open: OpenOptions { overrides },
        duration: Some(Duration::from_secs(secs)),
        interval: Duration::from_secs(1),
        ..RunOptions::default()
    };
    let result = run(obj, &opts, |event| {
        let (RunEvent::Attached { stats, .. } | RunEvent::Interval { stats, .. }) = event else { return };
        if let RunEvent::Attached { scheduler: sched, .. } = event {
            for v in sched.verifier_stats() {
                println!("schedc-load: verifier prog={} insns={} processed={}", v.prog, v.insns, v.verified_insns);
            }
            for f in sched.dropped_ops_flags() {
                println!("schedc-load: dropped ops flag {}", f.word());
            }
            for (p, v) in sched.params() {
                println!("schedc-load: param {}={}", p.name, v);
            }
            let st = read_sched_ext_state();
            println!(
                "schedc-load: attached state={} ops={}",
                st.as_ref().map_or("none", |s| s.state.as_str()),
                st.as_ref().and_then(|s| s.ops.as_deref()).unwrap_or("none")
            );
        }
        let line: Vec<String> = stats.iter().map(|(s, v)| format!("{}={}", s.name, v)).collect();
        println!("schedc-load: tick {}", line.join(" "));
    });
    match result {
        Ok(report) => {
            for (s, v) in &report.stats {
                println!("schedc-load: stat {}={}", s.name, v);
            }
            if let Some(exit) = &report.exit {
                println!("schedc-load: exit kind={} {exit}", exit.kind);
                let dump = exit.dump_lines();
                println!("schedc-load: dump lines={} first={}", dump.len(), dump.first().map_or("", |l| l.as_str()));
            }
            println!("schedc-load: stopped reason={:?} after_ms={}", report.reason, report.ran_for.as_millis());
            if report.exit.as_ref().is_some_and(|e| e.is_error()) {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("schedc-load: error {}", e.to_string().lines().next().unwrap_or(""));
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
