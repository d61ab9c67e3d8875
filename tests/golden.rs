//! Golden files: the C generated from every policy in `policies/` is kept
//! as the insta snapshot `tests/golden/NAME.snap`, so that any change to the
//! generated code shows up in review. Each policy is its own test,
//! `c::NAME`. After reviewing a change to lowering or the templates, accept
//! it with `cargo insta review`, or `INSTA_UPDATE=always cargo test --test
//! golden`.
//!
//! The generated C of those policies, and of the construct policies in
//! `tests/constructs/`, must also be laid out as the kernel's C is (tabs for
//! indentation, no trailing white space), and every `/* FILE:LINE  text */`
//! comment must quote the policy line it names.

mod common;

use common::{display_name, orphan_snapshots, policies_in, render, root, snapshot_settings, stem};

use std::fs;
use std::path::Path;

use schedc_compiler::{check_source, generate_c};
use schedc_testkit as testkit;

const GOLDEN: &str = "tests/golden";

fn main() {
    let policies = policies_in("policies");
    let count = policies.len();
    let mut trials: Vec<_> = policies
        .into_iter()
        .map(|path| testkit::always(format!("c::{}", stem(&path)), move || matches_golden(&path)))
        .collect();
    trials.push(testkit::always("c::every_snapshot_has_its_policy", move || {
        assert!(count >= 4, "the four shipped policies are there, found {count}");
        let orphans = orphan_snapshots(GOLDEN, |name| root().join("policies").join(format!("{name}.policy")));
        assert!(orphans.is_empty(), "{}", orphans.join("\n"));
    }));
    trials.extend(testkit::always_all![
        shipped_policies_generate_tidy_c_with_true_origin_comments,
        construct_policies_generate_tidy_c_with_true_origin_comments,
        layout_and_origin_checks_catch_mistakes,
    ]);
    testkit::run(trials)
}

/// The policy's text and the C generated from it, or why there is none.
fn generate(path: &Path) -> Result<(String, String), String> {
    let name = display_name(path);
    let src = fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let checked =
        check_source(&name, &src).map_err(|reports| format!("{name} fails to check:\n{}", render(&reports)))?;
    let c = generate_c(&checked);
    Ok((src, c))
}

/// The C generated from the policy at `path` must equal its golden snapshot.
fn matches_golden(path: &Path) {
    let (_, c) = generate(path).unwrap_or_else(|why| panic!("{why}"));
    snapshot_settings(GOLDEN, path).bind(|| insta::assert_snapshot!(stem(path), c));
}

// ---------------------------------------------------------------- layout

/// Everything wrong with the layout of generated C, one line per problem.
fn layout_problems(name: &str, c: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if !c.ends_with('\n') || c.ends_with("\n\n") {
        problems.push(format!("{name}: the file must end with exactly one newline"));
    }
    if c.contains('\r') {
        problems.push(format!("{name}: carriage return in the output"));
    }
    for (i, line) in c.lines().enumerate() {
        let at = format!("{name}:{}", i + 1);
        if line.ends_with([' ', '\t']) {
            problems.push(format!("{at}: trailing white space: {line:?}"));
        }
        let indent: &str = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        let tabs = indent.len() - indent.trim_start_matches('\t').len();
        let spaces = &indent[tabs..];
        if spaces.contains('\t') {
            problems.push(format!("{at}: a tab after spaces in the indentation: {line:?}"));
        } else if tabs == 0 && !spaces.is_empty() && !line.trim_start().starts_with('*') {
            // Only the continuation lines of a block comment start with a space.
            problems.push(format!("{at}: indented with spaces, not tabs: {line:?}"));
        } else if spaces.len() >= 8 {
            // Spaces after the tabs may align a continued condition, never indent.
            problems.push(format!("{at}: indented with spaces, not tabs: {line:?}"));
        }
    }
    problems
}

/// The `/* FILE:LINE  text */` comments of generated C: (line of the C,
/// file, policy line number, quoted text).
fn origin_comments(c: &str) -> Vec<(usize, String, usize, String)> {
    let mut out = Vec::new();
    for (i, line) in c.lines().enumerate() {
        let mut rest = line;
        while let Some(open) = rest.find("/* ") {
            let after = &rest[open + 3..];
            let Some(close) = after.find(" */") else { break };
            let body = &after[..close];
            rest = &after[close + 3..];
            // FILE:LINE, then two spaces and the quoted policy text.
            let Some((head, text)) = body.split_once("  ") else { continue };
            let Some((file, number)) = head.rsplit_once(':') else { continue };
            if !file.ends_with(".policy") || file.contains(' ') {
                continue;
            }
            let number = number.parse().unwrap_or(0);
            out.push((i + 1, file.to_string(), number, text.to_string()));
        }
    }
    out
}

/// Every origin comment must name the policy and quote one of its lines.
fn origin_problems(name: &str, file_name: &str, src: &str, c: &str) -> Vec<String> {
    let lines: Vec<&str> = src.lines().collect();
    let comments = origin_comments(c);
    let mut problems = Vec::new();
    if comments.is_empty() {
        problems.push(format!("{name}: the generated C has no `/* FILE:LINE  text */` comments"));
    }
    for (c_line, file, number, text) in comments {
        let at = format!("{name}: C line {c_line}");
        if file != file_name {
            problems.push(format!("{at}: comment names {file}, not {file_name}"));
            continue;
        }
        let Some(policy_line) = number.checked_sub(1).and_then(|n| lines.get(n)) else {
            problems.push(format!("{at}: comment names line {number}, but {file_name} has {} lines", lines.len()));
            continue;
        };
        // Comment delimiters in the policy are defused in the C.
        let quoted = text.replace("* /", "*/").replace("/ *", "/*");
        let policy_text = policy_line.trim();
        let matches = !quoted.is_empty()
            && policy_text.starts_with(&quoted)
            && policy_text[quoted.len()..].trim_start().chars().next().is_none_or(|c| c == '#');
        if policy_text.is_empty() || policy_text.starts_with('#') {
            problems.push(format!("{at}: comment names {file}:{number}, which holds no policy text: {policy_text:?}"));
        } else if !matches {
            problems
                .push(format!("{at}: comment quotes {file}:{number} as {quoted:?}, but that line is {policy_text:?}"));
        }
    }
    problems
}

fn check_layout_and_origins(dir: &str, min_files: usize) {
    let files = policies_in(dir);
    assert!(files.len() >= min_files, "expected at least {min_files} policies in {dir}, found {}", files.len());
    let mut problems = Vec::new();
    for path in &files {
        let (src, c) = match generate(path) {
            Ok(generated) => generated,
            Err(why) => {
                problems.push(why);
                continue;
            }
        };
        let name = display_name(path);
        let file_name = path.file_name().expect("a name").to_string_lossy().into_owned();
        problems.extend(layout_problems(&name, &c));
        problems.extend(origin_problems(&name, &file_name, &src, &c));
    }
    assert!(problems.is_empty(), "{} problem(s):\n{}", problems.len(), problems.join("\n"));
}

fn shipped_policies_generate_tidy_c_with_true_origin_comments() {
    check_layout_and_origins("policies", 4);
}

fn construct_policies_generate_tidy_c_with_true_origin_comments() {
    check_layout_and_origins("tests/constructs", 10);
}

fn layout_and_origin_checks_catch_mistakes() {
    let c = "int x;  \n    int y;\n\t    \tint z;\n\t/* a.policy:2  queue q shared fifo */\n/* a.policy:9  gone */\n";
    let problems = layout_problems("t", c);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    let src = "scheduler a \"x\"\nqueue q shared fifo   # comment\n";
    let problems = origin_problems("t", "a.policy", src, c);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("line 9"), "{problems:#?}");
    let wrong = "/* a.policy:1  queue q shared fifo */\n";
    assert_eq!(origin_problems("t", "a.policy", src, wrong).len(), 1);
}
