//! Golden files: the C generated from every policy in `policies/` is kept in
//! `tests/golden/NAME.bpf.c`, so that any change to the generated code shows
//! up in review. Run with `SCHEDC_BLESS=1` to rewrite them after reviewing a
//! change to lowering or the templates.
//!
//! The generated C of those policies, and of the construct policies in
//! `tests/constructs/`, must also be laid out as the kernel's C is (tabs for
//! indentation, no trailing white space), and every `/* FILE:LINE  text */`
//! comment must quote the policy line it names.

mod common;

use common::{blessing, display_name, policies_in, render, root};

use std::fs;
use std::path::Path;

use schedc_compiler::{check_source, generate_c};

fn stem(path: &Path) -> String {
    path.file_stem().expect("a file name").to_string_lossy().into_owned()
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

/// A unified-style diff of the first place where `want` and `got` differ:
/// three common lines before it as context, what was expected (`-`), what
/// was generated (`+`), and three common lines after it, where the two sides
/// agree again. Long runs are cut short; later differences are only noted.
fn first_difference(want: &str, got: &str) -> String {
    const CONTEXT: usize = 3;
    const MAX_LINES: usize = 15;
    const WINDOW: usize = 200;
    let (w, g): (Vec<&str>, Vec<&str>) = (want.lines().collect(), got.lines().collect());
    let prefix = w.iter().zip(&g).take_while(|(a, b)| a == b).count();
    if prefix == w.len() && prefix == g.len() {
        return "  (the files differ only in their final newline)\n".to_string();
    }
    // The two sides agree again at (a, b) when the next few lines match, or
    // both have ended.
    let agree = |a: usize, b: usize| {
        let n = CONTEXT.min(w.len() - a).min(g.len() - b);
        (a == w.len() && b == g.len())
            || (n > 0 && w[a..a + n] == g[b..b + n] && (n == CONTEXT || (a + n == w.len() && b + n == g.len())))
    };
    let (mut w_end, mut g_end) = (w.len(), g.len());
    'search: for total in 1..=2 * WINDOW {
        for i in 0..=total {
            let (a, b) = (prefix + i, prefix + total - i);
            if a <= w.len() && b <= g.len() && agree(a, b) {
                (w_end, g_end) = (a, b);
                break 'search;
            }
        }
    }
    let start = prefix.saturating_sub(CONTEXT);
    let after = CONTEXT.min(w.len() - w_end).min(g.len() - g_end);
    let mut out = format!("@@ -{},{} +{},{} @@\n", start + 1, w_end + after - start, start + 1, g_end + after - start);
    for line in &w[start..prefix] {
        out.push_str(&format!(" {line}\n"));
    }
    for (sign, lines) in [('-', &w[prefix..w_end]), ('+', &g[prefix..g_end])] {
        for line in lines.iter().take(MAX_LINES) {
            out.push_str(&format!("{sign}{line}\n"));
        }
        if lines.len() > MAX_LINES {
            out.push_str(&format!("{sign}... ({} more lines)\n", lines.len() - MAX_LINES));
        }
    }
    for line in &w[w_end..w_end + after] {
        out.push_str(&format!(" {line}\n"));
    }
    if w[w_end..] != g[g_end..] {
        out.push_str("(more differences further down)\n");
    }
    out
}

#[test]
fn generated_c_matches_the_golden_files() {
    let files = policies_in("policies");
    assert!(files.len() >= 4, "the four shipped policies are there");
    let golden_dir = root().join("tests/golden");
    let bless = blessing();
    if bless {
        fs::create_dir_all(&golden_dir).expect("tests/golden is writable");
    }
    let mut failures = Vec::new();
    for path in &files {
        let c = match generate(path) {
            Ok((_, c)) => c,
            Err(why) => {
                failures.push(why);
                continue;
            }
        };
        let golden = golden_dir.join(format!("{}.bpf.c", stem(path)));
        let golden_name = display_name(&golden);
        if bless {
            fs::write(&golden, &c).unwrap_or_else(|e| panic!("cannot write {golden_name}: {e}"));
            continue;
        }
        match fs::read_to_string(&golden) {
            Ok(want) if want == c => {}
            Ok(want) => failures.push(format!(
                "{}: the generated C differs from {golden_name} (run with SCHEDC_BLESS=1 to accept it):\n{}",
                display_name(path),
                first_difference(&want, &c)
            )),
            Err(_) => {
                failures.push(format!("{}: no golden file {golden_name}; run with SCHEDC_BLESS=1", display_name(path)))
            }
        }
    }
    // A golden file whose policy is gone is a leftover.
    for entry in fs::read_dir(&golden_dir).expect("tests/golden is readable") {
        let p = entry.expect("entry").path();
        let name = p.file_name().expect("a name").to_string_lossy().into_owned();
        let Some(policy) = name.strip_suffix(".bpf.c") else {
            failures.push(format!("{}: not a golden file (expected NAME.bpf.c)", display_name(&p)));
            continue;
        };
        if !root().join("policies").join(format!("{policy}.policy")).exists() {
            failures.push(format!("{}: golden file without a policy", display_name(&p)));
        }
    }
    assert!(failures.is_empty(), "{} problem(s):\n\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn first_difference_shows_context_and_both_sides() {
    let want = "a\nb\nc\nd\ne\nf\ng\n";
    let got = "a\nb\nc\nd\nX\nY\nf\ng\n";
    let diff = first_difference(want, got);
    assert_eq!(diff, "@@ -2,6 +2,7 @@\n b\n c\n d\n-e\n+X\n+Y\n f\n g\n");
    assert!(first_difference("a\n", "a").contains("final newline"));
    // Only the first of two separate changes is shown.
    let want = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
    let got = "1\n2\nthree\n4\n5\n6\n7\n8\n9\nten\n11\n12\n";
    let diff = first_difference(want, got);
    assert_eq!(diff, "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n(more differences further down)\n");
    // Lines added at the end.
    assert_eq!(first_difference("a\nb\n", "a\nb\nc\n"), "@@ -1,2 +1,3 @@\n a\n b\n+c\n");
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

#[test]
fn shipped_policies_generate_tidy_c_with_true_origin_comments() {
    check_layout_and_origins("policies", 4);
}

#[test]
fn construct_policies_generate_tidy_c_with_true_origin_comments() {
    check_layout_and_origins("tests/constructs", 10);
}

#[test]
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
