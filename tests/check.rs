//! Front-end tests: the checker's diagnostics on bad policies (snapshots in
//! `tests/bad/` and `tests/warn/`), the good policies in `policies/`, and the
//! `schedc check` command line.
//!
//! Each `NAME.policy` in `tests/bad/` must fail to check, and everything it
//! reports, drawn by `Report::render_plain(100)`, must equal `NAME.expected`.
//! Each policy in `tests/warn/` must check, with warnings, likewise.
//! Run with `SCHEDC_BLESS=1` to rewrite the `.expected` files after reviewing
//! a change to the diagnostics.

mod common;

use common::{blessing, display_name, policies_in, render, root};

use std::fs;
use std::process::Command;

use schedc_compiler::check_source;

/// Compares every policy of `dir` with its snapshot. `want_ok` says whether
/// the policies should check (with warnings) or fail.
fn snapshots(dir: &str, want_ok: bool, min_files: usize) {
    let dir = root().join(dir);
    let files = policies_in(&dir);
    assert!(
        files.len() >= min_files,
        "expected at least {min_files} policies in {}, found {}",
        dir.display(),
        files.len()
    );
    let bless = blessing();
    let mut failures = Vec::new();
    for path in &files {
        let name = display_name(path);
        let src = fs::read_to_string(path).expect("policy is readable");
        let reports = match (check_source(&name, &src), want_ok) {
            (Err(reports), false) => reports,
            (Ok(checked), true) if !checked.warnings.is_empty() => checked.warnings,
            (Ok(_), true) => {
                failures.push(format!("{name}: checks without any warning"));
                continue;
            }
            (Ok(checked), false) => {
                failures.push(format!("{name}: unexpectedly checks ({} warnings)", checked.warnings.len()));
                continue;
            }
            (Err(reports), true) => {
                failures.push(format!("{name}: unexpectedly fails to check:\n{}", render(&reports)));
                continue;
            }
        };
        if !want_ok {
            assert!(reports.iter().any(|r| r.diagnostic.is_error()), "{name}: Err without an error");
        }
        let got = render(&reports);
        let expected_path = path.with_extension("expected");
        if bless {
            fs::write(&expected_path, &got).expect("snapshot is writable");
            continue;
        }
        match fs::read_to_string(&expected_path) {
            Ok(want) if want == got => {}
            Ok(want) => failures.push(format!(
                "{name}: output differs from {}\n{}",
                display_name(&expected_path),
                diff(&want, &got)
            )),
            Err(_) => failures
                .push(format!("{name}: no snapshot {}; run with SCHEDC_BLESS=1\n{got}", display_name(&expected_path))),
        }
    }
    // A snapshot whose policy is gone is a leftover.
    for entry in fs::read_dir(&dir).expect("readable") {
        let p = entry.expect("entry").path();
        if p.extension().is_some_and(|e| e == "expected") && !p.with_extension("policy").exists() {
            failures.push(format!("{}: snapshot without a policy", display_name(&p)));
        }
    }
    assert!(failures.is_empty(), "{} of {} policies failed:\n\n{}", failures.len(), files.len(), failures.join("\n\n"));
}

/// A line diff, good enough to see what changed in a snapshot.
fn diff(want: &str, got: &str) -> String {
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let mut out = String::new();
    for i in 0..w.len().max(g.len()) {
        match (w.get(i), g.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                if let Some(a) = a {
                    out.push_str(&format!("  line {}: - {a}\n", i + 1));
                }
                if let Some(b) = b {
                    out.push_str(&format!("  line {}: + {b}\n", i + 1));
                }
            }
        }
    }
    out
}

#[test]
fn bad_policies_match_their_snapshots() {
    snapshots("tests/bad", false, 35);
}

#[test]
fn questionable_policies_warn_as_in_their_snapshots() {
    snapshots("tests/warn", true, 3);
}

#[test]
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

#[test]
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

#[test]
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

#[test]
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

#[test]
fn cli_fails_on_a_missing_file() {
    let (code, _, stderr) = schedc(&["check", "tests/no-such-file.policy"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("cannot read tests/no-such-file.policy"), "{stderr}");
}

#[test]
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

#[test]
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
