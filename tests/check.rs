//! Front-end tests: the checker's diagnostics on bad policies (snapshots in
//! `tests/bad/` and `tests/warn/`), the good policies in `policies/`, and the
//! `schedc check` command line.
//!
//! Each `NAME.policy` in `tests/bad/` is its own test, `bad::NAME`: the
//! policy must fail to check, and everything it reports, drawn by
//! `Report::render_plain(100)`, must equal the insta snapshot `NAME.snap`
//! beside it. Each policy in `tests/warn/` (`warn::NAME`) must check, with
//! warnings, likewise. After reviewing a change to the diagnostics, accept it
//! with `cargo insta review`, or `INSTA_UPDATE=always cargo test --test check`.

mod common;

use common::{display_name, orphan_snapshots, policies_in, render, root, snapshot_settings, stem};

use std::fs;
use std::path::Path;
use std::process::Command;

use schedc_compiler::check_source;
use schedc_testkit::{self as testkit, Trial};

fn main() {
    let mut trials = snapshot_tests("bad", "tests/bad", 35, Outcome::Errors);
    trials.extend(snapshot_tests("warn", "tests/warn", 3, Outcome::Warnings));
    trials.extend(testkit::always_all![
        shipped_policies_check_without_errors,
        vm_test_policies_check_without_errors,
        cli_prints_a_summary_per_good_policy,
        cli_reports_every_error_of_a_bad_policy_with_its_location,
        cli_reports_syntax_errors_in_several_items,
        cli_fails_on_a_missing_file,
        the_timeout_is_a_literal_not_a_parameter,
        let_names_of_a_formula_block_are_known_in_its_result,
    ]);
    testkit::run(trials)
}

/// What checking the policies of a snapshot folder must give.
#[derive(Clone, Copy)]
enum Outcome {
    /// Errors (and perhaps warnings): the policy fails to check.
    Errors,
    /// The policy checks, with warnings.
    Warnings,
}

/// One test per policy of `dir`, named `GROUP::NAME`, and one that the
/// folder holds at least `min` policies and no snapshot without its policy.
fn snapshot_tests(group: &str, dir: &'static str, min: usize, outcome: Outcome) -> Vec<Trial> {
    let files = policies_in(dir);
    let count = files.len();
    let mut trials: Vec<Trial> = files
        .into_iter()
        .map(|path| testkit::always(format!("{group}::{}", stem(&path)), move || matches_snapshot(dir, &path, outcome)))
        .collect();
    trials.push(testkit::always(format!("{group}::every_snapshot_has_its_policy"), move || {
        assert!(count >= min, "expected at least {min} policies in {dir}, found {count}");
        let orphans = orphan_snapshots(dir, |name| root().join(dir).join(format!("{name}.policy")));
        assert!(orphans.is_empty(), "{}", orphans.join("\n"));
    }));
    trials
}

/// Checks the policy at `path` and compares what it reports with its snapshot.
fn matches_snapshot(dir: &str, path: &Path, outcome: Outcome) {
    let name = display_name(path);
    let src = fs::read_to_string(path).expect("policy is readable");
    let reports = match (check_source(&name, &src), outcome) {
        (Err(reports), Outcome::Errors) => {
            assert!(reports.iter().any(|r| r.diagnostic.is_error()), "{name}: Err without an error");
            reports
        }
        (Ok(checked), Outcome::Warnings) => {
            assert!(!checked.warnings.is_empty(), "{name}: checks without any warning");
            checked.warnings
        }
        (Ok(checked), Outcome::Errors) => panic!("{name}: unexpectedly checks ({} warnings)", checked.warnings.len()),
        (Err(reports), Outcome::Warnings) => panic!("{name}: unexpectedly fails to check:\n{}", render(&reports)),
    };
    snapshot_settings(dir, path).bind(|| insta::assert_snapshot!(stem(path), render(&reports)));
}

fn shipped_policies_check_without_errors() {
    let files = policies_in("policies");
    assert!(files.len() >= 4, "the four shipped policies are there");
    for path in files {
        let name = display_name(&path);
        let src = fs::read_to_string(&path).expect("readable");
        match check_source(&name, &src) {
            Ok(checked) => {
                assert!(checked.warnings.is_empty(), "{name} checks but warns:\n{}", render(&checked.warnings))
            }
            Err(reports) => panic!("{name} fails to check:\n{}", render(&reports)),
        }
    }
}

/// The policies the VM tests compile inside their guests check here too, so
/// that a language change that breaks one fails in seconds, not in a VM test
/// minutes into CI.
fn vm_test_policies_check_without_errors() {
    let files = policies_in("tests/vm");
    assert!(files.len() >= 5, "the VM tests' policies are there");
    for path in files {
        let name = display_name(&path);
        let src = fs::read_to_string(&path).expect("readable");
        if let Err(reports) = check_source(&name, &src) {
            panic!("{name} fails to check:\n{}", render(&reports));
        }
    }
}

// ---------------------------------------------------------------- the CLI

fn schedc(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_schedc"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("schedc runs");
    let code = out.status.code().expect("schedc exits normally");
    (code, String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn cli_prints_a_summary_per_good_policy() {
    let files: Vec<String> = policies_in("policies").iter().map(|p| display_name(p)).collect();
    let args: Vec<&str> = std::iter::once("check").chain(files.iter().map(String::as_str)).collect();
    let (code, stdout, stderr) = schedc(&args);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stderr.is_empty(), "good policies print no diagnostics:\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len(), "one line per policy:\n{stdout}");
    for (line, file) in lines.iter().zip(&files) {
        assert!(line.starts_with(&format!("{file}: ok: scheduler `")), "unexpected summary: {line}");
    }
    assert!(
        stdout.contains("policies/bpfland.policy: ok: scheduler `bpfland`; queues: direct, prio, shared;"),
        "{stdout}"
    );
}

fn cli_reports_every_error_of_a_bad_policy_with_its_location() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bad = dir.path().join("two.policy");
    fs::write(
        &bad,
        "scheduler two \"two mistakes\" timeout 5s\n\
         queue shared shared fifo\n\
         enqueue { else -> shraed }\n\
         dispatch { shared }\n\
         slice = 5ms + 1\n",
    )
    .expect("writable");
    let bad = bad.display().to_string();
    let good = "policies/fifo.policy";
    let (code, stdout, stderr) = schedc(&["check", good, &bad]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    // The good file is still checked and summarised.
    assert!(stdout.contains("policies/fifo.policy: ok: scheduler `fifo`"), "{stdout}");
    assert!(!stdout.contains("two.policy"), "a bad policy gets no summary line:\n{stdout}");
    // Both errors, each with file:line:col.
    assert!(stderr.contains("there is no queue named `shraed`"), "{stderr}");
    assert!(stderr.contains("did you mean `shared`?"), "{stderr}");
    assert!(stderr.contains(&format!("[{bad}:3:19]")), "location of the first error:\n{stderr}");
    assert!(stderr.contains("cannot apply `+` to a duration and a number"), "{stderr}");
    assert!(stderr.contains(&format!("[{bad}:5:9]")), "location of the second error:\n{stderr}");
    assert!(stderr.contains(&format!("{bad}: 2 errors")), "error count:\n{stderr}");
}

fn cli_reports_syntax_errors_in_several_items() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let bad = dir.path().join("syntax.policy");
    fs::write(
        &bad,
        "scheduler s \"two syntax errors\" timeout 5s\n\
         queue q shared lifo\n\
         enqueue { else -> q }\n\
         dispatch { q }\n\
         slice = 5ms +\n",
    )
    .expect("writable");
    let bad = bad.display().to_string();
    let (code, stdout, stderr) = schedc(&["check", &bad]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains(&format!("[{bad}:2:16]")), "the bad queue order:\n{stderr}");
    assert!(stderr.contains(&format!("[{bad}:5:")), "the unfinished slice:\n{stderr}");
    assert!(stderr.contains(&format!("{bad}: 2 errors")), "{stderr}");
}

fn cli_fails_on_a_missing_file() {
    let (code, _, stderr) = schedc(&["check", "tests/no-such-file.policy"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read tests/no-such-file.policy"), "{stderr}");
}

fn the_timeout_is_a_literal_not_a_parameter() {
    // A parameter's default would be baked into the object, and `--set`
    // could not change it: the checker says so instead.
    let src = "scheduler s \"timeout from a parameter\" timeout watchdog\n\
               param watchdog: duration = 5s \"watchdog timeout\" in 1s..20s\n\
               queue q shared fifo\n\
               enqueue { else -> q }\n\
               dispatch { q }\n\
               slice = 5ms\n";
    let reports = check_source("t.policy", src).expect_err("a parameter cannot set the timeout");
    let text = render(&reports);
    assert!(text.contains("the watchdog timeout must be a constant duration"), "{text}");
}

fn let_names_of_a_formula_block_are_known_in_its_result() {
    let src = "scheduler s \"let in a formula\" timeout 5s\n\
               param base: duration = 10ms \"base slice\" in 1ms..1s\n\
               queue q shared fifo\n\
               enqueue { else -> q }\n\
               dispatch { q }\n\
               slice {\n    let waiting = queue.q.len\n    max(base / (waiting + 1), 100us)\n}\n";
    let checked = check_source("t.policy", src).unwrap_or_else(|r| panic!("{}", render(&r)));
    assert!(checked.warnings.is_empty(), "{}", render(&checked.warnings));
    // But a `let` inside an `if` of the block ends with the `if`.
    let src = src.replace("let waiting = queue.q.len", "if true { let waiting = queue.q.len }");
    let reports = check_source("t.policy", &src).expect_err("waiting is out of scope");
    assert!(render(&reports).contains("unknown name `waiting`"), "{}", render(&reports));
}

#[test]
fn cli_draws_the_first_hundred_diagnostics_and_counts_the_others() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let many = dir.path().join("many.policy");
    let params: String = (0..20_000).map(|i| format!("param unused_{i}: uint = 1 \"never read\"\n")).collect();
    let src = format!(
        "scheduler many \"20,000 warnings\"\nqueue q shared fifo\nenqueue {{ else -> q }}\ndispatch {{ q }}\n{params}"
    );
    fs::write(&many, src).expect("writable");
    let (code, _, stderr) = schedc(&["check", &many.display().to_string()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr.matches("schedc::unused").count(), 100, "a hundred drawn");
    assert!(stderr.contains("parameter `unused_99` is never used"), "the first ones, in order");
    assert!(!stderr.contains("parameter `unused_100` is never used"), "no more");
    assert!(
        stderr
            .trim_end()
            .ends_with("... and 19900 more not drawn: 20000 warnings in all (`--message-format json` lists every one)"),
        "{}",
        &stderr[stderr.len().saturating_sub(300)..]
    );
}

/// A policy that is not UTF-8 is read by the command line, which reports
/// where (line and byte) and what the byte would be in Latin-1; the report
/// is a snapshot, `tests/encoding/NAME.expected`.
#[test]
fn cli_reports_a_policy_that_is_not_utf8() {
    let policy = "tests/encoding/latin1.policy";
    assert!(fs::read_to_string(root().join(policy)).is_err(), "the policy is not UTF-8");
    let (code, stdout, stderr) = schedc(&["check", policy]);
    assert_eq!(code, 1, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let expected = root().join(policy).with_extension("expected");
    if blessing() {
        fs::write(&expected, &stderr).expect("snapshot is writable");
        return;
    }
    let want = fs::read_to_string(&expected).expect("snapshot exists; run with SCHEDC_BLESS=1");
    assert!(want == stderr, "{policy}: output differs from its snapshot\n{}", diff(&want, &stderr));
}
