//! `--message-format json` and `--deny-warnings`: the JSON of every
//! diagnostic of every bad policy (one snapshot), the positions it gives,
//! and the command line around it.

mod cli;
mod common;

use common::{display_name, policies_in};

use std::fs;

use schedc_compiler::check_source;
use schedc_compiler::diag_json::JsonDiagnostic;
use schedc_compiler::source::Source;

#[test]
fn every_bad_policy_has_its_json_diagnostics() {
    let files = policies_in("tests/bad");
    assert!(files.len() >= 60, "tests/bad has its policies");
    let mut all = String::new();
    for path in files {
        let name = display_name(&path);
        let src = fs::read_to_string(&path).expect("readable");
        let reports = check_source(&name, &src).expect_err("a bad policy fails");
        all.push_str(&format!("=== {name}\n"));
        for report in &reports {
            let json = JsonDiagnostic::from_report(report);
            // The byte span and the line and column agree with the text.
            let line_text = src.lines().nth(json.line - 1).expect("the line exists");
            let before: String = line_text.chars().take(json.column - 1).collect();
            let line_start: usize = src.lines().take(json.line - 1).map(|l| l.len() + 1).sum();
            assert_eq!(line_start + before.len(), json.span.start.min(src.len()), "{name}: {}", json.message);
            all.push_str(&json.to_json_line());
            all.push('\n');
        }
    }
    insta::assert_snapshot!("json_diagnostics_of_bad_policies", all);
}

#[test]
fn positions_count_characters_and_utf16_units() {
    let src = "ab\n\u{e9}\u{1F600}x\n";
    let source = Source::new("t.policy", src);
    assert_eq!(source.line_col(0), (1, 1));
    let x = src.find('x').unwrap();
    assert_eq!(source.line_col(x), (2, 3));
    assert_eq!(source.utf16_position(x), (1, 3));
    assert_eq!(source.offset_of_utf16(1, 3), x);
    assert_eq!(source.offset_of_utf16(0, 99), 2, "past the end of a line is its end");
    assert_eq!(source.line_col(src.len() + 5), (3, 1), "past the end is the end");
}

#[test]
fn check_prints_one_json_object_per_line_on_stdout() {
    let run =
        cli::schedc(&["check", "--message-format", "json", "tests/bad/duplicate_names.policy", "policies/fifo.policy"]);
    assert_eq!(run.code, 1);
    let objects: Vec<serde_json::Value> =
        run.stdout.lines().map(|l| serde_json::from_str(l).expect("each line is JSON")).collect();
    assert_eq!(objects.len(), 4, "{}", run.stdout);
    let first = &objects[0];
    for field in ["code", "severity", "message", "file", "line", "column", "span", "labels", "help"] {
        assert!(first.get(field).is_some(), "no {field} in {first}");
    }
    assert_eq!(first["file"], "tests/bad/duplicate_names.policy");
    assert_eq!(first["labels"][1]["primary"], false);
    assert!(run.stderr.contains("policies/fifo.policy: ok:"), "the summary goes to stderr: {}", run.stderr);
}

#[test]
fn deny_warnings_fails_a_policy_that_only_has_warnings() {
    let policy = "tests/warn/unused_declarations.policy";
    assert_eq!(cli::schedc(&["check", policy]).code, 0);
    let denied = cli::schedc(&["check", "--deny-warnings", policy]);
    assert_eq!(denied.code, 1);
    assert!(denied.stderr.contains("(denied)"), "{}", denied.stderr);
    let compiled = cli::schedc(&["compile", "--deny-warnings", "--message-format", "json", "--emit", "c", policy]);
    assert_eq!(compiled.code, 1);
    assert!(compiled.stdout.lines().all(|l| l.contains("\"severity\":\"warning\"")), "{}", compiled.stdout);
    assert_eq!(cli::schedc(&["check", "--deny-warnings", "policies/bpfland.policy"]).code, 0);
}
