//! The editor files in `editors/` must keep up with the grammar: every word
//! the grammar knows is highlighted by the TextMate grammar and the Vim
//! syntax, and every TextMate pattern is a valid regular expression.

use std::collections::BTreeSet;
use std::path::Path;

fn read(rel: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The words of the language: every quoted alphabetic literal of the grammar
/// except the duration units, which only count after digits.
fn grammar_words() -> BTreeSet<String> {
    let grammar = read("compiler/src/grammar.pest");
    let mut words = BTreeSet::new();
    for piece in grammar.split('"').skip(1).step_by(2) {
        let unit = ["ns", "us", "ms"].contains(&piece);
        if !unit && piece.len() > 1 && piece.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
            words.insert(piece.to_string());
        }
    }
    assert!(words.len() > 40, "too few words read from the grammar: {words:?}");
    words
}

/// Every `match`, `begin` and `end` pattern of a TextMate grammar.
fn textmate_patterns(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("match" | "begin" | "end", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => textmate_patterns(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| textmate_patterns(v, out)),
        _ => {}
    }
}

#[test]
fn textmate_grammar_covers_every_word_and_compiles() {
    let json: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/syntaxes/schedc.tmLanguage.json")).expect("valid JSON");
    let mut patterns = Vec::new();
    textmate_patterns(&json, &mut patterns);
    let compiled: Vec<fancy_regex::Regex> = patterns
        .iter()
        .map(|p| fancy_regex::Regex::new(p).unwrap_or_else(|e| panic!("pattern {p:?} does not compile: {e}")))
        .collect();
    let missing: Vec<String> = grammar_words()
        .into_iter()
        .filter(|w| !compiled.iter().any(|re| re.find(w).ok().flatten().is_some_and(|m| m.as_str() == w)))
        .collect();
    assert!(missing.is_empty(), "words of the grammar the TextMate grammar does not highlight: {missing:?}");
}

#[test]
fn textmate_grammar_marks_durations_facts_and_comments() {
    let json: serde_json::Value =
        serde_json::from_str(&read("editors/vscode/syntaxes/schedc.tmLanguage.json")).expect("valid JSON");
    let pattern = |path: &[&str]| {
        let mut v = &json["repository"];
        for key in path {
            v = if let Ok(i) = key.parse::<usize>() { &v[i] } else { &v[key] };
        }
        fancy_regex::Regex::new(v["match"].as_str().expect("a match pattern")).expect("compiles")
    };
    let duration = pattern(&["literal", "patterns", "0"]);
    for text in ["5ms", "500us", "1_000ns", "1s"] {
        assert_eq!(duration.find(text).unwrap().map(|m| m.as_str()), Some(text));
    }
    assert!(duration.find("slice_max").unwrap().is_none());
    let fact = pattern(&["fact"]);
    assert_eq!(fact.find("x + task.nvcsw").unwrap().map(|m| m.as_str()), Some("task.nvcsw"));
    assert_eq!(fact.find("queue.prio.len").unwrap().map(|m| m.as_str()), Some("queue.prio.len"));
    let comment = pattern(&["comment"]);
    assert_eq!(comment.find("x = 1 # why").unwrap().map(|m| m.as_str()), Some("# why"));
}

#[test]
fn vim_syntax_covers_every_word() {
    let vim = read("editors/vim/syntax/schedc.vim");
    let known: BTreeSet<&str> = vim
        .lines()
        .filter(|l| l.starts_with("syn keyword") || l.starts_with("syn match"))
        .flat_map(|l| l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')))
        .collect();
    let missing: Vec<String> = grammar_words().into_iter().filter(|w| !known.contains(w.as_str())).collect();
    assert!(missing.is_empty(), "words of the grammar the Vim syntax does not highlight: {missing:?}");
}
