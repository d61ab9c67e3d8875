//! A short `schedc bench` in a guest of each test kernel (one workload,
//! one policy, two rounds, a minute or two per kernel): it fails when the
//! harness breaks (no numbers, the scheduler never enabled, an error in
//! the guest), never on the values measured.
//!
//! Under CI (CI=true) a missing kernel, QEMU or rt-tests is a failure;
//! elsewhere the test is reported ignored, with the reason.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[path = "../runtime/tests/vmtest/mod.rs"]
mod vmtest;

use schedc_testkit::Missing;
use vmtest::{available_kernels, missing_prerequisite};

/// Far above what one kernel takes (about 75 s, or 105 s when icount's
/// floor sends it to a second boot in real time); a bench that ignored
/// --workload or --rounds would run for many minutes.
const LIMIT: Duration = Duration::from_secs(300);

fn main() {
    schedc_testkit::run_guests(vec![schedc_testkit::test(
        "a_short_bench_measures_default_and_bpfland_alternating",
        a_short_bench_measures_default_and_bpfland_alternating,
    )])
}

fn a_short_bench_measures_default_and_bpfland_alternating() -> Result<(), Missing> {
    if let Some(why) = missing_prerequisite() {
        return Err(Missing::new(why));
    }
    for tool in ["cyclictest", "hackbench"] {
        if Command::new(tool).arg("--help").output().is_err() {
            return Err(Missing::new(format!("{tool} is not installed (apt-get install rt-tests)")));
        }
    }
    for kernel in available_kernels() {
        short_bench(&kernel);
    }
    Ok(())
}

/// One kernel's bench, with the mode left to `schedc bench`: icount, or
/// real time when icount's idle floor is not sane on that kernel.
fn short_bench(kernel: &Path) {
    let out = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let started = Instant::now();
    let run = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .arg("bench")
        .arg(root.join("policies/bpfland.policy"))
        .arg("--kernel")
        .arg(kernel)
        .args(["--workload", "interactive", "--rounds", "2", "--out"])
        .arg(out.path())
        .output()
        .expect("schedc runs");
    let took = started.elapsed();
    let (stdout, stderr) = (String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));
    let ctx = format!("schedc bench on {}:\n{stdout}\n--- stderr ---\n{stderr}", kernel.display());
    assert!(run.status.success(), "{ctx}");
    println!("bench on {} took {:.0}s", kernel.display(), took.as_secs_f64());
    assert!(took < LIMIT, "a short bench took {took:?}: {ctx}");

    // The progress names every measurement, alternating, round by round.
    let progress: Vec<&str> = stderr.lines().filter_map(|l| l.split_once("] ").map(|(_, what)| what)).collect();
    let order: Vec<&&str> = progress.iter().filter(|p| p.starts_with("interactive under")).collect();
    // A policy is named by its file name when no other target shares it.
    let policy = "bpfland.policy";
    let expected: Vec<String> = (1..=2)
        .flat_map(|r| {
            [format!("interactive under default, round {r}/2"), format!("interactive under {policy}, round {r}/2")]
        })
        .collect();
    assert_eq!(order, expected.iter().collect::<Vec<_>>(), "{ctx}");

    // Every sample has numbers: wake-ups and runqueue waits; the boot says
    // which clock mode it used and why.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("results.json")).expect("results.json")).unwrap();
    assert_eq!(json["version"], 1, "{json}");
    let kernels = json["kernels"].as_array().expect("kernels");
    assert_eq!(kernels.len(), 1, "{json}");
    let measured = &kernels[0];
    assert!(matches!(measured["mode"].as_str(), Some("icount" | "realtime")), "{json}");
    assert!(!measured["mode_reason"].as_str().unwrap_or("").is_empty(), "{json}");
    assert!(measured["floor"]["count"].as_u64().unwrap_or(0) > 1000, "no idle floor: {json}");
    // A policy the kernel stopped is left out, not an error of the bench;
    // here it must not happen.
    assert!(measured.get("left_out").is_none(), "a scheduler was left out: {json}");
    let samples = measured["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 4, "{json}");
    for s in samples {
        assert_eq!(s["measure"]["kind"], "wakeup", "{s}");
        assert!(s["measure"]["count"].as_u64().unwrap_or(0) > 1000, "too few wake-ups: {s}");
        assert!(s["runqueue"]["count"].as_u64().unwrap_or(0) > 0, "no runqueue waits: {s}");
    }
    assert!(stdout.contains("interactive  wake-up p99 (us)"), "no table: {ctx}");
    let svg = std::fs::read_to_string(out.path().join("bench.svg")).expect("bench.svg");
    assert!(svg.starts_with("<svg") && svg.contains("bpfland.policy"), "{svg}");
}
