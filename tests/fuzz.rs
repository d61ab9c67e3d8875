//! No input makes the front end panic: random bytes, and the shipped policies
//! with random damage, all go through `check_source`, and every report it
//! returns is drawn with `render_plain`. Every span must lie inside the
//! source, on character boundaries.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use proptest::prelude::*;
use proptest::test_runner::Config;

use schedc_compiler::{check_source, Report};

fn policies_in(dir: &str) -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{} is readable: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "policy"))
        .collect();
    files.sort();
    files.iter().map(|p| fs::read_to_string(p).expect("readable")).collect()
}

/// The policies to damage: the shipped ones, and the bad and questionable
/// ones of the snapshot tests, which reach other corners of the checker.
fn corpus() -> &'static [String] {
    static CORPUS: OnceLock<Vec<String>> = OnceLock::new();
    CORPUS.get_or_init(|| [shipped().to_vec(), policies_in("tests/bad"), policies_in("tests/warn")].concat())
}

fn shipped() -> &'static [String] {
    static SHIPPED: OnceLock<Vec<String>> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        let shipped = policies_in("policies");
        assert!(shipped.len() >= 4, "the shipped policies are there");
        shipped
    })
}

/// Checks `src` and draws every report; panics (failing the property) if
/// anything is out of place.
fn check_and_render(src: &str) {
    let reports: Vec<Report> = match check_source("fuzz.policy", src) {
        Ok(checked) => checked.warnings,
        Err(reports) => {
            assert!(reports.iter().any(|r| r.diagnostic.is_error()), "Err without an error for {src:?}");
            reports
        }
    };
    for report in &reports {
        let d = &report.diagnostic;
        let spans = std::iter::once(&d.span).chain(d.related.iter().map(|(s, _)| s));
        for span in spans {
            assert!(
                span.start <= span.end && span.end <= src.len(),
                "span {span:?} outside a {}-byte source: {d:?}",
                src.len()
            );
            assert!(
                src.is_char_boundary(span.start) && src.is_char_boundary(span.end),
                "span {span:?} splits a character: {d:?}"
            );
        }
        assert!(!d.message.is_empty(), "a diagnostic without a message: {d:?}");
        let drawn = report.render_plain(100);
        assert!(drawn.contains(d.code.as_str()), "the drawing names the code {}: {drawn}", d.code);
    }
}

/// Pieces of policy text, so that insertions make near-miss policies rather
/// than only noise.
const TOKENS: &[&str] = &[
    "scheduler",
    "param",
    "queue",
    "class",
    "task",
    "global",
    "counter",
    "gauge",
    "on",
    "select_cpu",
    "enqueue",
    "dispatch",
    "slice",
    "vtime",
    "preempt",
    "charge",
    "lag",
    "per_cpu",
    "shared",
    "fifo",
    "vtime",
    "join",
    "wakeup",
    "running",
    "stopping",
    "default",
    "pinned",
    "prev_core",
    "idle_core",
    "prev",
    "any",
    "found",
    "kick",
    "else",
    "starve",
    "after",
    "let",
    "if",
    "then",
    "every",
    "trace",
    "and",
    "or",
    "not",
    "is",
    "in",
    "true",
    "false",
    "none",
    "task.weight",
    "task.class",
    "task.slice_left",
    "task.comm",
    "system.now",
    "system.vtime_now",
    "event.sync",
    "queue.shared.len",
    "queue.x.inserted",
    "elapsed",
    "min(",
    "max(",
    "clamp(",
    "ewma(",
    "int(",
    "uint(",
    "0",
    "1",
    "-1",
    "0ns",
    "5ms",
    "1_000us",
    "99999999999999999999999999",
    "31s",
    "{",
    "}",
    "(",
    ")",
    ",",
    ":",
    "=",
    "+=",
    "-=",
    "->",
    "..",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "\"",
    "\"text\"",
    "#",
    "\n",
    " ",
    "\t",
    "duration",
    "time",
    "uint",
    "int",
    "bool",
    "é",
    "\u{1F600}",
    "\r\n",
    "\\",
    "%d",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// Delete the characters in [a, b) (positions as fractions of the length).
    Delete(f64, f64),
    /// Insert a token at a position.
    Insert(f64, usize),
    /// Insert arbitrary text at a position.
    InsertText(f64, String),
    /// Copy [a, b) to position c.
    Duplicate(f64, f64, f64),
    /// Swap two pieces of text: [a, a+len) and [b, b+len).
    SwapSpans(f64, f64, f64),
    /// Swap the words at two positions of the token list.
    SwapWords(f64, f64),
    /// Repeat a word.
    DuplicateWord(f64),
    /// Delete a word.
    DeleteWord(f64),
    /// Replace a word with a token.
    ReplaceWord(f64, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), 0.0..0.2f64).prop_map(|(a, len)| Mutation::Delete(a, (a + len).min(1.0))),
        (at.clone(), 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        (at.clone(), "\\PC{0,8}").prop_map(|(a, s)| Mutation::InsertText(a, s)),
        (at.clone(), 0.0..0.2f64, at.clone()).prop_map(|(a, len, c)| Mutation::Duplicate(a, (a + len).min(1.0), c)),
        (at.clone(), 0.0..0.1f64, at.clone()).prop_map(|(a, len, b)| Mutation::SwapSpans(a, len, b)),
        (at.clone(), at.clone()).prop_map(|(a, b)| Mutation::SwapWords(a, b)),
        at.clone().prop_map(Mutation::DuplicateWord),
        at.clone().prop_map(Mutation::DeleteWord),
        (at, 0..TOKENS.len()).prop_map(|(a, t)| Mutation::ReplaceWord(a, t)),
    ]
}

/// The char boundary nearest below `fraction` of the way through `s`.
fn boundary(s: &str, fraction: f64) -> usize {
    let mut at = ((s.len() as f64) * fraction) as usize;
    at = at.min(s.len());
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Splits text into words, runs of white space and single other characters.
fn words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let kind = |c: char| {
        if c.is_alphanumeric() || c == '_' || c == '.' {
            0
        } else if c.is_whitespace() {
            1
        } else {
            2
        }
    };
    for c in s.chars() {
        match out.last_mut() {
            Some(last) if kind(c) != 2 && last.chars().next().map(kind) == Some(kind(c)) => last.push(c),
            _ => out.push(c.to_string()),
        }
    }
    out
}

fn pick(len: usize, fraction: f64) -> usize {
    ((len as f64 * fraction) as usize).min(len.saturating_sub(1))
}

fn apply(src: &str, m: &Mutation) -> String {
    let mut s = src.to_string();
    match m {
        Mutation::Delete(a, b) => {
            let (a, b) = (boundary(&s, *a), boundary(&s, *b));
            s.replace_range(a..b.max(a), "");
        }
        Mutation::Insert(a, t) => s.insert_str(boundary(&s, *a), TOKENS[*t]),
        Mutation::InsertText(a, t) => s.insert_str(boundary(&s, *a), t),
        Mutation::Duplicate(a, b, c) => {
            let (a, b) = (boundary(&s, *a), boundary(&s, *b));
            let piece = s[a..b.max(a)].to_string();
            s.insert_str(boundary(&s, *c), &piece);
        }
        Mutation::SwapSpans(a, len, b) => {
            // Two non-overlapping pieces, the first before the second.
            let (a, b) = if a <= b { (*a, *b) } else { (*b, *a) };
            let (a0, a1) = (boundary(&s, a), boundary(&s, (a + len).min(b)));
            let (b0, b1) = (boundary(&s, b), boundary(&s, (b + len).min(1.0)));
            if a1 <= b0 {
                s = format!("{}{}{}{}{}", &s[..a0], &s[b0..b1], &s[a1..b0], &s[a0..a1], &s[b1..]);
            }
        }
        Mutation::DuplicateWord(a) => {
            let mut w = words(&s);
            if !w.is_empty() {
                let i = pick(w.len(), *a);
                w.insert(i, w[i].clone());
                s = w.concat();
            }
        }
        Mutation::SwapWords(a, b) => {
            let mut w = words(&s);
            if !w.is_empty() {
                let (i, j) = (pick(w.len(), *a), pick(w.len(), *b));
                w.swap(i, j);
                s = w.concat();
            }
        }
        Mutation::DeleteWord(a) => {
            let mut w = words(&s);
            if !w.is_empty() {
                w.remove(pick(w.len(), *a));
                s = w.concat();
            }
        }
        Mutation::ReplaceWord(a, t) => {
            let mut w = words(&s);
            if !w.is_empty() {
                let i = pick(w.len(), *a);
                w[i] = TOKENS[*t].to_string();
                s = w.concat();
            }
        }
    }
    s
}

fn fuzz_cases() -> u32 {
    std::env::var("SCHEDC_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(512)
}

proptest! {
    // SCHEDC_FUZZ_CASES=100000 for a longer hunt.
    #![proptest_config(Config { cases: fuzz_cases(), failure_persistence: None, ..Config::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let src = String::from_utf8_lossy(&bytes);
        check_and_render(&src);
    }

    #[test]
    fn random_token_soup_never_panics(tokens in proptest::collection::vec(0..TOKENS.len(), 0..80)) {
        let src: String = tokens.iter().map(|t| TOKENS[*t]).collect::<Vec<_>>().join(" ");
        check_and_render(&src);
    }

    #[test]
    fn damaged_shipped_policies_never_panic(
        which in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let shipped = shipped();
        let mut src = shipped[which % shipped.len()].clone();
        for m in &mutations {
            src = apply(&src, m);
        }
        check_and_render(&src);
    }

    #[test]
    fn damaged_test_policies_never_panic(
        which in any::<usize>(),
        mutations in proptest::collection::vec(mutation(), 1..5),
    ) {
        let corpus = corpus();
        let mut src = corpus[which % corpus.len()].clone();
        for m in &mutations {
            src = apply(&src, m);
        }
        check_and_render(&src);
    }
}

/// Deep nesting must not overflow the stack: the parser and the checker are
/// recursive, so the parser refuses nesting beyond a limit with a diagnostic.
#[test]
fn deep_nesting_is_refused_not_a_crash() {
    let head =
        "scheduler deep \"deep nesting\" timeout 5s\nqueue q shared fifo\nenqueue { else -> q }\ndispatch { q }\n";
    for n in [10, 100, 1_000, 10_000, 50_000] {
        let cases = [
            format!("slice = {}5ms{}\n", "(".repeat(n), ")".repeat(n)),
            format!("slice = {}5ms\n", "- ".repeat(n)),
            format!("slice = {}5ms\n", "-".repeat(n)),
            format!("slice = if {}true then 5ms else 1ms\n", "not ".repeat(n)),
            format!("slice = 1ms{}\n", " + 1ms".repeat(n)),
            format!("slice = {}1ms{}\n", "min(1ms, ".repeat(n), ")".repeat(n)),
            format!("slice = {}5ms{}\n", "if true then ".repeat(n), " else 1ms".repeat(n)),
            format!(
                "on running {{ {} task.slice_left = 1ms {} }}\nslice = 5ms\n",
                "if true { ".repeat(n),
                "}".repeat(n)
            ),
            format!("on running {{ {} }}\nslice = 5ms\n", "if true { } else ".repeat(n) + "{ }"),
        ];
        for case in cases {
            let src = format!("{head}{case}");
            // Run in a thread with a small stack, like a test thread or a
            // command line tool with a modest stack would have.
            let result = std::thread::Builder::new()
                .stack_size(2 << 20)
                .spawn(move || check_and_render(&src))
                .expect("thread starts")
                .join();
            assert!(result.is_ok(), "nesting {n} panicked");
        }
    }
}

/// A line too long to show whole (miette cannot even draw a label 65535
/// columns in) is cut around the mistake, which keeps its line and column.
#[test]
fn mistakes_far_into_a_long_line_are_drawn_on_the_line_cut_around_them() {
    let head =
        "scheduler wide \"a very long line\" timeout 5s\nqueue q shared fifo\nenqueue { else -> q }\ndispatch { q }\n";
    for (pad, tail) in [(" ", "+ 1"), ("\t", "+ 1"), ("é", ""), (" ", "+ nope")] {
        let src = format!("{head}slice = 5ms {}{tail}\n", pad.repeat(200_000));
        let result = check_source("wide.policy", &src);
        let reports = match result {
            Ok(checked) => checked.warnings,
            Err(reports) => reports,
        };
        assert!(!reports.is_empty(), "a mistake far into the line is found");
        for report in &reports {
            let drawn = report.render_plain(100);
            assert!(drawn.contains("[wide.policy:5:"), "the location is given: {drawn}");
            assert!(drawn.lines().all(|l| l.chars().count() < 200), "the line is cut: {drawn}");
            assert!(drawn.contains(" 5 │ ") && drawn.contains('…'), "the line is cut: {drawn}");
        }
    }
    // A mistake near the start of a long line keeps the start of the line.
    let src = format!("{head}slice = 5ms + 1 {}\n", "#".repeat(200_000));
    let reports = check_source("wide.policy", &src).expect_err("5ms + 1 is wrong");
    let drawn = reports[0].render_plain(100);
    assert!(drawn.contains("╭─[wide.policy:5:9]") && drawn.contains(" 5 │ slice = 5ms + 1 ###"), "{drawn}");
    assert!(drawn.lines().all(|l| l.chars().count() < 200), "{drawn}");
}
