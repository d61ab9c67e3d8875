//! Syntax errors that are slips of spelling rather than of structure: a
//! number apart from its unit (`5 ms`), a fraction (`1.5ms`), a unit the
//! language does not have (`1sec`), a name beyond ASCII (`größe`), a
//! typographic character (`≤`, `“`). Each is recognised from the text where
//! the parser stopped and explained with what to write instead.

use schedc_abi::units::{self, DurationError};

use crate::ast::Span;
use crate::diag::{Code, Diagnostic};

/// The slip at `at`, where the parser stopped (wanting a name if
/// `wants_name`), if it is one of these.
pub(super) fn slip(src: &str, at: usize, wants_name: bool) -> Option<Diagnostic> {
    let c = src[at..].chars().next()?;
    if c == '.' {
        return fraction_at(src, at);
    }
    if !is_word(c) {
        return typographic(at, c);
    }
    let (start, end) = word_around(src, at);
    let word = &src[start..end];
    if word.starts_with(|c: char| c.is_ascii_digit()) && wants_name {
        let digits_end = word.find(|c: char| !c.is_ascii_digit()).unwrap_or(word.len());
        let rest = word[digits_end..].trim_start_matches('_');
        let instead = if rest.is_empty() { format!("n{word}") } else { format!("{rest}{}", &word[..digits_end]) };
        return Some(
            Diagnostic::new(Code::Syntax, Span::new(start, end), format!("`{word}` starts with a digit"))
                .label("not a name")
                .help(format!("a name starts with a letter, e.g. `{instead}`")),
        );
    }
    if word.starts_with(|c: char| c.is_ascii_digit()) {
        return unit_after_number(word, Span::new(start, end));
    }
    if let Some(d) = spaced_unit(src, start, end) {
        return Some(d);
    }
    (!word.is_ascii()).then(|| non_ascii_name(word, Span::new(start, end)))
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The run of letters, digits and `_` (in any script) around `at`.
fn word_around(src: &str, at: usize) -> (usize, usize) {
    let start = src[..at].char_indices().rev().take_while(|(_, c)| is_word(*c)).last().map_or(at, |(i, _)| i);
    let end = src[at..].find(|c: char| !is_word(c)).map_or(src.len(), |i| at + i);
    (start, end)
}

/// Units as other tools spell them, and how schedc spells them.
const UNIT_SPELLINGS: &[(&str, &str)] = &[
    ("sec", "s"),
    ("secs", "s"),
    ("second", "s"),
    ("seconds", "s"),
    ("msec", "ms"),
    ("msecs", "ms"),
    ("millis", "ms"),
    ("millisecond", "ms"),
    ("milliseconds", "ms"),
    ("usec", "us"),
    ("usecs", "us"),
    ("micros", "us"),
    ("microsecond", "us"),
    ("microseconds", "us"),
    ("nsec", "ns"),
    ("nsecs", "ns"),
    ("nanos", "ns"),
    ("nanosecond", "ns"),
    ("nanoseconds", "ns"),
];

/// How to write `digits` followed by what looks like a unit, if it does.
fn as_duration(digits: &str, unit: &str) -> Option<String> {
    if units::UNITS.iter().any(|(name, _)| *name == unit) {
        return Some(format!("{digits}{unit}"));
    }
    let lower = unit.to_ascii_lowercase();
    if let Some((_, ours)) = UNIT_SPELLINGS.iter().find(|(theirs, _)| *theirs == lower) {
        return Some(format!("{digits}{ours}"));
    }
    match lower.as_str() {
        "m" | "min" | "mins" | "minute" | "minutes" => whole_seconds(digits, 60),
        "h" | "hr" | "hrs" | "hour" | "hours" => whole_seconds(digits, 3600),
        _ => None,
    }
}

/// `digits` minutes or hours as seconds, the longest unit there is.
fn whole_seconds(digits: &str, per: u64) -> Option<String> {
    let n: u64 = digits.replace('_', "").parse().ok()?;
    Some(format!("{}s", n.checked_mul(per)?))
}

/// Letters after a number that are not a unit (`1sec`, `10x`).
fn unit_after_number(word: &str, span: Span) -> Option<Diagnostic> {
    let digits_end = word.find(|c: char| !(c.is_ascii_digit() || c == '_')).unwrap_or(word.len());
    let (digits, letters) = word.split_at(digits_end);
    if letters.is_empty() {
        return None;
    }
    let help = match as_duration(digits, letters) {
        Some(duration) => format!("write `{duration}`"),
        None => "a number may be followed by a unit only: ns, us (or µs), ms or s, as in `5ms`".to_string(),
    };
    Some(
        Diagnostic::new(Code::Syntax, span, format!("`{letters}` is not a unit"))
            .label("not a number or a duration")
            .help(help),
    )
}

/// A decimal point at `at` between digits: `1.5ms`, `0.75`.
fn fraction_at(src: &str, at: usize) -> Option<Diagnostic> {
    let (start, _) = word_around(src, at);
    let whole = &src[start..at];
    let numeric =
        whole.starts_with(|c: char| c.is_ascii_digit()) && whole.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    let after_a_name = src[..start].ends_with('.');
    if !numeric || after_a_name || !src[at + 1..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (_, end) = word_around(src, at + 1);
    Some(fraction(&src[start..end], Span::new(start, end)))
}

/// `1.5ms` or `0.75`: there are no fractions.
fn fraction(text: &str, span: Span) -> Diagnostic {
    let d = Diagnostic::new(Code::Syntax, span, "numbers and durations are whole").label("a fraction");
    match units::parse(text) {
        Err(DurationError::Fraction { exact: Some(exact), .. }) => {
            d.help(format!("write it in a smaller unit: `{exact}`"))
        }
        Err(DurationError::Fraction { exact: None, .. }) if text.ends_with(|c: char| c.is_ascii_alphabetic()) => {
            d.help("durations are whole numbers of ns, us, ms or s; round it to whole nanoseconds")
        }
        _ => d.help(format!("scale by whole numbers instead: {}", ratio(text))),
    }
}

/// `1.5` as `* 3 / 2`, for the help line.
fn ratio(text: &str) -> String {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let fraction: String = fraction.chars().take_while(char::is_ascii_digit).take(9).collect();
    let scale = 10u64.pow(fraction.len() as u32);
    let value = format!("{whole}{fraction}").replace('_', "").parse::<u64>().ok();
    match value {
        Some(n) if n > 0 => {
            let g = gcd(n, scale);
            format!("multiply by `{}` and divide by `{}` rather than multiply by `{text}`", n / g, scale / g)
        }
        _ => format!("multiply and divide by whole numbers rather than by `{text}`"),
    }
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `5 ms`: a number and its unit apart.
fn spaced_unit(src: &str, start: usize, end: usize) -> Option<Diagnostic> {
    let unit = &src[start..end];
    let before = src[..start].trim_end_matches([' ', '\t']);
    if before.len() == start {
        return None;
    }
    // The character before the digits may be wider than one byte (`é5 ms`).
    let digits_start = before
        .char_indices()
        .rev()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let digits = &before[digits_start..];
    let starts_a_number = digits.starts_with(|c: char| c.is_ascii_digit());
    let stands_alone = !before[..digits_start].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == '.');
    if !starts_a_number || !stands_alone {
        return None;
    }
    let duration = as_duration(digits, unit)?;
    Some(
        Diagnostic::new(Code::Syntax, Span::new(digits_start, end), "a number and its unit are written together")
            .label("a space before the unit")
            .help(format!("write `{duration}`")),
    )
}

/// A name with letters beyond ASCII.
fn non_ascii_name(word: &str, span: Span) -> Diagnostic {
    let first = word.chars().find(|c| !c.is_ascii()).expect("the word has a non-ASCII letter");
    let ascii: String = word.chars().map(ascii_spelling).collect();
    let help = if ascii.starts_with(|c: char| c.is_ascii_alphabetic()) {
        format!("names use ASCII letters, digits and `_` only (they become C names), e.g. `{ascii}`")
    } else {
        "names use ASCII letters, digits and `_` only (they become C names)".to_string()
    };
    Diagnostic::new(Code::Syntax, span, format!("`{word}` is not an ASCII name"))
        .label(format!("`{first}` is not ASCII"))
        .help(help)
}

/// A letter in ASCII: without its accent where it has one, else `_`.
fn ascii_spelling(c: char) -> String {
    let lower = c.to_lowercase().next().unwrap_or(c);
    let plain = match lower {
        c if c.is_ascii() => return c.to_string(),
        'à'..='å' | 'ā' | 'ă' | 'ą' => "a",
        'æ' => "ae",
        'ç' | 'ć' | 'č' => "c",
        'è'..='ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì'..='ï' | 'ī' | 'ı' => "i",
        'ñ' | 'ń' | 'ň' => "n",
        'ò'..='ö' | 'ø' | 'ō' | 'ő' => "o",
        'œ' => "oe",
        'ß' => "ss",
        'ś' | 'š' => "s",
        'ù'..='ü' | 'ū' | 'ů' | 'ű' => "u",
        'ý' | 'ÿ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'ł' => "l",
        _ => "_",
    };
    plain.to_string()
}

/// Characters word processors and web pages put in, and what to write.
const TYPOGRAPHIC: &[(char, &str)] = &[
    ('≤', "write `<=`"),
    ('≥', "write `>=`"),
    ('≠', "write `!=`"),
    ('→', "write `->`"),
    ('×', "write `*`"),
    ('÷', "write `/`"),
    ('−', "write `-`"),
    ('–', "write `-`"),
    ('“', "write `\"`"),
    ('”', "write `\"`"),
    ('„', "write `\"`"),
    ('\u{a0}', "a no-break space: write a plain space"),
    ('\u{200b}', "an invisible zero-width space: remove it"),
    ('\u{feff}', "an invisible byte-order mark (U+FEFF): remove it"),
];

fn typographic(at: usize, c: char) -> Option<Diagnostic> {
    let (_, help) = TYPOGRAPHIC.iter().find(|(t, _)| *t == c)?;
    let shown = if c.is_whitespace() || c.is_control() || matches!(c, '\u{200b}' | '\u{feff}') {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("`{c}`")
    };
    Some(
        Diagnostic::new(Code::Syntax, Span::new(at, at + c.len_utf8()), format!("{shown} is not part of the language"))
            .label("a typographic character")
            .help(*help),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn help_at(src: &str, token: &str) -> String {
        let at = src.find(token).expect("token in source");
        let d = slip(src, at, false).unwrap_or_else(|| panic!("no slip found in {src:?}"));
        format!("{}: {}", &src[d.span.start..d.span.end], d.help)
    }

    #[test]
    fn units_apart_misspelt_or_fractional() {
        assert_eq!(help_at("slice = 5 ms", "ms"), "5 ms: write `5ms`");
        assert_eq!(help_at("slice = 5 sec", "sec"), "5 sec: write `5s`");
        assert_eq!(help_at("slice = 1sec", "1sec"), "1sec: write `1s`");
        assert_eq!(help_at("timeout 2min", "2min"), "2min: write `120s`");
        assert_eq!(help_at("slice = 1.5ms", "."), "1.5ms: write it in a smaller unit: `1500us`");
        assert_eq!(
            help_at("x * 1.25", "."),
            "1.25: scale by whole numbers instead: multiply by `5` and divide by `4` rather than multiply by `1.25`"
        );
        assert!(help_at("slice = 10x", "10x").starts_with("10x: a number may be followed by a unit only"));
    }

    #[test]
    fn a_wide_character_before_a_spaced_unit() {
        // Found by the damaged-policy fuzz test: the digits' start was taken
        // one byte after the character before them, inside `é`.
        let src = "slice = é5 ms";
        assert!(slip(src, src.find("ms").unwrap(), false).is_none(), "`é5` is not a number standing alone");
        assert_eq!(help_at("slice = (5 ms", "ms"), "5 ms: write `5ms`");
    }

    #[test]
    fn names_beyond_ascii_and_typographic_characters() {
        assert_eq!(
            help_at("param größe: uint", "öße"),
            "größe: names use ASCII letters, digits and `_` only (they become C names), e.g. `grosse`"
        );
        assert_eq!(help_at("x ≤ 5", "≤"), "≤: write `<=`");
        assert_eq!(help_at("trace “hi”", "“"), "“: write `\"`");
        assert_eq!(help_at("x =\u{a0}1", "\u{a0}"), "\u{a0}: a no-break space: write a plain space");
    }

    #[test]
    fn other_mistakes_are_left_to_the_parser() {
        assert!(slip("slice = a ms", "slice = a ms".find("ms").unwrap(), false).is_none(), "`a ms` is not a number");
        assert!(slip("x.5", 1, false).is_none());
        assert!(slip("queue q lifo", 8, false).is_none());
        assert!(slip("x = 5ms;", 7, false).is_none(), "the `;` is for the parser to explain");
        let name = slip("param 2fast: uint", 6, true).expect("a slip");
        assert_eq!(name.help, "a name starts with a letter, e.g. `fast2`");
    }
}
