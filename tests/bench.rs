//! `schedc bench --from FILE` writes the table, results.json and SVG of a
//! fixed results file, tests/bench/results.json (real measurements: the
//! interactive workload, two rounds, default against bpfland, 6.12 in icount
//! mode and 7.2 in real time), and tests/bench/reference.json (a run with
//! a hand-written `--reference` object): each must equal its insta
//! snapshot in tests/bench.
//! After a deliberate change, review with `cargo insta review`, or
//! `INSTA_UPDATE=always cargo test --test bench`.

use std::path::Path;
use std::process::Command;

mod common;

use common::{root, snapshot_settings};

/// Runs `schedc bench` with `args` and the output directory; its stdout.
fn bench(args: &[&str], out: &Path) -> (bool, String, String) {
    let run = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .arg("bench")
        .args(args)
        .arg("--out")
        .arg(out)
        .current_dir(root())
        .output()
        .expect("schedc runs");
    (run.status.success(), String::from_utf8_lossy(&run.stdout).into(), String::from_utf8_lossy(&run.stderr).into())
}

/// Writes the files of the fixed results `tests/bench/{name}.json` and
/// compares them with the snapshots `{prefix}table` and `{prefix}svg`.
fn files_of_fixed_results(name: &str, prefix: &str) {
    let relative = format!("tests/bench/{name}.json");
    let input = root().join(&relative);
    let out = tempfile::tempdir().unwrap();
    let (ok, stdout, stderr) = bench(&["--from", &relative], out.path());
    assert!(ok, "{stdout}\n{stderr}");
    let read = |name: &str| std::fs::read_to_string(out.path().join(name)).unwrap();
    let table = read("table.txt");
    let shown = out.path().display().to_string();
    assert_eq!(
        stdout.replace(&shown, "OUT"),
        format!("{table}wrote OUT/results.json\nwrote OUT/table.txt\nwrote OUT/bench.svg\n")
    );
    // Read and written again, the results are the same file.
    assert_eq!(read("results.json"), std::fs::read_to_string(&input).unwrap());
    snapshot_settings("tests/bench", &input).bind(|| {
        insta::assert_snapshot!(format!("{prefix}table"), table);
        insta::assert_snapshot!(format!("{prefix}svg"), read("bench.svg"));
    });
}

#[test]
fn table_json_and_svg_of_a_fixed_results_file() {
    files_of_fixed_results("results", "");
}

/// A hand-written reference beside the policies (`--reference`): named by
/// its ops name, and on a kernel that would not load it, the reason.
#[test]
fn table_json_and_svg_with_a_reference() {
    files_of_fixed_results("reference", "reference-");
}

#[test]
fn results_of_another_version_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("results.json");
    std::fs::write(&old, r#"{"version": 0, "kernels": []}"#).unwrap();
    let (ok, _, stderr) = bench(&["--from", old.to_str().unwrap()], &dir.path().join("out"));
    assert!(!ok);
    assert!(stderr.contains("it is version 0; this schedc reads version 1"), "{stderr}");
}
