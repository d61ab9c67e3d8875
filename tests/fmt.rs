//! `schedc fmt`: the shipped policies are in the canonical layout; the messy
//! policies of `tests/fmt/` format as their snapshots say; formatting twice
//! changes nothing; formatting never changes the C a policy compiles to; a
//! policy with a syntax error is refused. Accept changed snapshots with
//! `cargo insta review` (or `INSTA_UPDATE=always`).

mod cli;
mod common;

use common::{display_name, policies_in, render, root};

use std::fs;
use std::path::{Path, PathBuf};

use schedc_compiler::fmt::{format, FormatError};
use schedc_compiler::{check_source, generate_c};

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn formatted(name: &str, src: &str) -> String {
    match format(name, src) {
        Ok(text) => text,
        Err(FormatError::Syntax(reports)) => panic!("{name} does not format:\n{}", render(&reports)),
        Err(FormatError::Unstable(what)) => panic!("{name}: the formatter would change {what}"),
    }
}

/// The C of a policy without the `/* FILE:LINE  text */` comments that
/// quote it, which move when the layout does, and without blank lines.
fn c_without_origins(name: &str, src: &str) -> Option<String> {
    let checked = check_source(name, src).ok()?;
    let c = generate_c(&checked);
    let mut out = String::with_capacity(c.len());
    let mut rest = c.as_str();
    // Origin comments name the policy by its file name.
    let file = Path::new(name).file_name().expect("a file name").to_string_lossy();
    let marker = format!("/* {file}:");
    while let Some(at) = rest.find(&marker) {
        out.push_str(&rest[..at]);
        let end = rest[at..].find("*/").expect("an origin comment ends");
        rest = &rest[at + end + 2..];
    }
    out.push_str(rest);
    // Statements that shared a source line share one origin comment; laid
    // out one per line, each has its own, on a line of its own.
    Some(out.lines().filter(|l| !l.trim().is_empty()).collect::<Vec<_>>().join("\n"))
}

/// Every policy the tests have that parses: shipped, messy, constructs,
/// warnings and the bad policies whose mistakes are not syntax errors.
fn parsing_policies() -> Vec<PathBuf> {
    ["policies", "tests/fmt", "tests/constructs", "tests/warn", "tests/bad"]
        .into_iter()
        .flat_map(policies_in)
        .filter(|p| schedc_compiler::parse::parse(&read(p)).1.is_empty())
        .collect()
}

#[test]
fn shipped_policies_are_in_the_canonical_layout() {
    let files = policies_in("policies");
    assert!(files.len() >= 4, "the four shipped policies are there");
    for path in files {
        let (name, src) = (display_name(&path), read(&path));
        let out = formatted(&name, &src);
        assert!(out == src, "{name} is not in the canonical layout; run `schedc fmt {name}`:\n{out}");
    }
}

#[test]
fn messy_policies_format_as_their_snapshots() {
    let files = policies_in("tests/fmt");
    assert!(files.len() >= 2, "tests/fmt has its messy policies");
    for path in files {
        let (name, src) = (display_name(&path), read(&path));
        let out = formatted(&name, &src);
        assert_ne!(out, src, "{name} should need formatting, or it tests nothing");
        let stem = path.file_stem().expect("a file name").to_string_lossy().into_owned();
        insta::assert_snapshot!(format!("fmt_{stem}"), out);
    }
}

#[test]
fn formatting_twice_changes_nothing() {
    let files = parsing_policies();
    assert!(files.len() > 40, "found only {} policies that parse", files.len());
    for path in files {
        let name = display_name(&path);
        let once = formatted(&name, &read(&path));
        let twice = formatted(&name, &once);
        assert!(once == twice, "{name}: formatting again changes it:\n--- once\n{once}\n--- twice\n{twice}");
    }
}

#[test]
fn formatting_keeps_every_comment_and_the_generated_c() {
    let mut compared = 0;
    for path in parsing_policies() {
        let (name, src) = (display_name(&path), read(&path));
        let out = formatted(&name, &src);
        let comments = |text: &str| -> Vec<String> {
            let mut found: Vec<String> =
                text.lines().filter_map(|l| l.find('#').map(|at| l[at..].trim_end().to_string())).collect();
            found.sort();
            found
        };
        // Strings never hold `#` in these policies, so every `#` starts a comment.
        assert!(!src.lines().any(|l| l.contains("\"#") || l.contains("#\"")), "{name} has a # in a string");
        assert_eq!(comments(&src), comments(&out), "{name}: the comments differ after formatting");
        match (c_without_origins(&name, &src), c_without_origins(&name, &out)) {
            (Some(before), Some(after)) => {
                if let Some((b, a)) = before.lines().zip(after.lines()).find(|(b, a)| b != a) {
                    panic!("{name}: formatting changed the generated C:\n-{b}\n+{a}");
                }
                assert_eq!(before.lines().count(), after.lines().count(), "{name}: the generated C changed length");
                compared += 1;
            }
            (None, None) => {}
            _ => panic!("{name}: formatting changed whether the policy checks"),
        }
    }
    assert!(compared > 20, "compared the C of only {compared} policies");
}

#[test]
fn syntax_errors_are_refused_with_the_parsers_diagnostics() {
    let bad: Vec<PathBuf> = policies_in("tests/bad")
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("syntax_"))
        .collect();
    assert!(bad.len() >= 5, "tests/bad has syntax-error policies");
    for path in bad {
        let (name, src) = (display_name(&path), read(&path));
        let Err(FormatError::Syntax(refused)) = format(&name, &src) else {
            panic!("{name}: a policy with a syntax error is not formatted")
        };
        let from_check = check_source(&name, &src).expect_err("it does not check either");
        assert_eq!(render(&refused), render(&from_check), "{name}: fmt and check disagree");
    }
}

#[test]
fn durations_are_written_in_their_largest_exact_unit() {
    let src = "scheduler d \"durations\" timeout 5000ms\nparam a: duration = 1_500us \"a\" in 0s..2000000ns\n";
    let out = formatted("d.policy", src);
    assert_eq!(out, "scheduler d \"durations\" timeout 5s\nparam a: duration = 1500us \"a\" in 0ns..2ms\n");
}

#[test]
fn needed_brackets_stay_and_the_authors_stay() {
    let src = "slice = (a - (b - c)) * (d)   +  -(-e)\nvtime charge = a - b - c\n";
    let out = formatted("p.policy", src);
    assert_eq!(out, "slice = (a - (b - c)) * (d) + -(-e)\nvtime charge = a - b - c\n");
}

#[test]
fn fmt_check_names_the_files_that_would_change_and_changes_nothing() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let messy = read(&root().join("tests/fmt/messy.policy"));
    let tidy = read(&root().join("policies/fifo.policy"));
    fs::write(dir.path().join("messy.policy"), &messy).unwrap();
    fs::write(dir.path().join("tidy.policy"), &tidy).unwrap();

    let run = cli::schedc_in(dir.path(), &["fmt", "--check", "messy.policy", "tidy.policy"], "");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(run.stdout, "messy.policy\n");
    assert_eq!(read(&dir.path().join("messy.policy")), messy, "--check changes nothing");

    let run = cli::schedc_in(dir.path(), &["fmt", "--check", "tidy.policy"], "");
    assert_eq!((run.code, run.stdout.as_str()), (0, ""));
}

#[test]
fn fmt_rewrites_files_in_place_and_formats_standard_input() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let messy = read(&root().join("tests/fmt/messy.policy"));
    let want = formatted("messy.policy", &messy);
    fs::write(dir.path().join("messy.policy"), &messy).unwrap();

    let run = cli::schedc_in(dir.path(), &["fmt", "messy.policy"], "");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "formatted messy.policy\n");
    assert_eq!(read(&dir.path().join("messy.policy")), want);
    let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind: {leftovers:?}");

    let run = cli::schedc_in(dir.path(), &["fmt", "-"], &messy);
    assert_eq!((run.code, run.stdout.as_str()), (0, want.as_str()), "{}", run.stderr);
}

#[test]
fn fmt_refuses_a_policy_with_syntax_errors_and_leaves_it_alone() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let broken = read(&root().join("tests/bad/syntax_two_errors.policy"));
    fs::write(dir.path().join("broken.policy"), &broken).unwrap();
    let run = cli::schedc_in(dir.path(), &["fmt", "broken.policy"], "");
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("schedc::syntax"), "the diagnostics are shown:\n{}", run.stderr);
    assert!(run.stderr.contains("broken.policy: not formatted"), "{}", run.stderr);
    assert_eq!(read(&dir.path().join("broken.policy")), broken);
}
