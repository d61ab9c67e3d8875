//! The diagnostic for an item that does not parse: where the mistake is,
//! what was expected there, and a help line shaped by the kind of item.

use pest::error::{ErrorVariant, InputLocation};

use super::builder::without_trailing_trivia;
use super::expected::{describe_expected, describe_tokens, item_shape, rule_name};
use super::lexical::slip;
use super::unclosed::unclosed_block;
use super::{Rule, ITEM_KEYWORDS};
use crate::ast::{PreferenceKind, Span, SELECT_CPU_WORDS};
use crate::diag::{Code, Diagnostic};

/// Builds the diagnostic for a syntax error in the item at `item_start`.
///
/// pest reports two positions: the furthest place a *rule* failed, and (with
/// error detail on) the furthest place a *token* failed, with the tokens it
/// wanted there. The token position is usually the better one (`param x
/// duration` fails at `duration`, wanting `:`, while the furthest rule is
/// the whole item), unless it points inside a word.
pub(super) fn syntax_error(src: &str, item_start: usize, err: &pest::error::Error<Rule>) -> Diagnostic {
    let rule_at = match err.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((s, _)) => s,
    };
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        // pest gives up with "call limit reached" or "stack limit reached"
        // on input nested deeper than its stack allows.
        ErrorVariant::CustomError { message } => {
            let at = (item_start + rule_at).min(src.len());
            let end = src[at..].chars().next().map_or(at, |c| at + c.len_utf8());
            return Diagnostic::new(Code::TooDeep, Span::new(at, end), "this is nested too deeply to parse")
                .label(format!("the parser gave up here: {message}"))
                .help(crate::diag::TOO_DEEP_HELP);
        }
    };
    let (token_at, tokens) = match err.parse_attempts() {
        Some(attempts) => {
            // Character ranges print as `a..z`; they only start names and
            // numbers, which the rules describe.
            let tokens: Vec<String> = attempts.expected_tokens().iter().map(ToString::to_string).collect();
            (attempts.max_position, tokens)
        }
        None => (rule_at, Vec::new()),
    };
    let token_names = describe_tokens(&tokens);
    let (at, expected) = if token_at > rule_at && !token_names.is_empty() {
        (item_start + token_at, token_names)
    } else {
        let mut names: Vec<&'static str> = if token_at == rule_at { token_names } else { Vec::new() };
        names.extend(positives.iter().filter_map(|r| rule_name(*r)));
        (item_start + rule_at, names)
    };
    let expected = describe_expected(expected);
    if let Some(d) = unclosed_block(src, item_start, at, expected.contains("`}`")) {
        return d;
    }
    if let Some(d) =
        src.get(at..).filter(|rest| !rest.is_empty()).and_then(|_| slip(src, at, expected.contains("a name")))
    {
        return d;
    }
    let keyword: String = src[item_start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
    let kind = if ITEM_KEYWORDS.contains(&keyword.as_str()) { Some(keyword.as_str()) } else { None };

    // A line that starts in the first column after a complete item is meant
    // as the next item (or is a statement that strayed out of its block).
    let line_start = at < src.len() && at > item_start && src.as_bytes()[at - 1] == b'\n';
    if line_start && expected.contains("the next item") {
        let found = found_token(src, at);
        let help = match names_suggest(found) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "a policy is a list of items, each starting with a keyword such as `param`, `queue` or `on`; statements go inside `on EVENT { ... }`".to_string(),
        };
        return Diagnostic::new(
            Code::Syntax,
            Span::new(at, at + found.len()),
            format!("expected an item, found `{}`", shorten(found)),
        )
        .label("not an item keyword")
        .help(help);
    }

    if let Some(d) = unknown_preference(src, at, kind) {
        return d;
    }
    if let Some(d) = route_without_condition(src, at, kind) {
        return d;
    }

    // When the mistake is on a later line than the last token of the item,
    // or is the end of the file, the missing piece belongs after that token:
    // point there rather than at the next line (or at nothing).
    let before = without_trailing_trivia(&src[item_start..at.min(src.len())]);
    let last_end = item_start + before.len();
    let later_line = at >= src.len() || src[last_end..at].contains('\n');
    if later_line && !before.is_empty() && expected != "the next item" {
        let last_start = item_start + last_token_start(before);
        let found_text = if at >= src.len() {
            "the end of the file".to_string()
        } else {
            format!("`{}`", shorten(found_token(src, at)))
        };
        let mut d = Diagnostic::new(
            Code::Syntax,
            Span::new(last_start, last_end),
            format!("expected {expected}, found {found_text}"),
        )
        .label(format!("expected {expected} after this"))
        .help(item_shape(kind));
        if let Some(kind) = kind {
            if last_start > item_start {
                d = d.related(
                    Span::new(item_start, item_start + kind.len()),
                    format!("this `{kind}` item is not finished"),
                );
            }
        }
        return d;
    }

    let found = found_token(src, at);
    let span = Span::new(at, at + found.len());
    if found.starts_with('"') && !found[1..].contains('"') {
        return Diagnostic::new(Code::Syntax, span, "this string is not closed")
            .label("the string starts here and runs to the end of the line")
            .help("end it with `\"` on the same line; a string cannot span lines");
    }
    let found_text = format!("`{}`", shorten(found));
    if kind.is_none() && at == item_start {
        let help = match names_suggest(found) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("a policy is a list of items, each starting with one of: {}", ITEM_KEYWORDS.join(", ")),
        };
        return Diagnostic::new(Code::Syntax, span, format!("expected an item, found {found_text}"))
            .label("not an item keyword")
            .help(help);
    }
    if expected == "the next item" {
        let kind = kind.unwrap_or("previous");
        return Diagnostic::new(Code::Syntax, span, format!("expected the next item, found {found_text}"))
            .label(format!("the `{kind}` item is complete before this"))
            .help(item_shape(Some(kind)));
    }
    let help = match found {
        "&&" => "write `and` instead of `&&`".to_string(),
        "||" => "write `or` instead of `||`".to_string(),
        "!" => "write `not` instead of `!`".to_string(),
        ";" => "a statement ends at the end of its line; remove the `;`".to_string(),
        "++" => "write `+= 1` instead of `++`".to_string(),
        "--" => "write `-= 1` instead of `--`".to_string(),
        ":=" => "assign with `=`".to_string(),
        "=>" => "a route is written `CONDITION -> QUEUE`".to_string(),
        "then" if expected.contains("`{`") => {
            "the `if` statement takes a block, `if CONDITION { STATEMENTS }`; `if C then A else B` is the expression form, which gives a value".to_string()
        }
        _ if kind == Some("on") && expected.starts_with("an event") => not_an_event(found),
        "." | "=" | "+=" | "-=" if kind == Some("dispatch") => {
            "`dispatch` lists the queues to serve, one per line; a statement such as `task.NAME = ...` goes in an \
             `on EVENT { ... }` item"
                .to_string()
        }
        _ if expected == "a name" && is_keyword(found) => {
            format!("`{found}` is a word of the language and cannot be used as a name")
        }
        _ => item_shape(kind),
    };
    Diagnostic::new(Code::Syntax, span, format!("expected {expected}, found {found_text}"))
        .label(format!("expected {expected} here"))
        .help(help)
}

/// A word in a `select_cpu` list that is no CPU preference (`idle`): name the
/// preferences rather than every token the parser could take there.
fn unknown_preference(src: &str, at: usize, kind: Option<&str>) -> Option<Diagnostic> {
    if kind != Some("select_cpu") || at >= src.len() {
        return None;
    }
    let found = found_token(src, at);
    let is_word = found.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if !is_word
        || !starts_line(src, at)
        || is_keyword(found)
        || PreferenceKind::from_keyword(found).is_some()
        || SELECT_CPU_WORDS.contains(&found)
    {
        return None;
    }
    let words = PreferenceKind::ALL.map(PreferenceKind::keyword);
    let list = words.map(|p| format!("`{p}`")).join(", ");
    let help = match crate::check::suggest(found, words) {
        Some(s) => format!("did you mean `{s}`? The CPU preferences are {list}"),
        None => format!(
            "the CPU preferences are {list} (`any` is any idle CPU, `idle_core` a wholly idle core; both may take `in SET`), each with an optional `when CONDITION`; then `default` and `found -> QUEUE`"
        ),
    };
    Some(
        Diagnostic::new(
            Code::Syntax,
            Span::new(at, at + found.len()),
            format!("`{}` is not a CPU preference", shorten(found)),
        )
        .label("unknown preference")
        .help(help),
    )
}

/// `-> QUEUE` with nothing before the arrow in `enqueue`: the parser sees a
/// minus sign and then `>`.
fn route_without_condition(src: &str, at: usize, kind: Option<&str>) -> Option<Diagnostic> {
    if kind != Some("enqueue") || !src[at..].starts_with('>') || !src[..at].ends_with('-') || !starts_line(src, at - 1)
    {
        return None;
    }
    Some(
        Diagnostic::new(Code::Syntax, Span::new(at - 1, at + 1), "this route has no condition")
            .label("a condition goes before the arrow")
            .help("write `CONDITION -> QUEUE`, or `else -> QUEUE` for the route every other task takes"),
    )
}

/// Whether only blanks stand before `at` on its line.
fn starts_line(src: &str, at: usize) -> bool {
    let line_start = src[..at].rfind('\n').map_or(0, |i| i + 1);
    src[line_start..at].trim().is_empty()
}

/// The token at `at`, for messages: a word, a string up to its closing
/// quote (or the end of the line), a run of operator characters, or one
/// character.
fn found_token(src: &str, at: usize) -> &str {
    let rest = &src[at..];
    let first = rest.chars().next().expect("not at the end");
    let len = if first.is_alphanumeric() || first == '_' {
        rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len())
    } else if first == '"' {
        let line = rest.find('\n').unwrap_or(rest.len());
        rest[1..line].find('"').map_or(line, |i| i + 2)
    } else if "&|!=<>+-*/%.:;,".contains(first) {
        rest.find(|c: char| !"&|!=<>+-*/%.:;,".contains(c)).unwrap_or(rest.len())
    } else {
        first.len_utf8()
    };
    // A string to the end of the line may end in a carriage return.
    rest[..len].trim_end()
}

/// Where the last token of `text` starts: a word or path, a string, a run
/// of operator characters, or one character.
fn last_token_start(text: &str) -> usize {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let operator = |c: char| "&|!=<>+-*/%:;,".contains(c);
    let start_of_run = |same: &dyn Fn(char) -> bool| {
        text.char_indices().rev().find(|(_, c)| !same(*c)).map_or(0, |(i, c)| i + c.len_utf8())
    };
    match text.chars().next_back() {
        None => 0,
        Some('"') => text[..text.len() - 1].rfind('"').unwrap_or(text.len() - 1),
        Some(c) if word(c) => start_of_run(&word),
        Some(c) if operator(c) => start_of_run(&operator),
        Some(c) => text.len() - c.len_utf8(),
    }
}

/// At most 30 characters of a token, for the message line.
fn shorten(token: &str) -> String {
    match token.char_indices().nth(30) {
        Some((i, _)) => format!("{}...", &token[..i]),
        None => token.to_string(),
    }
}

/// The help for a word after `on` that names no event: an item written as
/// an event, or a misspelt event.
fn not_an_event(found: &str) -> String {
    if ITEM_KEYWORDS.contains(&found) {
        return format!("`{found}` is an item of its own, at the top level: {}", item_shape(Some(found)));
    }
    let events = crate::ast::Event::ALL.map(crate::ast::Event::keyword);
    match crate::check::suggest(found, events.into_iter().chain(["timer"])) {
        Some(near) => format!("did you mean `{near}`?"),
        None => item_shape(Some("on")),
    }
}

fn is_keyword(word: &str) -> bool {
    ["and", "or", "not", "is", "if", "then", "else", "let", "every", "trace", "true", "false", "on", "in"]
        .contains(&word)
}

fn names_suggest(word: &str) -> Option<&'static str> {
    crate::check::suggest(word, ITEM_KEYWORDS.iter().copied())
}
